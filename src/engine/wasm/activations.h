/*
 * The epilogue activations that need more than a compare: included by kernels.c (one
 * translation unit; scripts/build-wasm.mjs compiles kernels.c alone). PyTorch defines each
 * function (docs/architecture.md); kernels.c's act_v and act_s pick one by its code, the codes
 * mirrored in module.ts.
 *
 * WebAssembly SIMD has no exp, erf or fused multiply-add: exp is Cephes' expf (Cody-Waite range
 * reduction, degree-5 polynomial, ~1 ulp), erf Eigen's rational minimax (7e-8 in exact
 * arithmetic, ~4e-7 in float near |z| = 3.3), both without branches so all four lanes run alike.
 */

static inline v128_t splat(float v) { return wasm_f32x4_splat(v); }
static inline v128_t madd(v128_t a, v128_t b, v128_t c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }

/*
 * v clamped to [lo, hi] with the "pseudo" min and max (one instruction each on x64, where V8
 * spends about seven on f32x4.min's NaN and signed-zero rules); v first, so a NaN stays NaN.
 */
static inline v128_t clamp_v(v128_t v, float lo, float hi) { return wasm_f32x4_pmin(wasm_f32x4_pmax(v, splat(lo)), splat(hi)); }

/* MobileNetV2's clip to [0, 6]. */
static inline v128_t relu6_v(v128_t v) { return clamp_v(v, 0.0f, 6.0f); }

/* min(max(v + 3, 0), 6) / 6; times 1/6 rather than PyTorch's division: a bit apart at most, and a divide costs several multiplies. */
static inline v128_t hardsigmoid_v(v128_t v) { return wasm_f32x4_mul(relu6_v(wasm_f32x4_add(v, splat(3.0f))), splat(1.0f / 6.0f)); }

static inline v128_t hardswish_v(v128_t v) { return wasm_f32x4_mul(v, hardsigmoid_v(v)); }

/*
 * 2^t for t clamped to [-125, 125]: t = n + f, |f| <= 1/2, 2^f by a degree-5 polynomial
 * (minimax for relative error, 2.3e-7 in float), and n added to its exponent bits (2^f's exponent
 * is 126 or 127, so the sum stays in 1..252: no denormal or infinity). The clamp is harmless where
 * it is used: 2^125 = 4e37 already makes 1 + 2^t's quotients 0 and 2^-125 makes them the
 * numerator. In base 2 rather than e (Cephes' expf, ln2 in two parts and a degree-7 polynomial):
 * 20 operations for SiLU instead of 29, where EfficientNet-B0 spent a fifth of its pass in SiLU;
 * t = x·log2 e rounds to 6e-8 of t, so e^x is off by |x|·6e-8 relative (1e-6 at |x| = 17, where
 * SiLU's tail is 1e-6 of its input).
 */
static inline v128_t exp2_v(v128_t t) {
  t = clamp_v(t, -125.0f, 125.0f);
  /*
   * n = round(t) by adding 1.5·2^23, which leaves n in the low mantissa bits (round to nearest
   * even, as f32x4.nearest; cheaper than nearest and trunc_sat together).
   */
  const v128_t shifted = wasm_f32x4_add(t, splat(12582912.0f));
  const v128_t f = wasm_f32x4_sub(t, wasm_f32x4_sub(shifted, splat(12582912.0f)));
  v128_t p = splat(1.327647129e-03f);
  p = madd(p, f, splat(9.675540961e-03f));
  p = madd(p, f, splat(5.550713092e-02f));
  p = madd(p, f, splat(2.402212024e-01f));
  p = madd(p, f, splat(6.931469440e-01f));
  p = madd(p, f, splat(1.000000119e+00f));
  /* The bits of `shifted` are 0x4B400000 + n, whose low 22 bits are zero: shifted << 23 is n << 23. */
  return wasm_i32x4_add(p, wasm_i32x4_shl(shifted, 23));
}

static inline v128_t exp_v(v128_t x) { return exp2_v(wasm_f32x4_mul(x, splat(1.44269504088896341f))); }

/* x·sigmoid(x) as x / (1 + e^-x): no cancellation at either end. */
static inline v128_t silu_v(v128_t v) { return wasm_f32x4_div(v, wasm_f32x4_add(splat(1.0f), exp2_v(wasm_f32x4_mul(v, splat(-1.44269504088896341f))))); }

/* erf(z) = z·P(z²)/Q(z²) on [-4, 4], ±1 beyond (erf(4) is 1 in float). */
static inline v128_t erf_v(v128_t z) {
  z = clamp_v(z, -4.0f, 4.0f);
  const v128_t z2 = wasm_f32x4_mul(z, z);
  v128_t p = splat(-2.72614225801306e-10f);
  p = madd(p, z2, splat(2.77068142495902e-08f));
  p = madd(p, z2, splat(-2.10102402082508e-06f));
  p = madd(p, z2, splat(-5.69250639462346e-05f));
  p = madd(p, z2, splat(-7.34990630326855e-04f));
  p = madd(p, z2, splat(-2.95459980854025e-03f));
  p = madd(p, z2, splat(-1.60960333262415e-02f));
  v128_t q = splat(-1.45660718464996e-05f);
  q = madd(q, z2, splat(-2.13374055278905e-04f));
  q = madd(q, z2, splat(-1.68282697438203e-03f));
  q = madd(q, z2, splat(-7.37332916720468e-03f));
  q = madd(q, z2, splat(-1.42647390514189e-02f));
  const v128_t e = clamp_v(wasm_f32x4_div(wasm_f32x4_mul(z, p), q), -1.0f, 1.0f);
  const v128_t sign = wasm_v128_or(wasm_v128_and(z, splat(-0.0f)), splat(1.0f));
  return wasm_v128_bitselect(sign, e, wasm_f32x4_ge(wasm_f32x4_abs(z), splat(4.0f)));
}

/* Exact GELU: 0.5·v·(1 + erf(v/√2)). */
static inline v128_t gelu_v(v128_t v) {
  const v128_t e = erf_v(wasm_f32x4_mul(v, splat(0.70710678118654752f)));
  return wasm_f32x4_mul(wasm_f32x4_mul(splat(0.5f), v), wasm_f32x4_add(splat(1.0f), e));
}

/*
 * PyTorch's tanh form 0.5·v·(1 + tanh(u)), u = √(2/π)·(v + 0.044715·v³), as v·sigmoid(2u): the same
 * function, without 1 + tanh's cancellation below zero. The sigmoid is saturated long before
 * |v| = 10; clamping there keeps v³ finite.
 */
static inline v128_t gelu_tanh_v(v128_t v) {
  const v128_t c = clamp_v(v, -10.0f, 10.0f);
  const v128_t inner = madd(wasm_f32x4_mul(wasm_f32x4_mul(splat(0.044715f), c), c), c, c);
  const v128_t minus2u = wasm_f32x4_mul(inner, splat(-2.0f * 0.79788456080286536f));
  return wasm_f32x4_div(v, wasm_f32x4_add(splat(1.0f), exp_v(minus2u)));
}
