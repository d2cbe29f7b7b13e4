/** `cnn import`: an ONNX model as a .cnn file, its weights beside it as .safetensors, and labels.txt when the model names its classes. */
import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sizeText } from '../../engine/budget';
import { bytesText } from '../../export/document';
import { importOnnx, ImportError } from '../../import';
import { CliError, onlyFile, UsageError, type Command } from '../command';
import { writeFilesTogether, checkTargets } from '../files';
import { STDIN } from '../load';
import { fileSize, memoryBudget, modelOptions, readBytes } from './model';
import { DEFAULT_LABELS } from './run';

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Decoding keeps the file's bytes, copies the weights once as float32 and writes them once more
 * as safetensors: about three times the file.
 */
const MEMORY_PER_BYTE = 3;

export const importCommand: Command = {
  summary: 'an ONNX model as a .cnn network, with its weights as .safetensors under the network\'s parameter names',
  usage: 'cnn import MODEL.onnx [-o NET.cnn] [--force] [--name NAME] [--memory-limit SIZE]',
  options: {
    output: { type: 'string', short: 'o', value: 'NET.cnn', help: 'the network file to write; NET.safetensors (and labels.txt, if the model names its classes) go beside it (default: MODEL.cnn here)' },
    force: { type: 'boolean', help: 'overwrite the files if they exist' },
    name: { type: 'string', value: 'NAME', help: "the network's name (default: the model's graph name, else the file's)" },
    'memory-limit': modelOptions['memory-limit'],
  },
  run({ values, positionals }, io) {
    const model = onlyFile(positionals, 'import', importCommand.usage, 'one ONNX model');
    if (model === STDIN) throw new UsageError('import reads the model from a file; an ONNX model on standard input is not supported');
    const force = Boolean(values.force);
    const out = (values.output as string | undefined) ?? `${basename(model).replace(/\.onnx$/i, '')}.cnn`;
    if (out === '-') throw new UsageError('-o -: the import writes two files; give the network file name');
    const base = out.replace(/\.cnn$/i, '');
    const weightsPath = `${base}.safetensors`;
    const labelsPath = join(dirname(out), DEFAULT_LABELS);
    const name = values.name as string | undefined;
    if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--name ${name}: give an identifier (letters, digits, _)`);
    const source = realPath(model);
    for (const p of [out, weightsPath, labelsPath]) if (source && realPath(p) === source) throw new CliError(`${p}: that is the model file itself; give another name`);
    checkTargets([{ path: out, what: `-o ${out}` }, { path: weightsPath, what: weightsPath }], force);

    const budget = memoryBudget(values);
    const size = fileSize(model);
    if (size !== undefined && size * MEMORY_PER_BYTE > budget.bytes) {
      throw new CliError(`${model}: the file is ${sizeText(size)}; importing it needs about ${sizeText(size * MEMORY_PER_BYTE)}, more than the memory budget of ${sizeText(budget.bytes)} (${budget.source})`);
    }
    const bytes = readBytes(model, 'model');
    let result;
    try {
      result = importOnnx(bytes, { network: name, name: basename(base), source: basename(model) });
    } catch (e) {
      if (e instanceof ImportError) throw new CliError(`${model}: ${e.message}`);
      throw e;
    }

    const files = [
      { path: out, data: result.text, what: `-o ${out}` },
      { path: weightsPath, data: result.weights, what: weightsPath },
    ];
    if (result.labels) files.push({ path: labelsPath, data: `${result.labels.join('\n')}\n`, what: labelsPath });
    writeFilesTogether(files, force);

    for (const w of result.warnings) io.err(`cnn import: note: ${w}`);
    const lines = result.text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
    const labels = result.labels ? `, ${labelsPath} (${result.labels.length} classes)` : '';
    io.out(
      `wrote ${out} (network ${result.network}, ${result.layers} layers in ${lines} lines) and ${weightsPath} (${bytesText(result.weights.byteLength)}, ${result.tensors} tensors, ${result.params.toLocaleString('en-US')} parameters)${labels}`,
    );
    return 0;
  },
};
