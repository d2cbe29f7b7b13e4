/** `cnn run`: one forward pass on an image or an .npy array. */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadInput } from '../../engine/input/load-input';
import { writeNpy } from '../../engine/input/npy';
import { defaultNormalization } from '../../engine/input/preprocess';
import { IMAGENET_CLASSES, parseLabels, topK, type TopEntry } from '../../engine/labels';
import { inputShapeOf, outputShapeOf } from '../../engine/session';
import { table } from '../format';
import { CliError, type Command } from '../main';
import { backendOptions, openBackend } from './backend';
import { loadModel, modelOptions, readBytes } from './model';
import { intOption, numberList } from './options';

function labelsFor(values: Record<string, unknown>, classes: number): string[] | undefined {
  const file = values.labels as string | undefined;
  if (file === undefined) return classes === 1000 ? [...IMAGENET_CLASSES] : undefined;
  let labels: string[];
  try {
    labels = parseLabels(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `labels ${file}: no such file` : `labels ${file}: ${(e as Error).message.replace(/^labels: /, '')}`);
  }
  if (labels.length !== classes) throw new CliError(`labels ${file}: ${labels.length} names for an output of ${classes} classes`);
  return labels;
}

export const runCommand: Command = {
  summary: 'one forward pass on an image or .npy array',
  usage:
    'cnn run FILE --input IMG_OR_NPY [--weights W.safetensors] [--backend cpu|webgpu|reference] [--top K] [--json] [--out OUT.npy] [--labels FILE] [--mean M,M,M] [--std S,S,S] [--no-antialias] [--seed N] [--network NAME] [--shape CxHxW]',
  options: {
    ...modelOptions,
    ...backendOptions,
    input: { type: 'string' },
    top: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
    labels: { type: 'string' },
    mean: { type: 'string' },
    std: { type: 'string' },
    'no-antialias': { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new CliError(`run takes one network file: ${runCommand.usage}`);
    const file = positionals[0];
    const inputFile = values.input as string | undefined;
    if (inputFile === undefined) throw new CliError('run needs --input IMAGE.png|.jpg or ARRAY.npy');
    const k = intOption(values, 'top', 5, 0);
    const { net, model, weightsSource } = loadModel(file, values);

    const inShape = inputShapeOf(model);
    const channels = inShape.length === 3 ? inShape[0] : 1;
    const defaults = defaultNormalization(channels);
    const mean = numberList(values, 'mean', channels) ?? defaults.mean;
    const std = numberList(values, 'std', channels) ?? defaults.std;
    if (std.some((s) => s === 0)) throw new CliError('--std must not be 0');
    let input: ReturnType<typeof loadInput>;
    try {
      input = loadInput(readBytes(inputFile, 'input'), inShape, { normalization: { mean, std }, antialias: !values['no-antialias'] });
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`input ${inputFile}: ${(e as Error).message}`);
    }

    const outShape = outputShapeOf(model);
    const classes = outShape.length === 1 ? outShape[0] : 0;
    const labels = classes ? labelsFor(values, classes) : undefined;

    const backend = await openBackend(values.backend, model, 1);
    let output: Float32Array;
    let ms: number;
    try {
      const t0 = performance.now();
      output = await backend.session.run(input.data);
      ms = performance.now() - t0;
    } catch (e) {
      throw new CliError(`${backend.session.backend}: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      backend.close();
    }

    const endsInSoftmax = net.graph.nodes[net.graph.output].attrs.kind === 'softmax';
    const top: TopEntry[] = classes ? topK(output, Math.min(k, classes), labels, endsInSoftmax) : [];
    if (values.out !== undefined) {
      try {
        // With the batch of one leading, as PyTorch's model(x) returns it.
        writeFileSync(values.out as string, writeNpy([1, ...outShape], output));
      } catch (e) {
        throw new CliError(`--out ${String(values.out)}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    if (values.json) {
      io.out(JSON.stringify({ output: Array.from(output), shape: outShape, top, backend: backend.session.backend, adapter: backend.session.adapter, ms: Number(ms.toFixed(3)) }));
      return 0;
    }
    io.err(backend.note);
    const source = input.imageSize ? `${inputFile} (${input.format.toUpperCase()} ${input.imageSize[0]}x${input.imageSize[1]})` : inputFile;
    io.out(`${net.graph.network} on ${source}, weights: ${weightsSource}`);
    io.out(`${backend.session.backend} (${backend.session.adapter}): ${ms.toFixed(1)} ms; output [${outShape.join(', ')}]`);
    if (top.length) {
      io.out(
        table(
          [
            { header: '#', align: 'right' },
            { header: 'class', align: 'right' },
            { header: 'label', align: 'left' },
            { header: 'p', align: 'right' },
          ],
          top.map((t, i) => [String(i + 1), String(t.index), t.label, t.p.toFixed(4)]),
        ),
      );
    } else if (!classes) {
      io.out(`output is not a flat vector of classes; use --json or --out to see it`);
    }
    if (values.out !== undefined) io.out(`wrote ${String(values.out)}`);
    return 0;
  },
};
