/** The error function in double precision, for the reference's exact GELU (JavaScript's Math has none). */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) = 2/√π · e^(−x²) · Σ (2x²)^n · x / (1·3·…·(2n+1)): every term positive, so no
 * cancellation, about 1e-15 relative for |x| < 6 in at most ~100 terms; past 6, erf is ±1 in
 * doubles. (1 + erf(x) for x far below zero loses digits, but only where PyTorch's float32 GELU
 * is already 0 to within 1e-13 of the input's size.)
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a < 6)) return Number.isNaN(x) ? x : Math.sign(x);
  const x2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  return x < 0 ? -r : r;
}
