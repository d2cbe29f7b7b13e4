/** Parsing of option values into numbers, with one-line errors. */
import { CliError, UsageError } from '../command';

/** An integer option; a value that is not one, or below `min`, is a usage error (exit 2). */
export function intOption(values: Record<string, unknown>, name: string, fallback: number, min: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} ${String(v)}: give an integer of at least ${min}`);
  return n;
}

/**
 * A comma-separated list of numbers; one value stands for every channel. Not numbers: a usage
 * error; the wrong count for this network's input: an error about the file (exit 1).
 */
export function numberList(values: Record<string, unknown>, name: string, channels: number): number[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const parts = String(v)
    .split(',')
    .map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) throw new UsageError(`--${name} ${String(v)}: give numbers separated by commas, like 0.485,0.456,0.406`);
  if (nums.length === 1) return new Array(channels).fill(nums[0]);
  if (nums.length !== channels) throw new CliError(`--${name} has ${nums.length} values; the input has ${channels} channels`);
  return nums;
}
