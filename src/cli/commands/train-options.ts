/** What `cnn grad` and `cnn train` share on the command line. */
import { realpathSync } from 'node:fs';
import { UsageError } from '../command';

/** The engines with backward passes: the CPU reference, under both names `cnn run` gives the CPU. */
export function trainBackend(requested: unknown): string {
  if (requested === undefined || requested === 'cpu' || requested === 'reference') return 'cpu reference';
  if (requested === 'webgpu') throw new UsageError('--backend webgpu: training has no WebGPU backward passes yet; choose cpu or reference');
  throw new UsageError(`--backend ${String(requested)}: choose cpu or reference`);
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
