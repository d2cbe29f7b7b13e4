/**
 * Whole numbers and their ratios, for figures that become fractions after upsampling (an
 * effective stride of 1/2 input pixel per output pixel). Strides are stored as plain numbers,
 * each the quotient of two exact integers, so that JSON and charts read them as numbers; the
 * fraction is recovered for text.
 */

export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

/** `floor(a / b)` for integers, b > 0, exact where `Math.floor(a / b)` could round across an integer. */
export function floorDiv(a: number, b: number): number {
  const q = Math.floor(a / b);
  const r = a - q * b;
  return r < 0 ? q - 1 : r >= b ? q + 1 : q;
}

/** `a mod b` in [0, b), b > 0. */
export function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

/** Denominators up to this are recovered exactly: periods past it are not tracked (src/analysis/field.ts). */
const MAX_DENOMINATOR = 1 << 20;

/**
 * `[numerator, denominator]` of a number made as `p / q` from integers with `q` up to 2^20:
 * continued fractions, stopping at the first convergent within a few roundings of `x`. Two
 * fractions with denominators q, q' differ by at least 1/(q·q'), far more than a double's
 * rounding of strides of the sizes a network has.
 */
export function toFraction(x: number): [number, number] {
  if (Number.isInteger(x)) return [x, 1];
  const sign = x < 0 ? -1 : 1;
  let v = Math.abs(x);
  let [p0, q0, p1, q1] = [0, 1, 1, 0];
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(v);
    [p0, q0, p1, q1] = [p1, q1, a * p1 + p0, a * q1 + q0];
    if (q1 > MAX_DENOMINATOR) return [sign * p0, q0];
    if (Math.abs(p1 / q1 - Math.abs(x)) <= Math.abs(x) * 4 * Number.EPSILON) break;
    v = 1 / (v - a);
  }
  return [sign * p1, q1];
}

/** `4` for a whole number, `1/2` or `3/2` for a fraction. */
export function ratioText(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const [p, q] = toFraction(x);
  return q === 1 ? String(p) : `${p}/${q}`;
}
