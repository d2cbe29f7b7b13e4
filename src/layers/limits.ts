/**
 * The largest numbers the analysis takes (docs/language.md, "Limits"). Past them a figure could
 * no longer be counted exactly, or a tensor would not fit any engine: an error at its place,
 * never Infinity, null or a silent overflow.
 */

/** Any one size: channels, features, a kernel, stride, padding or dilation, an input dimension. */
export const MAX_DIM = 2 ** 24;

/** Values in one tensor (an activation or a parameter): 8 GiB as float32. */
export const MAX_TENSOR_VALUES = 2 ** 31;

/** Totals (parameters, MACs) are exact integers up to here. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

export function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** `2.5e+21` style for numbers too long to group. */
export function approx(n: number): string {
  return n < 1e15 ? grouped(n) : n.toExponential(2);
}
