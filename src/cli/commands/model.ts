/** Loading a network with its weights for the engine commands, within the memory budget. */
import { readFileSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { FileAnalysis, NetworkAnalysis } from '../../analysis';
import { diagnosticLine } from '../../analysis/format';
import { BudgetError, checkMemoryBudget, DEFAULT_BUDGET_FRACTION, memoryNeeds, parseByteSize, sizeText, type Budget, type MemoryNeeds, type MemoryPurpose } from '../../engine/budget';
import type { Model } from '../../engine/session';
import { initWeights } from '../../engine/weights/init';
import { loadSafetensorsWeights } from '../../engine/weights/load';
import { blockingErrors } from '../../export/document';
import { CliError, UsageError, type Io, type OptionSpecs } from '../command';
import { displayName, loadNetwork, readErrorReason } from '../load';
import { intOption } from './options';

/** Reads a whole file as bytes, with the CLI's one-line errors. */
export function readBytes(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CliError(`${what} ${file}: ${readErrorReason(e)}`);
  }
}

/** A file's size without reading it; the read that follows reports any problem. */
export function fileSize(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

export const MEMORY_LIMIT_ENV = 'CNN_MEMORY_LIMIT';

export const modelOptions = {
  network: { type: 'string', value: 'NAME', help: "the network to use (default: the file's first)" },
  shape: { type: 'string', value: 'CxHxW', help: "replace the network's input shape" },
  weights: { type: 'string', value: 'W.safetensors', help: 'weights by parameter name (see cnn params); default: seeded He initialisation' },
  seed: { type: 'string', value: 'N', help: 'the seed of the initialisation without --weights (default 0)' },
  'memory-limit': { type: 'string', value: 'SIZE', help: `refuse what would need more memory: 8G, 512M, 60% (default: ${DEFAULT_BUDGET_FRACTION * 100}% of this machine's memory, or $${MEMORY_LIMIT_ENV})` },
} satisfies OptionSpecs;

/** The memory budget: --memory-limit, else $CNN_MEMORY_LIMIT, else a share of the machine's memory. */
export function memoryBudget(values: Record<string, unknown>): Budget {
  const total = totalmem();
  const how = `--memory-limit or ${MEMORY_LIMIT_ENV} sets it`;
  const given = values['memory-limit'] as string | undefined;
  const env = process.env[MEMORY_LIMIT_ENV];
  const text = given ?? (env === '' ? undefined : env);
  if (text === undefined) return { bytes: Math.floor(DEFAULT_BUDGET_FRACTION * total), source: `${DEFAULT_BUDGET_FRACTION * 100}% of this machine's ${sizeText(total)}; ${how}` };
  const bytes = parseByteSize(text, total);
  const name = given !== undefined ? '--memory-limit' : MEMORY_LIMIT_ENV;
  if (bytes === null) throw new UsageError(`${name} ${text}: give a size such as 8G, 512M, 1.5GiB, 2000000000 or 60%`);
  return { bytes, source: `${name} ${text}` };
}

/** Refuses, before allocating, what would not fit the budget. */
export function checkBudget(needs: MemoryNeeds, budget: Budget): void {
  try {
    checkMemoryBudget(needs, budget);
  } catch (e) {
    if (e instanceof BudgetError) throw new CliError(e.message);
    throw e;
  }
}

export interface LoadedModel {
  analysis: FileAnalysis;
  net: NetworkAnalysis;
  model: Model;
  /** Where the weights came from, for the human output. */
  weightsSource: string;
}

/** The network of FILE (see loadNetwork), refused with its first error when it or a block it may call has one. */
export function loadRunnableNetwork(file: string, values: Record<string, unknown>, io?: Io): { analysis: FileAnalysis; net: NetworkAnalysis } {
  const { analysis, net } = loadNetwork(file, values, io);
  const errors = blockingErrors(analysis, net);
  if (errors.length) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''}; see cnn check)` : '';
    throw new CliError(`${diagnosticLine(displayName(file), errors[0])}${more}`);
  }
  return { analysis, net };
}

export interface PlannedModel {
  analysis: FileAnalysis;
  net: NetworkAnalysis;
  needs: MemoryNeeds;
  budget: Budget;
}

/** The network, its shapes known, and what it would need in memory, checked against the budget; no weights yet. */
export function planModel(file: string, values: Record<string, unknown>, purpose: MemoryPurpose, batch: number, io?: Io): PlannedModel {
  const budget = memoryBudget(values);
  // A bad --seed is a usage error, said before the network is read.
  intOption(values, 'seed', 0, 0);
  const { analysis, net } = loadRunnableNetwork(file, values, io);
  if (net.layers.some((l) => l.shape === null)) throw new CliError(`${displayName(file)}: the network's shapes are not all known`);
  const needs = memoryNeeds(net, purpose, batch);
  checkBudget(needs, budget);
  return { analysis, net, needs, budget };
}

/**
 * The weights from --weights, or seeded ones (He / identity batch norm) so that any network
 * runs at once. A weights file is read whole, so its size counts against the budget.
 */
export function loadWeights(plan: PlannedModel, values: Record<string, unknown>): { model: Model; weightsSource: string } {
  const { net, needs, budget } = plan;
  let weights: Map<string, Float32Array>;
  let weightsSource: string;
  const wfile = values.weights as string | undefined;
  if (wfile !== undefined) {
    const size = fileSize(wfile);
    if (size !== undefined && needs.total + size > budget.bytes) {
      throw new CliError(`weights ${wfile}: the file is ${sizeText(size)}; with the ${sizeText(needs.total)} the network needs, more than the memory budget of ${sizeText(budget.bytes)} (${budget.source})`);
    }
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
  const shapes = net.layers.map((l) => l.shape as number[]);
  return { model: { graph: net.graph, shapes, tensors: net.tensors, weights }, weightsSource };
}

/** planModel then loadWeights, for commands with nothing to decide in between. */
export function loadModel(file: string, values: Record<string, unknown>, purpose: MemoryPurpose, batch = 1, io?: Io): LoadedModel & { plan: PlannedModel } {
  const plan = planModel(file, values, purpose, batch, io);
  return { analysis: plan.analysis, net: plan.net, plan, ...loadWeights(plan, values) };
}
