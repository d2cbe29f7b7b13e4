/** `cnn run`: one forward pass on an image or an .npy array. */
import { readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { table } from '../../analysis/format';
import { imageDecodeBytes, sizeText } from '../../engine/budget';
import { inspectInput, loadInput } from '../../engine/input/load-input';
import { writeNpy } from '../../engine/input/npy';
import { defaultNormalization } from '../../engine/input/preprocess';
import { IMAGENET_CLASSES, parseLabels, topK, type TopEntry } from '../../engine/labels';
import { inputShapeOf, outputShapeOf } from '../../engine/session';
import { CliError, onlyFile, UsageError, type Command } from '../command';
import { readErrorReason, STDIN, writeErrorReason } from '../load';
import { backendOptions, checkBackendLimits, chooseBackend, openSession, requestedBackend } from './backend';
import { fileSize, loadWeights, modelOptions, planModel, readBytes } from './model';
import { intOption, numberList } from './options';

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The file a labels file is looked for beside the network, as the webview does. */
export const DEFAULT_LABELS = 'labels.txt';

function readLabels(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`labels ${file}: ${readErrorReason(e)}`);
  }
  try {
    return parseLabels(text);
  } catch (e) {
    throw new CliError(`labels ${file}: ${(e as Error).message.replace(/^labels: /, '')}`);
  }
}

/**
 * Class names: --labels, else a `labels.txt` beside the network file when it names exactly
 * this many classes, else ImageNet's for 1000 classes; none otherwise (indices are shown).
 */
export function labelsFor(values: Record<string, unknown>, networkFile: string, classes: number): { labels?: string[]; source?: string; file?: string } {
  const file = values.labels as string | undefined;
  if (file !== undefined) {
    const labels = readLabels(file);
    if (labels.length !== classes) throw new CliError(`labels ${file}: ${labels.length} names for an output of ${classes} classes`);
    return { labels, source: file, file };
  }
  if (networkFile !== STDIN) {
    const beside = join(dirname(networkFile), DEFAULT_LABELS);
    let isFile = false;
    try {
      isFile = statSync(beside).isFile();
    } catch {
      // No labels.txt there: the ordinary case.
    }
    if (isFile) {
      // A labels.txt for another network (or unreadable) is not this one's: fall through quietly.
      try {
        const labels = parseLabels(readFileSync(beside, 'utf8'));
        if (labels.length === classes) return { labels, source: beside, file: beside };
      } catch {
        // Same.
      }
    }
  }
  return classes === 1000 ? { labels: [...IMAGENET_CLASSES], source: 'ImageNet' } : {};
}

export const runCommand: Command = {
  summary: 'one forward pass on an image or .npy array',
  usage:
    'cnn run FILE --input IMG_OR_NPY [--weights W.safetensors] [--backend cpu|webgpu|reference] [--top K] [--json] [--out OUT.npy] [--labels FILE] [--mean M,M,M] [--std S,S,S] [--no-antialias] [--seed N] [--network NAME] [--shape CxHxW] [--memory-limit SIZE]',
  options: {
    ...modelOptions,
    ...backendOptions,
    input: { type: 'string', value: 'IMG_OR_NPY', help: 'a PNG or JPEG (resized, centre-cropped, normalised) or a float32 .npy of the input shape' },
    top: { type: 'string', value: 'K', help: 'how many classes to list (default 5)' },
    json: { type: 'boolean', help: 'print JSON (see CLI.md) instead of the table' },
    out: { type: 'string', value: 'OUT.npy', help: 'write the output as .npy, with the batch of 1 leading' },
    labels: { type: 'string', value: 'FILE', help: `class names, one per line or a JSON array (default: ${DEFAULT_LABELS} beside the network when its count matches, ImageNet's for 1000 classes)` },
    mean: { type: 'string', value: 'M,M,M', help: "per-channel mean for images (default: ImageNet's for 3 channels, 0 for 1)" },
    std: { type: 'string', value: 'S,S,S', help: "per-channel standard deviation for images (default: ImageNet's, or 1)" },
    'no-antialias': { type: 'boolean', help: 'plain bilinear resizing, without the low-pass that PIL and torchvision apply' },
  },
  async run({ values, positionals }, io) {
    const file = onlyFile(positionals, 'run', runCommand.usage, 'one network file');
    const inputFile = values.input as string | undefined;
    if (inputFile === undefined) throw new UsageError('run needs --input IMAGE.png|.jpg or ARRAY.npy');
    const k = intOption(values, 'top', 5, 0);
    requestedBackend(values.backend);
    if (file === STDIN) throw new UsageError('run reads the network from a file; - (standard input) is for check, analyze and params');
    const plan = planModel(file, values, 'run', 1, io);
    const { net } = plan;

    const inShape = net.input as number[];
    const channels = inShape.length === 3 ? inShape[0] : 1;
    const defaults = defaultNormalization(channels);
    const mean = numberList(values, 'mean', channels) ?? defaults.mean;
    const std = numberList(values, 'std', channels) ?? defaults.std;
    if (std.some((s) => s === 0)) throw new UsageError('--std must not be 0');
    // The input is read whole: its size counts against the budget before the read.
    const inputSize = fileSize(inputFile);
    if (inputSize !== undefined && plan.needs.total + inputSize > plan.budget.bytes) {
      throw new CliError(`input ${inputFile}: the file is ${sizeText(inputSize)}; with the ${sizeText(plan.needs.total)} the network needs, more than the memory budget of ${sizeText(plan.budget.bytes)} (${plan.budget.source})`);
    }
    const inputBytes = readBytes(inputFile, 'input');
    const inputError = (e: unknown) => (e instanceof CliError ? e : new CliError(`input ${inputFile}: ${(e as Error).message}`));
    let kind: ReturnType<typeof inspectInput>;
    try {
      kind = inspectInput(inputBytes, inShape);
    } catch (e) {
      throw inputError(e);
    }
    if (kind.kind === 'image') {
      const { width, height } = kind.header;
      const decoding = imageDecodeBytes(width, height, channels);
      if (plan.needs.total + decoding > plan.budget.bytes) {
        throw new CliError(
          `input ${inputFile}: decoding the ${width}x${height} image needs about ${sizeText(decoding)}, which with the ${sizeText(plan.needs.total)} the network needs is more than the memory budget of ${sizeText(plan.budget.bytes)} (${plan.budget.source}); resize the image first`,
        );
      }
    }

    const outShape = net.output as number[];
    const classes = outShape.length === 1 ? outShape[0] : 0;
    const { labels, source: labelsSource, file: labelsFile } = classes ? labelsFor(values, file, classes) : {};

    if (values.out !== undefined) {
      // The output must not replace a file this run reads.
      const out = realPath(values.out as string);
      const clash = out && [file, inputFile, values.weights as string | undefined, labelsFile].find((f) => f !== undefined && realPath(f) === out);
      if (clash) throw new CliError(`--out ${String(values.out)}: that is ${clash === file ? 'the network file' : clash === inputFile ? 'the input file' : clash === labelsFile ? 'the labels file' : 'the weights file'}; give another name`);
    }

    const choice = await chooseBackend(values.backend);
    checkBackendLimits(choice, plan.needs);
    const { model, weightsSource } = loadWeights(plan, values);
    let input: ReturnType<typeof loadInput>;
    try {
      input = loadInput(inputBytes, inputShapeOf(model), { normalization: { mean, std }, antialias: !values['no-antialias'] });
    } catch (e) {
      throw inputError(e);
    }

    const backend = await openSession(choice, model, 1);
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
        writeFileSync(values.out as string, writeNpy([1, ...outputShapeOf(model)], output));
      } catch (e) {
        throw new CliError(`--out ${String(values.out)}: cannot write (${writeErrorReason(e)})`);
      }
    }
    if (values.json) {
      io.out(JSON.stringify({ output: Array.from(output), shape: outShape, top, backend: backend.session.backend, adapter: backend.session.adapter, ms: Number(ms.toFixed(3)) }));
      return 0;
    }
    io.err(backend.note);
    const source = input.imageSize ? `${inputFile} (${input.format.toUpperCase()} ${input.imageSize[0]}x${input.imageSize[1]})` : inputFile;
    io.out(`${net.graph.network} on ${source}, weights: ${weightsSource}${labelsSource && labelsSource !== values.labels ? `, labels: ${labelsSource}` : ''}`);
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
