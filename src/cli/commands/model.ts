/** Loading a network with its weights for the engine commands. */
import { readFileSync } from 'node:fs';
import type { FileAnalysis, NetworkAnalysis } from '../../analysis';
import type { Model } from '../../engine/session';
import { blockingErrors } from '../../export/document';
import { initWeights } from '../../engine/weights/init';
import { loadSafetensorsWeights } from '../../engine/weights/load';
import { CliError, loadNetwork } from '../main';
import { diagnosticLine } from '../report';
import { intOption } from './options';

/** Reads a whole file as bytes, with the CLI's one-line errors. */
export function readBytes(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${what} ${file}: no such file` : code === 'EISDIR' ? `${what} ${file}: is a directory` : `${what} ${file}: cannot read (${code ?? String(e)})`);
  }
}

export const modelOptions = {
  network: { type: 'string' },
  shape: { type: 'string' },
  weights: { type: 'string' },
  seed: { type: 'string' },
} as const;

export interface LoadedModel {
  analysis: FileAnalysis;
  net: NetworkAnalysis;
  model: Model;
  /** Where the weights came from, for the human output. */
  weightsSource: string;
}

/** The network of FILE (see loadNetwork), refused with its first error when it or a block it may call has one. */
export function loadRunnableNetwork(file: string, values: Record<string, unknown>): { analysis: FileAnalysis; net: NetworkAnalysis } {
  const { analysis, net } = loadNetwork(file, values);
  const errors = blockingErrors(analysis, net);
  if (errors.length) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''}; see cnn check)` : '';
    throw new CliError(`${diagnosticLine(file, errors[0])}${more}`);
  }
  return { analysis, net };
}

/**
 * The network of FILE with weights from --weights, or seeded ones (He / identity batch norm) so
 * that any network runs at once. A file with errors does not run: the first error is the reason.
 */
export function loadModel(file: string, values: Record<string, unknown>): LoadedModel {
  const { analysis, net } = loadRunnableNetwork(file, values);
  const shapes = net.layers.map((l) => l.shape);
  if (shapes.some((s) => s === null)) throw new CliError(`${file}: the network's shapes are not all known`);
  let weights: Map<string, Float32Array>;
  let weightsSource: string;
  const wfile = values.weights as string | undefined;
  if (wfile !== undefined) {
    const bytes = readBytes(wfile, 'weights');
    try {
      weights = loadSafetensorsWeights(bytes, net.tensors);
    } catch (e) {
      throw new CliError(`${wfile}: ${(e as Error).message}`);
    }
    weightsSource = wfile;
  } else {
    const seed = intOption(values, 'seed', 0, 0);
    weights = initWeights(net.tensors, seed);
    weightsSource = `seeded initialisation (seed ${seed})`;
  }
  return { analysis, net, model: { graph: net.graph, shapes: shapes as number[][], tensors: net.tensors, weights }, weightsSource };
}
