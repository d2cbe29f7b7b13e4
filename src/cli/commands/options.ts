/** Parsing of the engine commands' option values into numbers, with one-line errors. */
import { CliError } from '../main';

export function intOption(values: Record<string, unknown>, name: string, fallback: number, min: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} ${String(v)}: give an integer of at least ${min}`);
  return n;
}

/** A comma-separated list of numbers; one value stands for every channel. */
export function numberList(values: Record<string, unknown>, name: string, channels: number): number[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const parts = String(v)
    .split(',')
    .map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) throw new CliError(`--${name} ${String(v)}: give numbers separated by commas, like 0.485,0.456,0.406`);
  if (nums.length === 1) return new Array(channels).fill(nums[0]);
  if (nums.length !== channels) throw new CliError(`--${name} has ${nums.length} values; the input has ${channels} channels`);
  return nums;
}
