/** What `cnn grad` and `cnn train` share on the command line. */
import { realpathSync } from 'node:fs';
import type { NetworkAnalysis } from '../../analysis';
import { sizeText, type Budget } from '../../engine/budget';
import { numel } from '../../engine/tensor';
import { CliError, UsageError } from '../command';

/** The engines with backward passes: the CPU reference, under both names `cnn run` gives the CPU, and WebGPU. */
export function trainBackend(requested: unknown): string {
  if (requested === undefined || requested === 'cpu' || requested === 'reference') return 'cpu reference';
  if (requested === 'webgpu') return 'webgpu';
  throw new UsageError(`--backend ${String(requested)}: choose cpu, reference or webgpu`);
}

/** A number option within [min, max]; anything else is a usage error. */
export function numberOption(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} ${String(v)}: give a number ${max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`}`);
  }
  return n;
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Which of the files a command reads the output would replace (by what it is), if any. */
export function clashingOutput(out: string, reads: Record<string, string | undefined>): string | undefined {
  const target = realPath(out);
  if (!target) return undefined;
  return Object.entries(reads).find(([, f]) => f !== undefined && realPath(f) === target)?.[0];
}

/** Float32 bytes per value. */
const F32 = 4;

/**
 * What a training pass on the CPU reference holds at once, roughly and from above: every layer's
 * output kept for the backward and a gradient of each (twice the sum of all activations, where
 * inference needs only the peak), and per parameter or buffer value the weights, a gradient,
 * the optimiser's state (`stateCopies`: 0 for plain SGD, 1 with momentum, 2 for Adam) and
 * `extraCopies` more (cnn train's snapshot of the last finished epoch).
 */
export function trainingBytes(net: NetworkAnalysis, batch: number, stateCopies: number, extraCopies: number): { activations: number; weights: number; total: number } {
  let values = 0;
  for (const l of net.layers) values += numel(l.shape ?? []);
  let weights = 0;
  for (const t of net.tensors) weights += numel(t.shape);
  const activations = 2 * F32 * values * batch;
  const w = F32 * weights * (2 + stateCopies + extraCopies);
  return { activations, weights: w, total: activations + w };
}

/** Refuses, before any weight is made, a training pass that would not fit the memory budget. */
export function checkTrainingBudget(net: NetworkAnalysis, batch: number, budget: Budget, stateCopies: number, extraCopies: number): void {
  const need = trainingBytes(net, batch, stateCopies, extraCopies);
  if (need.total <= budget.bytes) return;
  const perSample = trainingBytes(net, 1, 0, 0).activations;
  const fits = Math.floor((budget.bytes - need.weights) / perSample);
  const hint = batch > 1 && fits >= 1 ? `; --batch ${fits} would fit` : '';
  throw new CliError(
    `training at batch ${batch} needs about ${sizeText(need.total)} (every layer's output and its gradient: ${sizeText(need.activations)}; weights, gradients and optimiser state: ${sizeText(need.weights)}), more than the memory budget of ${sizeText(budget.bytes)} (${budget.source})${hint}`,
  );
}
