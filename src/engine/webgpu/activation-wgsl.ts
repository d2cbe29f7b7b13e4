/**
 * WGSL bodies of `fn act(v: f32) -> f32` for the activations that need more than a line
 * (kernels.ts's WGSL_ACTIVATIONS). WGSL gives no overflow guarantee for exp, so every exp here
 * reads an argument that stays below 88 (f32's largest exp is e^88.7).
 */

/**
 * erf(z) as Eigen's rational minimax z·P(z²)/Q(z²) on [-4, 4] (±1 beyond, as in f32): 7e-8 from
 * erf in exact arithmetic, about 4e-7 in f32 near |z| = 3.3; WGSL has no erf builtin.
 */
const ERF_P = [-2.72614225801306e-10, 2.77068142495902e-8, -2.10102402082508e-6, -5.69250639462346e-5, -7.34990630326855e-4, -2.95459980854025e-3, -1.60960333262415e-2];
const ERF_Q = [-1.45660718464996e-5, -2.13374055278905e-4, -1.68282697438203e-3, -7.37332916720468e-3, -1.42647390514189e-2];

/** Horner's rule in `x` as WGSL fma calls, highest coefficient first. */
function horner(x: string, coefficients: readonly number[]): string {
  let e = `${coefficients[0].toExponential()}`;
  for (const c of coefficients.slice(1)) e = `fma(${x}, ${e}, ${c.toExponential()})`;
  return e;
}

/** Exact GELU, 0.5·v·(1 + erf(v/√2)). */
export const GELU_ERF_WGSL =
  'let z = clamp(v * 0.7071067811865476, -4.0, 4.0); let z2 = z * z; ' +
  `let e = select(clamp(z * ${horner('z2', ERF_P)} / ${horner('z2', ERF_Q)}, -1.0, 1.0), sign(z), abs(z) >= 4.0); ` +
  'return 0.5 * v * (1.0 + e);';

/**
 * PyTorch's tanh form, 0.5·v·(1 + tanh(u)) with u = √(2/π)·(v + 0.044715·v³), as v·sigmoid(2u):
 * the same function without 1 + tanh's cancellation for v below zero. u saturates the sigmoid
 * long before |v| = 10, and clamping there keeps v³ and e^(−2u) finite.
 */
export const GELU_TANH_WGSL =
  'let c = clamp(v, -10.0, 10.0); let u = 0.7978845608028654 * fma(0.044715 * c * c, c, c); return v / (1.0 + exp(-2.0 * u));';

/** v·sigmoid(v); past v = −80 the quotient is already 0 to within 1e-33·|v|. */
export const SILU_WGSL = 'return v / (1.0 + exp(min(-v, 80.0)));';

/** `fn erf32(v: f32) -> f32`: the same rational erf as GELU_ERF_WGSL's, for the backward passes (backward-wgsl.ts). */
export const ERF_FN_WGSL =
  'fn erf32(v: f32) -> f32 { let z = clamp(v, -4.0, 4.0); let z2 = z * z; ' +
  `return select(clamp(z * ${horner('z2', ERF_P)} / ${horner('z2', ERF_Q)}, -1.0, 1.0), sign(z), abs(z) >= 4.0); }`;
