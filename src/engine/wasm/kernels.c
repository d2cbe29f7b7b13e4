/*
 * The fast CPU engine's kernels: WebAssembly SIMD (128-bit), no libc, single-threaded.
 * Built by scripts/build-wasm.mjs (clang --target=wasm32 -msimd128); the .wasm next to this
 * file is committed, and src/engine/wasm/kernels-wasm.ts embeds it.
 *
 * Tensors are NCHW float32, as in the JavaScript reference (src/engine/cpu). Every entry point
 * takes a descriptor written once by the session (src/engine/wasm/session.ts) at load time;
 * pointers in it are byte offsets into the one linear memory. Layout of each descriptor is
 * mirrored there field by field: change both together.
 *
 * Convolutions run as a packed GEMM, C[Cout x OH*OW] = A[Cout x Cin*Kh*Kw] * B, where A is the
 * weight (batch norm folded in, packed once into panels of 4 rows) and B the input, gathered
 * block by block into panels of 8 columns (implicit im2col; a 1x1 stride-1 conv only copies).
 * Grouped convolutions run a direct kernel over a zero-padded copy of the group's input, split
 * into column phases for strided convs; depthwise ones their own, four channels interleaved.
 * Bias, residual add and activation are applied in the epilogue as the tile is stored.
 */
#include <wasm_simd128.h>

typedef int i32;
typedef unsigned int u32;

#define MR 4
#define NR 8
/* Cache blocking of the GEMM: a KC x NC block of B (<= 256 KiB) is packed at a time; A is read in MC-row blocks. */
#ifndef KC_MAX
#define KC_MAX 256
#endif
#ifndef NC_MAX
#define NC_MAX 256
#endif
#ifndef MC_MAX
#define MC_MAX 128
#endif

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_LEAKY = 2, ACT_RELU6 = 3, ACT_HARDSIGMOID = 4, ACT_HARDSWISH = 5, ACT_SILU = 6, ACT_GELU = 7, ACT_GELU_TANH = 8 };

#define EXPORT(name) __attribute__((export_name(#name)))

#define F(p) ((float *)(unsigned long)(p))
#define CF(p) ((const float *)(unsigned long)(p))

static inline i32 min_i(i32 a, i32 b) { return a < b ? a : b; }
static inline i32 max_i(i32 a, i32 b) { return a > b ? a : b; }
static inline i32 ceil_div(i32 a, i32 b) { return (a + b - 1) / b; }

#include "activations.h"

/*
 * The activations with an exp or erf are "deferred": act_v and act_s leave them alone, and each
 * kernel runs act_rows over the values it has just stored (in L1 still). Inlined into act_v
 * they would put their polynomials eight times into the GEMM tile; called once per vector, the
 * call cost as much as the function (SiLU: 9.3 ns per vector called, 5.7 inline).
 */
static inline i32 deferred(i32 act) { return act >= ACT_SILU; }

/* f on the whole vectors of a row, in place; returns where the tail (under 4 values) starts. */
#define ACT_ROW(f)                                                        \
  {                                                                       \
    for (; i + 4 <= cols; i += 4) wasm_v128_store(q + i, f(wasm_v128_load(q + i))); \
  }

/*
 * A deferred activation, in place, on `rows` rows of `cols` values `ld` apart; the last partial
 * vector through a copy. One loop per function and the tail outside it: with both inside one
 * loop, V8 stored the tail's copy every iteration (SiLU 3.75 -> 3.6 ns per vector).
 */
static v128_t deferred_v(v128_t v, i32 act) { return act == ACT_SILU ? silu_v(v) : act == ACT_GELU ? gelu_v(v) : gelu_tanh_v(v); }

__attribute__((noinline)) static void act_rows(float *p, i32 rows, i32 cols, i32 ld, i32 act) {
  for (i32 r = 0; r < rows; r++) {
    float *q = p + r * ld;
    i32 i = 0;
    if (act == ACT_SILU)
      ACT_ROW(silu_v)
    else if (act == ACT_GELU)
      ACT_ROW(gelu_v)
    else
      ACT_ROW(gelu_tanh_v)
    if (i < cols) {
      const i32 m = cols - i;
      float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (i32 j = 0; j < m; j++) t[j] = q[i + j];
      wasm_v128_store(t, deferred_v(wasm_v128_load(t), act));
      for (i32 j = 0; j < m; j++) q[i + j] = t[j];
    }
  }
}

/* The epilogue activations that run inline; deferred ones pass through (act_rows applies them). */
static inline v128_t act_v(v128_t v, i32 act, v128_t slope) {
  if (act == ACT_RELU) return wasm_f32x4_max(v, wasm_f32x4_splat(0.0f));
  if (act == ACT_LEAKY) {
    v128_t neg = wasm_f32x4_lt(v, wasm_f32x4_splat(0.0f));
    return wasm_v128_bitselect(wasm_f32x4_mul(v, slope), v, neg);
  }
  if (act == ACT_RELU6) return relu6_v(v);
  if (act == ACT_HARDSWISH) return hardswish_v(v);
  if (act == ACT_HARDSIGMOID) return hardsigmoid_v(v);
  return v;
}

static inline float act_s(float v, i32 act, float slope) {
  if (act == ACT_RELU) return v > 0.0f ? v : 0.0f;
  if (act == ACT_LEAKY) return v >= 0.0f ? v : v * slope;
  /* The clips in lane 0: the vector path's rounding, for the few values past a multiple of 4. */
  if (act != ACT_NONE && !deferred(act)) return wasm_f32x4_extract_lane(act_v(wasm_f32x4_splat(v), act, wasm_f32x4_splat(slope)), 0);
  return v;
}

/* ------------------------------------------------------------------ */
/* GEMM micro-kernel: a 4 x 8 tile of C over kc steps.                 */
/* ------------------------------------------------------------------ */

/*
 * a: A micro-panel, kc x 4 (row values of one k adjacent); b: B micro-panel, kc x 8.
 * c: the tile's top-left, rows ldc apart. first: start from zero, else add to what c holds;
 * last: add bias (one per row), the residual tile (rows ldr apart) and apply the activation.
 */
__attribute__((noinline)) static void tile_4x8(i32 kc, const float *restrict a, const float *restrict b, float *restrict c, i32 ldc, i32 first, i32 last,
                     const float *bias, const float *res, i32 ldr, i32 act, float slope) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  /*
   * One k step per iteration, in a function of its own (noinline): V8 unrolls small innermost
   * wasm loops, the more the deeper they nest, and then keeps a copy of the accumulators on the
   * stack at every exit of the copies; inlined into the GEMM's loop nest, this loop ran 25%
   * slower. Bigger bodies (several k steps) spill worse still.
   */
#define STEP(a, b)                                                                   \
  {                                                                                  \
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load((b) + 4);               \
    v128_t x = wasm_v128_load32_splat(a);                                            \
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));                                \
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));                                \
    x = wasm_v128_load32_splat((a) + 1);                                             \
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));                                \
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));                                \
    x = wasm_v128_load32_splat((a) + 2);                                             \
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));                                \
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));                                \
    x = wasm_v128_load32_splat((a) + 3);                                             \
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));                                \
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));                                \
  }
#pragma clang loop unroll(disable)
  for (i32 k = 0; k < kc; k++, a += 4, b += 8) STEP(a, b);
  float *c0 = c, *c1 = c + ldc, *c2 = c + 2 * ldc, *c3 = c + 3 * ldc;
  if (!first) {
    c00 = wasm_f32x4_add(c00, wasm_v128_load(c0));
    c01 = wasm_f32x4_add(c01, wasm_v128_load(c0 + 4));
    c10 = wasm_f32x4_add(c10, wasm_v128_load(c1));
    c11 = wasm_f32x4_add(c11, wasm_v128_load(c1 + 4));
    c20 = wasm_f32x4_add(c20, wasm_v128_load(c2));
    c21 = wasm_f32x4_add(c21, wasm_v128_load(c2 + 4));
    c30 = wasm_f32x4_add(c30, wasm_v128_load(c3));
    c31 = wasm_f32x4_add(c31, wasm_v128_load(c3 + 4));
  }
  if (last) {
    const v128_t z0 = wasm_v128_load32_splat(bias), z1 = wasm_v128_load32_splat(bias + 1);
    const v128_t z2 = wasm_v128_load32_splat(bias + 2), z3 = wasm_v128_load32_splat(bias + 3);
    c00 = wasm_f32x4_add(c00, z0);
    c01 = wasm_f32x4_add(c01, z0);
    c10 = wasm_f32x4_add(c10, z1);
    c11 = wasm_f32x4_add(c11, z1);
    c20 = wasm_f32x4_add(c20, z2);
    c21 = wasm_f32x4_add(c21, z2);
    c30 = wasm_f32x4_add(c30, z3);
    c31 = wasm_f32x4_add(c31, z3);
    if (res) {
      c00 = wasm_f32x4_add(c00, wasm_v128_load(res));
      c01 = wasm_f32x4_add(c01, wasm_v128_load(res + 4));
      c10 = wasm_f32x4_add(c10, wasm_v128_load(res + ldr));
      c11 = wasm_f32x4_add(c11, wasm_v128_load(res + ldr + 4));
      c20 = wasm_f32x4_add(c20, wasm_v128_load(res + 2 * ldr));
      c21 = wasm_f32x4_add(c21, wasm_v128_load(res + 2 * ldr + 4));
      c30 = wasm_f32x4_add(c30, wasm_v128_load(res + 3 * ldr));
      c31 = wasm_f32x4_add(c31, wasm_v128_load(res + 3 * ldr + 4));
    }
    if (act != ACT_NONE) {
      const v128_t s = wasm_f32x4_splat(slope);
      c00 = act_v(c00, act, s);
      c01 = act_v(c01, act, s);
      c10 = act_v(c10, act, s);
      c11 = act_v(c11, act, s);
      c20 = act_v(c20, act, s);
      c21 = act_v(c21, act, s);
      c30 = act_v(c30, act, s);
      c31 = act_v(c31, act, s);
    }
  }
  wasm_v128_store(c0, c00);
  wasm_v128_store(c0 + 4, c01);
  wasm_v128_store(c1, c10);
  wasm_v128_store(c1 + 4, c11);
  wasm_v128_store(c2, c20);
  wasm_v128_store(c2 + 4, c21);
  wasm_v128_store(c3, c30);
  wasm_v128_store(c3 + 4, c31);
  if (last && deferred(act)) act_rows(c, MR, NR, ldc, act);
}

/* Any activation on a vector, the deferred ones inline: for kernels that apply it once per few MACs, not in the 4x8 tile. */
static inline v128_t act_any_v(v128_t v, i32 act, v128_t slope) {
  if (act == ACT_SILU) return silu_v(v);
  if (act == ACT_GELU) return gelu_v(v);
  if (act == ACT_GELU_TANH) return gelu_tanh_v(v);
  return act_v(v, act, slope);
}

/*
 * One column of a tile (mr <= 4 rows of C, rows ldc apart) from column b of a packed B panel
 * (values NR apart): the columns past a multiple of 8 (49 positions at 7x7: 6 tiles and one
 * column) and the squeeze-and-excitation's 1x1 convs on one position. Through tile_partial they
 * cost a whole tile each.
 */
__attribute__((noinline)) static void tile_4x1(i32 mr, i32 kc, const float *restrict a, const float *restrict b, float *restrict c, i32 ldc, i32 first, i32 last,
                                               const float *bias, const float *res, i32 ldr, i32 act, float slope) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  i32 k = 0;
#pragma clang loop unroll(disable)
  for (; k + 2 <= kc; k += 2, a += 2 * MR, b += 2 * NR) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a), wasm_v128_load32_splat(b)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + MR), wasm_v128_load32_splat(b + NR)));
  }
  if (k < kc) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a), wasm_v128_load32_splat(b)));
  float t[MR] = {0.0f, 0.0f, 0.0f, 0.0f}, r[MR] = {0.0f, 0.0f, 0.0f, 0.0f}, z[MR] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (i32 i = 0; i < mr; i++) {
    if (!first) t[i] = c[i * ldc];
    if (last) z[i] = bias[i];
    if (last && res) r[i] = res[i * ldr];
  }
  v128_t v = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_v128_load(t));
  if (last) v = act_any_v(wasm_f32x4_add(v, wasm_f32x4_add(wasm_v128_load(z), wasm_v128_load(r))), act, wasm_f32x4_splat(slope));
  wasm_v128_store(t, v);
  for (i32 i = 0; i < mr; i++) c[i * ldc] = t[i];
}

/* A partial tile (mr < 4 rows or nr < 8 columns): through a full one on the stack. */
static void tile_partial(i32 mr, i32 nr, i32 kc, const float *a, const float *b, float *c, i32 ldc, i32 first, i32 last,
                         const float *bias, const float *res, i32 ldr, i32 act, float slope) {
  float t[MR * NR], tb[MR], tr[MR * NR];
  for (i32 i = 0; i < MR; i++) {
    tb[i] = i < mr ? bias[i] : 0.0f;
    for (i32 j = 0; j < NR; j++) {
      t[i * NR + j] = (!first && i < mr && j < nr) ? c[i * ldc + j] : 0.0f;
      tr[i * NR + j] = (res && i < mr && j < nr) ? res[i * ldr + j] : 0.0f;
    }
  }
  tile_4x8(kc, a, b, t, NR, first, last, tb, res ? tr : 0, NR, act, slope);
  for (i32 i = 0; i < mr; i++)
    for (i32 j = 0; j < nr; j++) c[i * ldc + j] = t[i * NR + j];
}

/* ------------------------------------------------------------------ */
/* Convolution                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
  i32 batch, cin, h, w, cout, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  /* Input, output (already at its channel offset inside a concat's buffer) and residual; strides between images, in floats. */
  i32 x, x_bstride, y, y_bstride, res, res_bstride;
  /* Packed weight, bias (always present: zeros where the layer has none), activation, leaky slope. */
  i32 wt, bias, act;
  float slope;
  /* Scratch memory for packing, and which kernel: 0 GEMM, 1 direct. */
  i32 scratch, algo;
} ConvDesc;

/*
 * Gathers rows k0..k0+kc and columns n0..n0+nc of the implicit im2col matrix of one image's
 * (one group's) input into panels of NR columns: dst[panel][k][NR], zero-padded past nc.
 * Panel by panel, so that the writes are sequential; within a panel, 8 columns on one output
 * row and inside the input row (the common case) are two vector loads (four and two shuffles
 * at stride 2).
 */
static void pack_b_conv(const ConvDesc *d, const float *x, i32 k0, i32 kc, i32 n0, i32 nc, float *dst) {
  const i32 H = d->h, W = d->w, OW = d->ow, kh = d->kh, kw = d->kw, sh = d->sh, sw = d->sw, dh = d->dh, dw = d->dw;
  const i32 HW = H * W;
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && d->ph == 0 && d->pw == 0) {
    for (i32 jp = 0; jp < nc; jp += NR) {
      float *o = dst + (jp / NR) * kc * NR;
      const float *src = x + k0 * HW + n0 + jp;
      if (jp + NR <= nc) {
        for (i32 kk = 0; kk < kc; kk++, o += NR, src += HW) {
          wasm_v128_store(o, wasm_v128_load(src));
          wasm_v128_store(o + 4, wasm_v128_load(src + 4));
        }
      } else {
        const i32 cols = nc - jp;
        for (i32 kk = 0; kk < kc; kk++, o += NR, src += HW)
          for (i32 t = 0; t < NR; t++) o[t] = t < cols ? src[t] : 0.0f;
      }
    }
    return;
  }
  const i32 khw = kh * kw;
  const i32 ci0 = k0 / khw, r0 = k0 - ci0 * khw, ki0 = r0 / kw, kj0 = r0 - ki0 * kw;
  for (i32 jp = 0; jp < nc; jp += NR) {
    const i32 cols = min_i(NR, nc - jp);
    /* Top-left input position of each column's window; columns past nc read nothing. */
    i32 iy[NR], ix[NR];
    i32 n = n0 + jp, oh = n / OW, ow = n - oh * OW;
    const i32 sameRow = cols == NR && ow + NR <= OW;
    for (i32 t = 0; t < NR; t++) {
      if (t < cols) {
        iy[t] = oh * sh - d->ph;
        ix[t] = ow * sw - d->pw;
        if (++ow == OW) {
          ow = 0;
          oh++;
        }
      } else {
        iy[t] = -(1 << 28);
        ix[t] = 0;
      }
    }
    float *o = dst + (jp / NR) * kc * NR;
    i32 ci = ci0, ki = ki0, kj = kj0;
    for (i32 kk = 0; kk < kc; kk++, o += NR) {
      const float *xc = x + ci * HW;
      const i32 dy = ki * dh, dx = kj * dw;
      const i32 ih = iy[0] + dy, iw = ix[0] + dx;
      if (sameRow && sw == 1 && (u32)ih < (u32)H && iw >= 0 && iw + NR <= W) {
        const float *p = xc + ih * W + iw;
        wasm_v128_store(o, wasm_v128_load(p));
        wasm_v128_store(o + 4, wasm_v128_load(p + 4));
      } else if (sameRow && sw == 2 && (u32)ih < (u32)H && iw >= 0 && iw + 2 * NR - 1 <= W) {
        /* Reads one value past the last one used: the row's next value, or the memory's slack. */
        const float *p = xc + ih * W + iw;
        const v128_t v0 = wasm_v128_load(p), v1 = wasm_v128_load(p + 4), v2 = wasm_v128_load(p + 8), v3 = wasm_v128_load(p + 12);
        wasm_v128_store(o, wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6));
        wasm_v128_store(o + 4, wasm_i32x4_shuffle(v2, v3, 0, 2, 4, 6));
      } else if (sameRow && (u32)ih >= (u32)H) {
        wasm_v128_store(o, wasm_f32x4_splat(0.0f));
        wasm_v128_store(o + 4, wasm_f32x4_splat(0.0f));
      } else {
        for (i32 t = 0; t < NR; t++) {
          const i32 y = iy[t] + dy, xx = ix[t] + dx;
          o[t] = ((u32)y < (u32)H && (u32)xx < (u32)W) ? xc[y * W + xx] : 0.0f;
        }
      }
      if (++kj == kw) {
        kj = 0;
        if (++ki == kh) {
          ki = 0;
          ci++;
        }
      }
    }
  }
}

/*
 * C[M x N] (rows ldc apart) = A[M x K] * B + epilogue, for one image (and group). A is packed as
 * ceil(M/4) panels of K x 4; B is gathered by pack_b_conv into `scratch`.
 */
static void gemm_conv(const ConvDesc *d, i32 M, i32 N, i32 K, const float *A, const float *x, float *C, i32 ldc, const float *bias,
                      const float *res, i32 ldr, float *scratch) {
  const i32 kblocks = ceil_div(K, KC_MAX);
  const i32 kcStep = ceil_div(K, kblocks);
  /*
   * A deferred activation (SiLU, GELU) runs once per column strip of 8 over the MC rows just
   * stored (in L1 still) rather than in each tile: a call per tile cost a quarter of SiLU's time.
   */
  const i32 act = d->act, tact = deferred(act) ? ACT_NONE : act;
  for (i32 n0 = 0; n0 < N; n0 += NC_MAX) {
    const i32 nc = min_i(NC_MAX, N - n0);
    for (i32 k0 = 0; k0 < K; k0 += kcStep) {
      const i32 kc = min_i(kcStep, K - k0);
      const i32 first = k0 == 0, last = k0 + kc >= K;
      pack_b_conv(d, x, k0, kc, n0, nc, scratch);
      for (i32 m0 = 0; m0 < M; m0 += MC_MAX) {
        const i32 mc = min_i(MC_MAX, M - m0);
        for (i32 j = 0; j < nc; j += NR) {
          const i32 nr = min_i(NR, nc - j);
          const float *bp = scratch + (j / NR) * kc * NR;
          for (i32 i = m0; i < m0 + mc; i += MR) {
            const i32 mr = min_i(MR, M - i);
            const float *ap = A + (i / MR) * K * MR + k0 * MR;
            float *cp = C + i * ldc + n0 + j;
            const float *rp = res ? res + i * ldr + n0 + j : 0;
#ifdef PACK_ONLY
            if (mr) continue;
#endif
            if (mr == MR && nr == NR)
              tile_4x8(kc, ap, bp, cp, ldc, first, last, bias + i, rp, ldr, tact, d->slope);
            else if (nr <= 2)
              for (i32 jj = 0; jj < nr; jj++) tile_4x1(mr, kc, ap, bp + jj, cp + jj, ldc, first, last, bias + i, rp ? rp + jj : 0, ldr, tact, d->slope);
            else
              tile_partial(mr, nr, kc, ap, bp, cp, ldc, first, last, bias + i, rp, ldr, tact, d->slope);
          }
          if (last && tact != act) act_rows(C + m0 * ldc + n0 + j, mc, nr, ldc, act);
        }
      }
    }
  }
}

/* Scratch floats the GEMM path needs: one packed block of B. */
EXPORT(conv_gemm_scratch) i32 conv_gemm_scratch(void) { return KC_MAX * NC_MAX; }

/*
 * Direct convolution (grouped and dense stride-1 layers; depthwise ones go to conv_dw_nc4):
 * per image and group, the
 * group's input is copied zero-padded into `sw` column phases, phase p holding padded columns
 * p, p+sw, ...: output column ow at kernel column kj then reads phase (kj*dw) % sw at
 * ow + (kj*dw) / sw, contiguous in ow for any stride, and every tap (ci, ki, kj) is one offset
 * from the window's corner. Tiles of 4 output channels x 8 columns (the GEMM's, with B read
 * straight from the copy) go to a scratch and are stored through the epilogue.
 *
 * Rows of 8k columns are tiled row by row. Other widths are tiled "flat" where that computes
 * fewer columns in vain: the copy is split into row phases too, so that output row oh + 1 reads
 * the row after output row oh's in every plane, and the output positions oh * P + ow run on across
 * rows; only the P - OW gap columns are wasted (1 of 29 at 28x28, against 4 of 32 for rows rounded
 * up to 8). At stride 1 the gap is shared: a row's right padding is the next row's left.
 *
 * Weight layout per group: blocks of 4 output channels as [ci][ki][kj][4], then the remaining
 * channels one by one as [ci][ki][kj].
 */
typedef struct {
  i32 flat;
  /* Row phases (flat: the row stride; by rows: 1), column phases are the column stride. */
  i32 rph;
  /* Padded planes: row pitch, rows, floats per plane (with slack for the last tile's reads). */
  i32 wq, hp, plane;
  /* Output scratch: positions per channel (a multiple of 8), pitch of an output row in it. */
  i32 npos, opitch;
} DirectGeom;

static DirectGeom direct_geom(const ConvDesc *d) {
  DirectGeom g;
  const i32 OW = d->ow, OH = d->oh, sw = d->sw, sh = d->sh;
  const i32 owp = ceil_div(OW, NR) * NR;
  /* Flat pitch: at stride 1 a row's right padding is the next row's left (rr: padding read past the right edge). */
  const i32 rr = max_i(0, (OW - 1) + (d->kw - 1) * d->dw - d->pw - (d->w - 1));
  const i32 pitch = sw == 1 ? max_i(OW, d->w + max_i(d->pw, rr)) : OW + ((d->kw - 1) * d->dw) / sw;
  const i32 nflat = ceil_div(OH * pitch, NR) * NR;
  g.flat = nflat < OH * owp;
  if (g.flat) {
    g.rph = sh;
    g.wq = pitch;
    g.hp = OH + ((d->kh - 1) * d->dh) / sh;
    g.npos = nflat;
    g.opitch = pitch;
  } else {
    g.rph = 1;
    g.wq = owp + ((d->kw - 1) * d->dw) / sw;
    g.hp = (OH - 1) * sh + (d->kh - 1) * d->dh + 1;
    g.npos = OH * owp;
    g.opitch = owp;
  }
  g.plane = ceil_div(g.hp * g.wq + g.wq + 2 * NR + ((d->kw - 1) * d->dw) / sw, 4) * 4;
  return g;
}

/* The depthwise kernel (below) and its scratch. */
static i32 dw_fast(const ConvDesc *d);
static i32 nc4_scratch(const ConvDesc *d);

EXPORT(conv_direct_scratch) i32 conv_direct_scratch(i32 descPtr) {
  const ConvDesc *d = (const ConvDesc *)(unsigned long)descPtr;
  if (dw_fast(d)) return nc4_scratch(d);
  const DirectGeom g = direct_geom(d);
  const i32 cinG = d->cin / d->groups;
  return cinG * g.rph * d->sw * g.plane + MR * g.npos + cinG * d->kh * d->kw;
}

/* Output rows from the scratch (`rows` channels npos apart, output rows opitch apart) through the epilogue. */
static void store_rows(const ConvDesc *d, const DirectGeom *g, const float *t, i32 rows, float *y, const float *bias, const float *res) {
  const i32 OH = d->oh, OW = d->ow;
  const v128_t s = wasm_f32x4_splat(d->slope);
  for (i32 r = 0; r < rows; r++) {
    const v128_t bv = wasm_f32x4_splat(bias[r]);
    for (i32 oh = 0; oh < OH; oh++) {
      const float *src = t + r * g->npos + oh * g->opitch;
      float *dst = y + (r * OH + oh) * OW;
      const float *rs = res ? res + (r * OH + oh) * OW : 0;
      i32 ow = 0;
      for (; ow + 4 <= OW; ow += 4) {
        v128_t v = wasm_f32x4_add(wasm_v128_load(src + ow), bv);
        if (rs) v = wasm_f32x4_add(v, wasm_v128_load(rs + ow));
        wasm_v128_store(dst + ow, act_v(v, d->act, s));
      }
      for (; ow < OW; ow++) {
        float v = src[ow] + bias[r];
        if (rs) v += rs[ow];
        dst[ow] = act_s(v, d->act, d->slope);
      }
    }
    if (deferred(d->act)) act_rows(y + r * OH * OW, 1, OH * OW, 0, d->act);
  }
}

/*
 * The padded, phase-split copy of `cinG` channels of one image's input: per channel, rph x sw
 * planes; plane (rp, cp) row t, column q holds input (t*rph + rp - ph, q*sw + cp - pw), zero
 * outside the input.
 */
static void build_pad(const ConvDesc *d, const DirectGeom *g, const float *x, i32 cinG, float *pad) {
  const i32 H = d->h, W = d->w, sw = d->sw, rph = g->rph;
  for (i32 ci = 0; ci < cinG; ci++) {
    const float *xc = x + ci * H * W;
    for (i32 rp = 0; rp < rph; rp++) {
      for (i32 p = 0; p < sw; p++) {
        float *pl = pad + ((ci * rph + rp) * sw + p) * g->plane;
        /* Phase columns q whose input column q*sw + p - pw lies in [0, W). */
        const i32 first = d->pw - p;
        const i32 q0 = min_i(g->wq, max_i(0, ceil_div(max_i(first, 0), sw)));
        const i32 q1 = max_i(q0, min_i(g->wq, (W - 1 + d->pw - p) >= 0 ? (W - 1 + d->pw - p) / sw + 1 : 0));
        for (i32 t = 0; t < g->hp; t++) {
          const i32 ih = t * rph + rp - d->ph;
          float *prow = pl + t * g->wq;
          if (ih < 0 || ih >= H) {
            for (i32 q = 0; q < g->wq; q++) prow[q] = 0.0f;
            continue;
          }
          const float *xrow = xc + ih * W + p - d->pw;
          for (i32 q = 0; q < q0; q++) prow[q] = 0.0f;
          if (sw == 1) {
            i32 q = q0;
            for (; q + 4 <= q1; q += 4) wasm_v128_store(prow + q, wasm_v128_load(xrow + q));
            for (; q < q1; q++) prow[q] = xrow[q];
          } else {
            for (i32 q = q0; q < q1; q++) prow[q] = xrow[q * sw];
          }
          for (i32 q = q1; q < g->wq; q++) prow[q] = 0.0f;
        }
        for (i32 q = g->hp * g->wq; q < g->plane; q++) pl[q] = 0.0f;
      }
    }
  }
}

/*
 * A tile of 4 output channels x 8 positions: the GEMM's micro-kernel with B read straight from
 * the padded copy through a table of tap offsets (noinline: see tile_4x8).
 */
__attribute__((noinline)) static void direct_4x8(i32 taps, const i32 *tap, const float *base, const float *w4, float *t, i32 rs) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
#pragma clang loop unroll(disable)
  for (i32 k = 0; k < taps; k++, w4 += MR) {
    const float *p = base + tap[k];
    const v128_t b0 = wasm_v128_load(p), b1 = wasm_v128_load(p + 4);
    v128_t a = wasm_v128_load32_splat(w4);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(w4 + 1);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(w4 + 2);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(w4 + 3);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a, b1));
  }
  wasm_v128_store(t, c00);
  wasm_v128_store(t + 4, c01);
  wasm_v128_store(t + rs, c10);
  wasm_v128_store(t + rs + 4, c11);
  wasm_v128_store(t + 2 * rs, c20);
  wasm_v128_store(t + 2 * rs + 4, c21);
  wasm_v128_store(t + 3 * rs, c30);
  wasm_v128_store(t + 3 * rs + 4, c31);
}

/* One output channel, 16 positions at a time (8 for the last of an odd count): depthwise and leftover channels. */
__attribute__((noinline)) static void direct_1x16(i32 taps, const i32 *tap, const float *base, const float *w1, float *t, i32 cols) {
  v128_t c0 = wasm_f32x4_splat(0.0f), c1 = c0, c2 = c0, c3 = c0;
#pragma clang loop unroll(disable)
  for (i32 k = 0; k < taps; k++) {
    const float *p = base + tap[k];
    const v128_t a = wasm_v128_load32_splat(w1 + k);
    c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(a, wasm_v128_load(p)));
    c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(a, wasm_v128_load(p + 4)));
    if (cols > 8) {
      c2 = wasm_f32x4_add(c2, wasm_f32x4_mul(a, wasm_v128_load(p + 8)));
      c3 = wasm_f32x4_add(c3, wasm_f32x4_mul(a, wasm_v128_load(p + 12)));
    }
  }
  wasm_v128_store(t, c0);
  wasm_v128_store(t + 4, c1);
  if (cols > 8) {
    wasm_v128_store(t + 8, c2);
    wasm_v128_store(t + 12, c3);
  }
}

/*
 * Depthwise convolutions (one input and one output channel per group: MobileNet's and
 * EfficientNet's), four channels at a time interleaved: each vector holds one position of four
 * channels, so a tap is one aligned load times one weight vector, a stride or a dilation is only
 * a step between loads, and no row has a tail. The group's planes are transposed into a
 * zero-bordered buffer (hp x wp positions), computed position by position into an interleaved
 * output, and transposed back through the epilogue along the whole plane (contiguous per
 * channel). On MobileNetV2's layers (loaded machine) the generic direct kernel (one channel per
 * call of 16 positions, a padding copy with strided scalar reads, a separate epilogue pass) took
 * 3.5-4.8 ns per output on 7x7 planes and 1.5 on 112x112, a row-by-row one 2.5-4 and 1.2-1.4;
 * this one 1.8 and 1.2.
 */
typedef struct {
  i32 hp, wp;
} Nc4Geom;

static i32 dw_fast(const ConvDesc *d) { return d->groups == d->cin && d->cout == d->cin; }

static Nc4Geom nc4_geom(const ConvDesc *d) {
  Nc4Geom g;
  g.hp = (d->oh - 1) * d->sh + (d->kh - 1) * d->dh + 1;
  g.wp = (d->ow - 1) * d->sw + (d->kw - 1) * d->dw + 1;
  return g;
}

static i32 nc4_scratch(const ConvDesc *d) {
  const Nc4Geom g = nc4_geom(d);
  const i32 kk = d->kh * d->kw;
  return 4 * (g.hp * g.wp + d->oh * d->ow + kk + 1) + kk + 8;
}

static inline void transpose4(v128_t *a, v128_t *b, v128_t *c, v128_t *e) {
  const v128_t t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*c, *e, 0, 4, 1, 5);
  const v128_t t2 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(*c, *e, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);
  *e = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);
}

/*
 * One output row of an interleaved group: positions ow (window corner at p + ow*step floats) into
 * o, 4 positions per pass of the tap loop, then one by one. wv: a weight vector per tap.
 */
__attribute__((noinline)) static void nc4_row(i32 ow_n, i32 taps, const i32 *tap, const float *p, i32 step, const float *wv, const float *bias, float *o) {
  const v128_t bv = wasm_v128_load(bias);
  i32 ow = 0;
  for (; ow + 4 <= ow_n; ow += 4, p += 4 * step, o += 16) {
    v128_t a0 = bv, a1 = bv, a2 = bv, a3 = bv;
#pragma clang loop unroll(disable)
    for (i32 k = 0; k < taps; k++) {
      const float *q = p + tap[k];
      const v128_t w = wasm_v128_load(wv + 4 * k);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(w, wasm_v128_load(q)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(w, wasm_v128_load(q + step)));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(w, wasm_v128_load(q + 2 * step)));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(w, wasm_v128_load(q + 3 * step)));
    }
    wasm_v128_store(o, a0);
    wasm_v128_store(o + 4, a1);
    wasm_v128_store(o + 8, a2);
    wasm_v128_store(o + 12, a3);
  }
  for (; ow < ow_n; ow++, p += step, o += 4) {
    v128_t a0 = bv;
#pragma clang loop unroll(disable)
    for (i32 k = 0; k < taps; k++) a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(wv + 4 * k), wasm_v128_load(p + tap[k])));
    wasm_v128_store(o, a0);
  }
}

/*
 * nc4_row for 3x3 kernels without dilation: the nine weight vectors held in registers and the
 * taps at fixed offsets from three row pointers, one position per iteration.
 */
__attribute__((noinline)) static void nc4_row3(i32 ow_n, i32 rs, const float *p, i32 step, const float *wv, const float *bias, float *o) {
  const v128_t bv = wasm_v128_load(bias);
  const v128_t w0 = wasm_v128_load(wv), w1 = wasm_v128_load(wv + 4), w2 = wasm_v128_load(wv + 8);
  const v128_t w3 = wasm_v128_load(wv + 12), w4 = wasm_v128_load(wv + 16), w5 = wasm_v128_load(wv + 20);
  const v128_t w6 = wasm_v128_load(wv + 24), w7 = wasm_v128_load(wv + 28), w8 = wasm_v128_load(wv + 32);
#pragma clang loop unroll(disable)
  for (i32 ow = 0; ow < ow_n; ow++, p += step, o += 4) {
    const float *q1 = p + rs, *q2 = p + 2 * rs;
    v128_t a = wasm_f32x4_add(bv, wasm_f32x4_mul(w0, wasm_v128_load(p)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w1, wasm_v128_load(p + 4)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w2, wasm_v128_load(p + 8)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w3, wasm_v128_load(q1)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w4, wasm_v128_load(q1 + 4)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w5, wasm_v128_load(q1 + 8)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w6, wasm_v128_load(q2)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w7, wasm_v128_load(q2 + 4)));
    a = wasm_f32x4_add(a, wasm_f32x4_mul(w8, wasm_v128_load(q2 + 8)));
    wasm_v128_store(o, a);
  }
}

static void conv_dw_nc4(const ConvDesc *d) {
  const Nc4Geom g = nc4_geom(d);
  const i32 C = d->cin, H = d->h, W = d->w, OH = d->oh, OW = d->ow, kh = d->kh, kw = d->kw, ph = d->ph, pw = d->pw;
  const i32 kk = kh * kw, HW = H * W, OHW = OH * OW;
  float *P = F(d->scratch);
  float *O = P + 4 * g.hp * g.wp;
  float *wv = O + 4 * OHW;
  float *bv = wv + 4 * kk;
  i32 *tap = (i32 *)(bv + 4);
  for (i32 ki = 0; ki < kh; ki++)
    for (i32 kj = 0; kj < kw; kj++) tap[ki * kw + kj] = 4 * (ki * d->dh * g.wp + kj * d->dw);
  /* Input rows and columns that land in P: padded row ih + ph < hp. */
  const i32 ih1 = min_i(H, g.hp - ph), iw1 = min_i(W, g.wp - pw);
  const v128_t zero = wasm_f32x4_splat(0.0f), slope = wasm_f32x4_splat(d->slope);
  const i32 act = d->act;
  /* The border never changes between groups: zero it once per call (interior rows' edges and the rows above and below). */
  for (i32 t = 0; t < g.hp; t++) {
    const i32 inside = t >= ph && t - ph < ih1;
    for (i32 q = 0; q < g.wp; q++)
      if (!inside || q < pw || q - pw >= iw1) wasm_v128_store(P + 4 * (t * g.wp + q), zero);
  }
  for (i32 b = 0; b < d->batch; b++) {
    for (i32 c0 = 0; c0 < C; c0 += 4) {
      const i32 nc = min_i(4, C - c0);
      const float *x = CF(d->x) + b * d->x_bstride + c0 * HW;
      const float *w = CF(d->wt) + c0 * kk;
      for (i32 k = 0; k < kk; k++)
        for (i32 j = 0; j < 4; j++) wv[4 * k + j] = j < nc ? w[j * kk + k] : 0.0f;
      for (i32 j = 0; j < 4; j++) bv[j] = j < nc ? CF(d->bias)[c0 + j] : 0.0f;
      /* Transpose in: channel rows past nc read channel 0 (their weights are zero). */
      const float *x0 = x, *x1 = x + (nc > 1 ? HW : 0), *x2 = x + (nc > 2 ? 2 * HW : 0), *x3 = x + (nc > 3 ? 3 * HW : 0);
      for (i32 ih = 0; ih < ih1; ih++) {
        float *prow = P + 4 * ((ih + ph) * g.wp + pw);
        const i32 r = ih * W;
        i32 iw = 0;
        for (; iw + 4 <= iw1; iw += 4) {
          v128_t a = wasm_v128_load(x0 + r + iw), bb = wasm_v128_load(x1 + r + iw), c = wasm_v128_load(x2 + r + iw), e = wasm_v128_load(x3 + r + iw);
          transpose4(&a, &bb, &c, &e);
          wasm_v128_store(prow + 4 * iw, a);
          wasm_v128_store(prow + 4 * iw + 4, bb);
          wasm_v128_store(prow + 4 * iw + 8, c);
          wasm_v128_store(prow + 4 * iw + 12, e);
        }
        for (; iw < iw1; iw++) wasm_v128_store(prow + 4 * iw, wasm_f32x4_make(x0[r + iw], x1[r + iw], x2[r + iw], x3[r + iw]));
      }
      for (i32 oh = 0; oh < OH; oh++) {
        const float *p = P + 4 * oh * d->sh * g.wp;
        if (kh == 3 && kw == 3 && d->dw == 1)
          nc4_row3(OW, 4 * d->dh * g.wp, p, 4 * d->sw, wv, bv, O + 4 * oh * OW);
        else
          nc4_row(OW, kk, tap, p, 4 * d->sw, wv, bv, O + 4 * oh * OW);
      }
      /* Transpose out along the plane, through the epilogue (bias is in already). */
      float *y = F(d->y) + b * d->y_bstride + c0 * OHW;
      const float *res = d->res ? CF(d->res) + b * d->res_bstride + c0 * OHW : 0;
      i32 n = 0;
      for (; n + 4 <= OHW; n += 4) {
        v128_t v[4] = {wasm_v128_load(O + 4 * n), wasm_v128_load(O + 4 * n + 4), wasm_v128_load(O + 4 * n + 8), wasm_v128_load(O + 4 * n + 12)};
        transpose4(&v[0], &v[1], &v[2], &v[3]);
        for (i32 j = 0; j < nc; j++) {
          v128_t u = v[j];
          if (res) u = wasm_f32x4_add(u, wasm_v128_load(res + j * OHW + n));
          wasm_v128_store(y + j * OHW + n, act_any_v(u, act, slope));
        }
      }
      for (; n < OHW; n++) {
        float t[4];
        v128_t u = wasm_v128_load(O + 4 * n);
        if (res) u = wasm_f32x4_add(u, wasm_f32x4_make(res[n], nc > 1 ? res[OHW + n] : 0.0f, nc > 2 ? res[2 * OHW + n] : 0.0f, nc > 3 ? res[3 * OHW + n] : 0.0f));
        wasm_v128_store(t, act_any_v(u, act, slope));
        for (i32 j = 0; j < nc; j++) y[j * OHW + n] = t[j];
      }
    }
  }
}

static void conv_direct(const ConvDesc *d) {
  if (dw_fast(d)) {
    conv_dw_nc4(d);
    return;
  }
  const DirectGeom g = direct_geom(d);
  const i32 G = d->groups, cinG = d->cin / G, coutG = d->cout / G;
  const i32 OH = d->oh, OW = d->ow, kh = d->kh, kw = d->kw, sh = d->sh, sw = d->sw, dh = d->dh, dw = d->dw;
  const i32 KK = cinG * kh * kw;
  const i32 blocks = coutG / MR;
  float *pad = F(d->scratch);
  float *out = pad + cinG * g.rph * sw * g.plane;
  i32 *tap = (i32 *)(out + MR * g.npos);
  /* Offset of each tap (ci, ki, kj) from the window's corner in the padded copy. */
  for (i32 ci = 0, t = 0; ci < cinG; ci++)
    for (i32 ki = 0; ki < kh; ki++)
      for (i32 kj = 0; kj < kw; kj++, t++)
        tap[t] = ((ci * g.rph + (ki * dh) % g.rph) * sw + (kj * dw) % sw) * g.plane + ((ki * dh) / g.rph) * g.wq + (kj * dw) / sw;
  /* Tiles: flat, positions n (window corner at pad + n); by rows, (oh, ov) with the corner at row oh*sh. */
  const i32 owp = g.opitch;
  for (i32 b = 0; b < d->batch; b++) {
    const float *xb = CF(d->x) + b * d->x_bstride;
    float *yb = F(d->y) + b * d->y_bstride;
    const float *rb = d->res ? CF(d->res) + b * d->res_bstride : 0;
    for (i32 gi = 0; gi < G; gi++) {
      build_pad(d, &g, xb + gi * cinG * d->h * d->w, cinG, pad);
      const float *wg = CF(d->wt) + gi * coutG * KK;
      for (i32 blk = 0; blk < blocks; blk++) {
        const float *wb = wg + blk * MR * KK;
        if (g.flat) {
          for (i32 n = 0; n < g.npos; n += NR) direct_4x8(KK, tap, pad + n, wb, out + n, g.npos);
        } else {
          for (i32 oh = 0; oh < OH; oh++)
            for (i32 ov = 0; ov < owp; ov += NR) direct_4x8(KK, tap, pad + oh * sh * g.wq + ov, wb, out + oh * owp + ov, g.npos);
        }
        const i32 oc = gi * coutG + blk * MR;
        store_rows(d, &g, out, MR, yb + oc * OH * OW, CF(d->bias) + oc, rb ? rb + oc * OH * OW : 0);
      }
      for (i32 o = blocks * MR; o < coutG; o++) {
        const float *w1 = wg + blocks * MR * KK + (o - blocks * MR) * KK;
        if (g.flat) {
          for (i32 n = 0; n < g.npos; n += 2 * NR) direct_1x16(KK, tap, pad + n, w1, out + n, g.npos - n);
        } else {
          for (i32 oh = 0; oh < OH; oh++)
            for (i32 ov = 0; ov < owp; ov += 2 * NR) direct_1x16(KK, tap, pad + oh * sh * g.wq + ov, w1, out + oh * owp + ov, owp - ov);
        }
        const i32 oc = gi * coutG + o;
        store_rows(d, &g, out, 1, yb + oc * OH * OW, CF(d->bias) + oc, rb ? rb + oc * OH * OW : 0);
      }
    }
  }
}

EXPORT(conv2d) void conv2d(i32 descPtr) {
  const ConvDesc *d = (const ConvDesc *)(unsigned long)descPtr;
  if (d->algo == 1) {
    conv_direct(d);
    return;
  }
  /* One GEMM per image and group; A holds each group's panels one after the other. */
  const i32 G = d->groups, M = d->cout / G, N = d->oh * d->ow, K = d->cin / G * d->kh * d->kw;
  const i32 groupA = ceil_div(M, MR) * MR * K;
  for (i32 b = 0; b < d->batch; b++) {
    for (i32 g = 0; g < G; g++) {
      const float *res = d->res ? CF(d->res) + b * d->res_bstride + g * M * N : 0;
      const float *x = CF(d->x) + b * d->x_bstride + g * (d->cin / G) * d->h * d->w;
      gemm_conv(d, M, N, K, CF(d->wt) + g * groupA, x, F(d->y) + b * d->y_bstride + g * M * N, N, CF(d->bias) + g * M, res, N, F(d->scratch));
    }
  }
}

/* ------------------------------------------------------------------ */
/* Weight packing, once per session                                   */
/* ------------------------------------------------------------------ */

/*
 * src: a conv weight [cout][kk] (kk = cin/groups x kh x kw); scale: a factor per output channel
 * (a folded batch norm) or 0. mode 0: GEMM panels, per group ceil(coutG/4) panels of kk x 4 (zero
 * rows past coutG); mode 1: the direct kernel's blocks of 4 channels as [kk][4], then the rest
 * one by one as stored.
 */
/* o[k*4 + r] = rows[r][k] * s[r] for k < kk: four rows interleaved, 4 x 4 blocks transposed in registers. */
static void interleave4(const float *w0, const float *w1, const float *w2, const float *w3, const float *s, i32 kk, float *o) {
  const v128_t s0 = wasm_f32x4_splat(s[0]), s1 = wasm_f32x4_splat(s[1]), s2 = wasm_f32x4_splat(s[2]), s3 = wasm_f32x4_splat(s[3]);
  i32 k = 0;
  for (; k + 4 <= kk; k += 4, o += 16) {
    const v128_t r0 = wasm_f32x4_mul(wasm_v128_load(w0 + k), s0), r1 = wasm_f32x4_mul(wasm_v128_load(w1 + k), s1);
    const v128_t r2 = wasm_f32x4_mul(wasm_v128_load(w2 + k), s2), r3 = wasm_f32x4_mul(wasm_v128_load(w3 + k), s3);
    const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
    const v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
    wasm_v128_store(o, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
    wasm_v128_store(o + 4, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
    wasm_v128_store(o + 8, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
    wasm_v128_store(o + 12, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
  }
  for (; k < kk; k++, o += 4) {
    o[0] = w0[k] * s[0];
    o[1] = w1[k] * s[1];
    o[2] = w2[k] * s[2];
    o[3] = w3[k] * s[3];
  }
}

/*
 * src: a conv weight [cout][kk] (kk = cin/groups x kh x kw); scale: a factor per output channel
 * (a folded batch norm) or 0. mode 0: GEMM panels, per group ceil(coutG/4) panels of kk x 4 (zero
 * rows past coutG); mode 1: the direct kernel's blocks of 4 channels as [kk][4], then the rest
 * one by one as stored. Both are 4-row interleaves; the module does them (SIMD) rather than
 * JavaScript, which spent most of a session's creation here.
 */
EXPORT(pack_weights) void pack_weights(i32 src, i32 dst, i32 cout, i32 groups, i32 kk, i32 scale, i32 mode) {
  const float *w = CF(src), *sc = scale ? CF(scale) : 0;
  float *o = F(dst);
  const i32 coutG = cout / groups;
  const float ones[MR] = {1.0f, 1.0f, 1.0f, 1.0f};
  /* Rows past coutG read row 0 times zero. */
  const float zeros[MR] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (i32 g = 0; g < groups; g++) {
    const float *wg = w + g * coutG * kk;
    const float *sg = sc ? sc + g * coutG : 0;
    const i32 blocks = mode == 0 ? ceil_div(coutG, MR) : coutG / MR;
    float *og = o + (mode == 0 ? g * blocks * MR * kk : g * coutG * kk);
    for (i32 p = 0; p < blocks; p++) {
      const i32 r0 = p * MR;
      float f[MR];
      const float *rows[MR];
      for (i32 r = 0; r < MR; r++) {
        const i32 row = r0 + r;
        rows[r] = row < coutG ? wg + row * kk : wg;
        f[r] = row < coutG ? (sg ? sg[row] : ones[r]) : zeros[r];
      }
      interleave4(rows[0], rows[1], rows[2], rows[3], f, kk, og + p * MR * kk);
    }
    if (mode == 1) {
      for (i32 row = blocks * MR; row < coutG; row++) {
        const float s = sg ? sg[row] : 1.0f;
        for (i32 k = 0; k < kk; k++) og[row * kk + k] = wg[row * kk + k] * s;
      }
    }
  }
}

/* Rows of a [rows][cols] matrix times a factor each, in place (a batch norm folded into a linear). */
EXPORT(scale_rows) void scale_rows(i32 p, i32 rows, i32 cols, i32 scale) {
  float *m = F(p);
  const float *sc = CF(scale);
  for (i32 r = 0; r < rows; r++)
    for (i32 c = 0; c < cols; c++) m[r * cols + c] *= sc[r];
}

/* ------------------------------------------------------------------ */
/* Linear: y[b] = W x[b] + bias, W [out x in] as stored.               */
/* ------------------------------------------------------------------ */

typedef struct {
  i32 batch, in, out, x, y, y_bstride, wt, bias, act;
  float slope;
} LinearDesc;

static inline float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

EXPORT(linear) void linear(i32 descPtr) {
  const LinearDesc *d = (const LinearDesc *)(unsigned long)descPtr;
  const i32 N = d->in, O = d->out;
  const float *Wt = CF(d->wt), *bias = CF(d->bias);
  const i32 n4 = N & ~3;
  i32 o = 0;
  for (; o + 4 <= O; o += 4) {
    const float *w0 = Wt + o * N, *w1 = w0 + N, *w2 = w1 + N, *w3 = w2 + N;
    for (i32 b = 0; b < d->batch; b++) {
      const float *x = CF(d->x) + b * N;
      v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
      for (i32 i = 0; i < n4; i += 4) {
        const v128_t xv = wasm_v128_load(x + i);
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(xv, wasm_v128_load(w0 + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(xv, wasm_v128_load(w1 + i)));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(xv, wasm_v128_load(w2 + i)));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(xv, wasm_v128_load(w3 + i)));
      }
      float r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
      for (i32 i = n4; i < N; i++) {
        r0 += x[i] * w0[i];
        r1 += x[i] * w1[i];
        r2 += x[i] * w2[i];
        r3 += x[i] * w3[i];
      }
      float *y = F(d->y) + b * d->y_bstride + o;
      y[0] = act_s(r0 + bias[o], d->act, d->slope);
      y[1] = act_s(r1 + bias[o + 1], d->act, d->slope);
      y[2] = act_s(r2 + bias[o + 2], d->act, d->slope);
      y[3] = act_s(r3 + bias[o + 3], d->act, d->slope);
    }
  }
  for (; o < O; o++) {
    const float *w0 = Wt + o * N;
    for (i32 b = 0; b < d->batch; b++) {
      const float *x = CF(d->x) + b * N;
      v128_t s0 = wasm_f32x4_splat(0.0f);
      for (i32 i = 0; i < n4; i += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(w0 + i)));
      float r0 = hsum(s0);
      for (i32 i = n4; i < N; i++) r0 += x[i] * w0[i];
      F(d->y)[b * d->y_bstride + o] = act_s(r0 + bias[o], d->act, d->slope);
    }
  }
  if (deferred(d->act)) act_rows(F(d->y), d->batch, O, d->y_bstride, d->act);
}

/* ------------------------------------------------------------------ */
/* Pools                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
  /* y is written at y + b * y_bstride + c * OH*OW (a concat's slice, maybe); scratch: pool_scratch floats. */
  i32 batch, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, x, y, y_bstride, avg, scratch;
} PoolDesc;

/* Scratch floats pool2d needs: a padded input row, the row-reduced plane and the column divisors. */
EXPORT(pool_scratch) i32 pool_scratch(i32 h, i32 ow, i32 kw, i32 sw) {
  const i32 owr = ceil_div(ow, 4) * 4;
  return owr * sw + kw + 8 + h * owr + owr;
}

/*
 * Max pool (padding never wins) or average (count_include_pad: the divisor is the window clipped
 * to the padded input), separably: each input row reduced over the kernel's width into a plane of
 * H x OW values, then those rows over the kernel's height. A window's divisor is the product of
 * its clipped height and width, so the average divides once at the end.
 */
EXPORT(pool2d) void pool2d(i32 descPtr) {
  const PoolDesc *d = (const PoolDesc *)(unsigned long)descPtr;
  const i32 H = d->h, W = d->w, OH = d->oh, OW = d->ow, kh = d->kh, kw = d->kw, sh = d->sh, sw = d->sw, ph = d->ph, pw = d->pw;
  const i32 avg = d->avg;
  const i32 owr = ceil_div(OW, 4) * 4;
  const i32 wpad = owr * sw + kw + 8;
  float *pr = F(d->scratch);
  float *hb = pr + wpad;
  float *cdiv = hb + H * owr;
  const float init = avg ? 0.0f : -__builtin_inff();
  const v128_t vinit = wasm_f32x4_splat(init);
  if (avg) {
    for (i32 ow = 0; ow < owr; ow++) {
      const i32 ws = ow * sw - pw, we = min_i(ws + kw, W + pw);
      cdiv[ow] = ow < OW ? 1.0f / (float)(we - ws) : 0.0f;
    }
  }
  /* Padded row: pr[q] is input column q - pw; columns outside the input hold init. */
  const i32 q0 = min_i(pw, wpad), q1 = min_i(pw + W, wpad);
  for (i32 q = 0; q < q0; q++) pr[q] = init;
  for (i32 q = q1; q < wpad; q++) pr[q] = init;
  for (i32 b = 0; b < d->batch; b++) {
    for (i32 c = 0; c < d->c; c++) {
      const float *x = CF(d->x) + (b * d->c + c) * H * W;
      float *y = F(d->y) + b * d->y_bstride + c * OH * OW;
      for (i32 ih = 0; ih < H; ih++) {
        const float *xr = x + ih * W;
        i32 q = q0;
        for (; q + 4 <= q1; q += 4) wasm_v128_store(pr + q, wasm_v128_load(xr + q - pw));
        for (; q < q1; q++) pr[q] = xr[q - pw];
        float *hr = hb + ih * owr;
        for (i32 ow = 0; ow < owr; ow += 4) {
          v128_t m = vinit;
          for (i32 j = 0; j < kw; j++) {
            v128_t v;
            if (sw == 1) {
              v = wasm_v128_load(pr + ow + j);
            } else if (sw == 2) {
              const float *p = pr + 2 * ow + j;
              v = wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 4), 0, 2, 4, 6);
            } else {
              const float *p = pr + ow * sw + j;
              v = wasm_f32x4_make(p[0], p[sw], p[2 * sw], p[3 * sw]);
            }
            m = avg ? wasm_f32x4_add(m, v) : wasm_f32x4_max(m, v);
          }
          wasm_v128_store(hr + ow, m);
        }
      }
      for (i32 oh = 0; oh < OH; oh++) {
        const i32 hs = oh * sh - ph;
        const i32 h0 = max_i(hs, 0), h1 = min_i(hs + kh, H);
        const float rdiv = avg ? 1.0f / (float)(min_i(hs + kh, H + ph) - hs) : 1.0f;
        float *yr = y + oh * OW;
        for (i32 ow = 0; ow < owr; ow += 4) {
          v128_t m = vinit;
          for (i32 r = h0; r < h1; r++) {
            const v128_t v = wasm_v128_load(hb + r * owr + ow);
            m = avg ? wasm_f32x4_add(m, v) : wasm_f32x4_max(m, v);
          }
          if (avg) m = wasm_f32x4_mul(m, wasm_f32x4_mul(wasm_v128_load(cdiv + ow), wasm_f32x4_splat(rdiv)));
          if (ow + 4 <= OW) {
            wasm_v128_store(yr + ow, m);
          } else {
            float t[4];
            wasm_v128_store(t, m);
            for (i32 i = 0; ow + i < OW; i++) yr[ow + i] = t[i];
          }
        }
      }
    }
  }
}

/* Global average pool: each of batch x channels planes of hw values to its mean; images y_bstride floats apart in y. */
EXPORT(gap) void gap(i32 x, i32 y, i32 batch, i32 channels, i32 hw, i32 y_bstride) {
  for (i32 b = 0; b < batch; b++) {
    const float *src = CF(x) + b * channels * hw;
    float *dst = F(y) + b * y_bstride;
    for (i32 c = 0; c < channels; c++, src += hw) {
      v128_t s = wasm_f32x4_splat(0.0f);
      i32 i = 0;
      for (; i + 4 <= hw; i += 4) s = wasm_f32x4_add(s, wasm_v128_load(src + i));
      float t = hsum(s);
      for (; i < hw; i++) t += src[i];
      dst[c] = t / (float)hw;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Element-wise                                                        */
/* ------------------------------------------------------------------ */

/*
 * y = act(sum of the inputs) for `count` values per image; `inputs` points at `n` pointers.
 * y may be a concat's slice: images are y_bstride floats apart (inputs are dense).
 */
EXPORT(add_n) void add_n(i32 inputs, i32 n, i32 y, i32 batch, i32 count, i32 y_bstride, i32 act, float slope) {
  const i32 *in = (const i32 *)(unsigned long)inputs;
  const v128_t s = wasm_f32x4_splat(slope);
  for (i32 b = 0; b < batch; b++) {
    float *dst = F(y) + b * y_bstride;
    const float *a0 = CF(in[0]) + b * count;
    i32 i = 0;
    for (; i + 4 <= count; i += 4) {
      v128_t v = wasm_v128_load(a0 + i);
      for (i32 j = 1; j < n; j++) v = wasm_f32x4_add(v, wasm_v128_load(CF(in[j]) + b * count + i));
      wasm_v128_store(dst + i, act_v(v, act, s));
    }
    for (; i < count; i++) {
      float v = a0[i];
      for (i32 j = 1; j < n; j++) v += CF(in[j])[b * count + i];
      dst[i] = act_s(v, act, slope);
    }
    if (deferred(act)) act_rows(dst, 1, count, 0, act);
  }
}

/* Per-channel y = act(x * scale[c] + shift[c]): a batch norm that follows no conv, or a lone activation (scale 1, shift 0). */
EXPORT(scale_shift) void scale_shift(i32 x, i32 y, i32 batch, i32 channels, i32 hw, i32 y_bstride, i32 scale, i32 shift, i32 act, float slope) {
  const v128_t s = wasm_f32x4_splat(slope);
  for (i32 b = 0; b < batch; b++) {
    for (i32 c = 0; c < channels; c++) {
      const float *src = CF(x) + (b * channels + c) * hw;
      float *dst = F(y) + b * y_bstride + c * hw;
      const float sc = scale ? CF(scale)[c] : 1.0f, sf = shift ? CF(shift)[c] : 0.0f;
      const v128_t vsc = wasm_f32x4_splat(sc), vsf = wasm_f32x4_splat(sf);
      i32 i = 0;
      for (; i + 4 <= hw; i += 4) wasm_v128_store(dst + i, act_v(wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(src + i), vsc), vsf), act, s));
      for (; i < hw; i++) dst[i] = act_s(src[i] * sc + sf, act, slope);
      if (deferred(act)) act_rows(dst, 1, hw, 0, act);
    }
  }
}
#ifdef BENCH_TILE
EXPORT(bench_tile) void bench_tile(i32 kc, i32 reps, i32 buf) {
  float *a = F(buf), *b = a + 4 * kc, *c = b + 8 * kc, bias[4] = {0, 0, 0, 0};
  for (i32 r = 0; r < reps; r++) tile_4x8(kc, a, b, c, 8, 1, 1, bias, 0, 0, 1, 0.0f);
}
#endif
