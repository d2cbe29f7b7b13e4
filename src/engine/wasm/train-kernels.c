/*
 * The fast training path's kernels: WebAssembly SIMD (128-bit), no libc, single-threaded, float32.
 * A module of its own (train-kernels.wasm, built by scripts/build-wasm.mjs beside kernels.wasm),
 * driven by src/engine/train/wasm-train.ts, which copies each layer's tensors into the linear
 * memory, calls one entry point and copies the results out. The CPU reference
 * (src/engine/cpu/backward.ts) is the oracle: test/engine/train/fast-wasm.test.ts holds every
 * kernel to it.
 *
 * Pointers are byte offsets into the one linear memory; matrices are row-major with a leading
 * dimension. Sums are float32, split over the four lanes of a vector (and, in the products, over
 * independent accumulators), which keeps the rounding error of a 25,000-term dot product near
 * 1e-6 relative; the statistics of a batch norm are summed in float64.
 */
#include <wasm_simd128.h>

typedef int i32;

#define EXPORT(name) __attribute__((export_name(#name)))
#define F(p) ((float *)(unsigned long)(p))
#define CF(p) ((const float *)(unsigned long)(p))
#define I(p) ((i32 *)(unsigned long)(p))
#define D(p) ((double *)(unsigned long)(p))

static inline i32 min_i(i32 a, i32 b) { return a < b ? a : b; }
static inline i32 max_i(i32 a, i32 b) { return a > b ? a : b; }

/* Σ of n floats in float64, two lanes at a time. */
static double sum_f64(const float *p, i32 n) {
  v128_t s = wasm_f64x2_splat(0.0);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(p + i);
    s = wasm_f64x2_add(s, wasm_f64x2_promote_low_f32x4(v));
    s = wasm_f64x2_add(s, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)));
  }
  double t = wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
  for (; i < n; i++) t += p[i];
  return t;
}

/* ---- Products ---------------------------------------------------------------------------- */

/*
 * A (M x K, element (i, k) at a[i*rs + k*cs]) packed into panels of 4 rows, k-major:
 * pa[(i/4)*4*K + k*4 + r] = A(i + r, k), zero past the last row. The strides let one routine
 * take W (rs = K, cs = 1) and Wᵀ (rs = 1, cs = ld) without a transposed copy.
 */
static void pack_a(i32 M, i32 K, const float *a, i32 rs, i32 cs, float *pa) {
  for (i32 i0 = 0; i0 < M; i0 += 4) {
    float *p = pa + i0 * K;
    for (i32 k = 0; k < K; k++)
      for (i32 r = 0; r < 4; r++) p[k * 4 + r] = i0 + r < M ? a[(i0 + r) * rs + k * cs] : 0.0f;
  }
}

/*
 * C[4 x 8] (+)= panel(4 x K) · B[K x 8]: eight vector accumulators, two loads of B and four
 * splats of A for 32 multiply-adds per k. Rows past `mr` are computed (from the zero padding)
 * but not stored.
 */
__attribute__((noinline)) static void tile_nn_4x8(i32 K, const float *restrict pa, const float *restrict b, i32 ldb, float *restrict c, i32 ldc, i32 mr, i32 acc) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (i32 k = 0; k < K; k++, pa += 4, b += ldb) {
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    v128_t x = wasm_v128_load32_splat(pa);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
    x = wasm_v128_load32_splat(pa + 1);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
    x = wasm_v128_load32_splat(pa + 2);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
    x = wasm_v128_load32_splat(pa + 3);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
  }
  v128_t rows[8] = {c00, c01, c10, c11, c20, c21, c30, c31};
  for (i32 r = 0; r < mr; r++) {
    float *q = c + r * ldc;
    v128_t v0 = rows[2 * r], v1 = rows[2 * r + 1];
    if (acc) {
      v0 = wasm_f32x4_add(v0, wasm_v128_load(q));
      v1 = wasm_f32x4_add(v1, wasm_v128_load(q + 4));
    }
    wasm_v128_store(q, v0);
    wasm_v128_store(q + 4, v1);
  }
}

/* The same for the last n < 8 columns, one scalar column at a time (a few per row of C at most). */
static void tile_nn_4xn(i32 K, const float *pa, const float *b, i32 ldb, float *c, i32 ldc, i32 mr, i32 n, i32 acc) {
  for (i32 j = 0; j < n; j++) {
    v128_t s = wasm_f32x4_splat(0.0f);
    for (i32 k = 0; k < K; k++) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(pa + k * 4), wasm_f32x4_splat(b[k * ldb + j])));
    float v[4];
    wasm_v128_store(v, s);
    for (i32 r = 0; r < mr; r++) c[r * ldc + j] = acc ? c[r * ldc + j] + v[r] : v[r];
  }
}

/*
 * C[M x N] (+)= A · B, A given as a packed panel set (pack_a), B[K x N] with leading dimension
 * ldb. Column strips of 8 outer, row panels inner: the strip (K x 8, a few KB) stays in L1 while
 * every panel of A passes over it.
 */
static void gemm_packed(i32 M, i32 N, i32 K, const float *pa, const float *b, i32 ldb, float *c, i32 ldc, i32 acc) {
  const i32 N8 = N - N % 8;
  for (i32 j = 0; j < N8; j += 8)
    for (i32 i = 0; i < M; i += 4) tile_nn_4x8(K, pa + i * K, b + j, ldb, c + i * ldc + j, ldc, min_i(4, M - i), acc);
  if (N8 < N)
    for (i32 i = 0; i < M; i += 4) tile_nn_4xn(K, pa + i * K, b + N8, ldb, c + i * ldc + N8, ldc, min_i(4, M - i), N - N8, acc);
}

/*
 * C[M x N] (+)= A · B with A(i, k) at a[i*ars + k*acs] (so Aᵀ is the same matrix with the strides
 * swapped) and B[K x N] row-major; `pa` is scratch for the packed A (ceil(M/4)·4·K floats).
 */
EXPORT(gemm_nn)
void gemm_nn(i32 M, i32 N, i32 K, i32 a, i32 ars, i32 acs, i32 b, i32 ldb, i32 c, i32 ldc, i32 acc, i32 pa) {
  pack_a(M, K, CF(a), ars, acs, F(pa));
  gemm_packed(M, N, K, CF(pa), CF(b), ldb, F(c), ldc, acc);
}

static inline float hsum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

/*
 * C[2 x 4] (+)= A[2 rows] · B[4 rows]ᵀ over K contiguous terms: eight vector accumulators, six
 * loads for 32 multiply-adds per step of four; the last K % 4 terms scalar.
 */
__attribute__((noinline)) static void tile_nt_2x4(i32 K, const float *restrict a, i32 lda, const float *restrict b, i32 ldb, float *restrict c, i32 ldc, i32 mr, i32 nr, i32 acc) {
  const float *a0 = a, *a1 = mr > 1 ? a + lda : a;
  const float *b0 = b, *b1 = nr > 1 ? b + ldb : b, *b2 = nr > 2 ? b + 2 * ldb : b, *b3 = nr > 3 ? b + 3 * ldb : b;
  v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
  const i32 K4 = K - K % 4;
  for (i32 k = 0; k < K4; k += 4) {
    const v128_t x0 = wasm_v128_load(a0 + k), x1 = wasm_v128_load(a1 + k);
    v128_t y = wasm_v128_load(b0 + k);
    s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(x0, y));
    s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(x1, y));
    y = wasm_v128_load(b1 + k);
    s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(x0, y));
    s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(x1, y));
    y = wasm_v128_load(b2 + k);
    s02 = wasm_f32x4_add(s02, wasm_f32x4_mul(x0, y));
    s12 = wasm_f32x4_add(s12, wasm_f32x4_mul(x1, y));
    y = wasm_v128_load(b3 + k);
    s03 = wasm_f32x4_add(s03, wasm_f32x4_mul(x0, y));
    s13 = wasm_f32x4_add(s13, wasm_f32x4_mul(x1, y));
  }
  float r[8] = {hsum(s00), hsum(s01), hsum(s02), hsum(s03), hsum(s10), hsum(s11), hsum(s12), hsum(s13)};
  const float *as[2] = {a0, a1};
  const float *bs[4] = {b0, b1, b2, b3};
  for (i32 k = K4; k < K; k++)
    for (i32 i = 0; i < 2; i++)
      for (i32 j = 0; j < 4; j++) r[i * 4 + j] += as[i][k] * bs[j][k];
  for (i32 i = 0; i < mr; i++)
    for (i32 j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + r[i * 4 + j] : r[i * 4 + j];
}

/*
 * C[M x N] (+)= A[M x K] · B[N x K]ᵀ, both read along contiguous rows (dW = dY·colsᵀ, whose
 * reduction runs over every output position of the batch). K is cut into blocks of KB terms:
 * the 6 rows a tile reads stay in L1, and B's block (N rows of KB) in L2 while every row pair of
 * A passes over it (with 2048 it streamed from memory once per pair: 30% slower).
 */
#ifndef KB
#define KB 256
#endif
EXPORT(gemm_nt)
void gemm_nt(i32 M, i32 N, i32 K, i32 a, i32 lda, i32 b, i32 ldb, i32 c, i32 ldc, i32 acc) {
  /* K = 0 still runs one (empty) block, which writes the zeros. */
  i32 k0 = 0;
  do {
    const i32 kb = min_i(KB, K - k0);
    const i32 add = acc || k0 > 0;
    for (i32 i = 0; i < M; i += 2)
      for (i32 j = 0; j < N; j += 4)
        tile_nt_2x4(kb, CF(a) + i * lda + k0, lda, CF(b) + j * ldb + k0, ldb, F(c) + i * ldc + j, ldc, min_i(2, M - i), min_i(4, N - j), add);
    k0 += KB;
  } while (k0 < K);
}

/* ---- Convolution: im2col and its adjoint ------------------------------------------------- */

/* A conv's geometry (all 4-byte ints), in the order src/engine/train/wasm-train.ts writes it. */
typedef struct {
  i32 B, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, G, cout;
} Geom;

/*
 * Group g's cols for samples [b0, b1): row (ci·kh + i)·kw + j, column (b − b0)·OH·OW + oh·OW + ow
 * holds x[b, g·cinG + ci, oh·sh − ph + i·dh, ow·sw − pw + j·dw], 0 in the padding (written, so
 * cols may be reused scratch). Each output row's valid columns are one run without bounds tests.
 */
static void im2col(const Geom *q, const float *x, i32 g, i32 b0, i32 b1, float *cols, i32 P) {
  const i32 cinG = q->C / q->G, N = q->OH * q->OW;
  for (i32 ci = 0; ci < cinG; ci++)
    for (i32 i = 0; i < q->kh; i++)
      for (i32 j = 0; j < q->kw; j++) {
        float *row = cols + ((ci * q->kh + i) * q->kw + j) * P;
        const i32 shift = j * q->dw - q->pw;
        const i32 owStart = min_i(q->OW, max_i(0, (-shift + q->sw - 1) / q->sw));
        const i32 owEnd = max_i(owStart, min_i(q->OW, shift > q->W - 1 ? 0 : (q->W - 1 - shift) / q->sw + 1));
        for (i32 b = b0; b < b1; b++) {
          const float *xc = x + (b * q->C + g * cinG + ci) * q->H * q->W;
          float *out = row + (b - b0) * N;
          for (i32 oh = 0; oh < q->OH; oh++) {
            const i32 ih = oh * q->sh - q->ph + i * q->dh;
            float *o = out + oh * q->OW;
            if (ih < 0 || ih >= q->H) {
              for (i32 ow = 0; ow < q->OW; ow++) o[ow] = 0.0f;
              continue;
            }
            const float *xr = xc + ih * q->W + shift;
            for (i32 ow = 0; ow < owStart; ow++) o[ow] = 0.0f;
            for (i32 ow = owEnd; ow < q->OW; ow++) o[ow] = 0.0f;
            if (q->sw == 1) {
              i32 ow = owStart;
              for (; ow + 4 <= owEnd; ow += 4) wasm_v128_store(o + ow, wasm_v128_load(xr + ow));
              for (; ow < owEnd; ow++) o[ow] = xr[ow];
            } else {
              for (i32 ow = owStart; ow < owEnd; ow++) o[ow] = xr[ow * q->sw];
            }
          }
        }
      }
}

/* The adjoint of im2col: each entry of dcols added at the input element it was read from. */
static void col2im(const Geom *q, const float *dcols, i32 g, i32 b0, i32 b1, float *dx, i32 P) {
  const i32 cinG = q->C / q->G, N = q->OH * q->OW;
  for (i32 ci = 0; ci < cinG; ci++)
    for (i32 i = 0; i < q->kh; i++)
      for (i32 j = 0; j < q->kw; j++) {
        const float *row = dcols + ((ci * q->kh + i) * q->kw + j) * P;
        const i32 shift = j * q->dw - q->pw;
        const i32 owStart = min_i(q->OW, max_i(0, (-shift + q->sw - 1) / q->sw));
        const i32 owEnd = max_i(owStart, min_i(q->OW, shift > q->W - 1 ? 0 : (q->W - 1 - shift) / q->sw + 1));
        for (i32 b = b0; b < b1; b++) {
          float *xc = dx + (b * q->C + g * cinG + ci) * q->H * q->W;
          const float *in = row + (b - b0) * N;
          for (i32 oh = 0; oh < q->OH; oh++) {
            const i32 ih = oh * q->sh - q->ph + i * q->dh;
            if (ih < 0 || ih >= q->H) continue;
            float *xr = xc + ih * q->W + shift;
            const float *o = in + oh * q->OW;
            if (q->sw == 1) {
              i32 ow = owStart;
              for (; ow + 4 <= owEnd; ow += 4) wasm_v128_store(xr + ow, wasm_f32x4_add(wasm_v128_load(xr + ow), wasm_v128_load(o + ow)));
              for (; ow < owEnd; ow++) xr[ow] += o[ow];
            } else {
              for (i32 ow = owStart; ow < owEnd; ow++) xr[ow * q->sw] += o[ow];
            }
          }
        }
      }
}

/*
 * The row stride of cols for P columns: a multiple of 16 floats plus 16. With P itself, rows of a
 * batch of 28x28 maps are 100,352 bytes apart, a multiple of 2 KiB, so the 144 rows an 8-column
 * strip of the product reads fell into 2 of L1's 64 sets and were fetched from L2 every time.
 */
#ifndef ROW_PAD
#define ROW_PAD 16
#endif
static inline i32 row_stride(i32 P) { return ROW_PAD ? (P + 15) / 16 * 16 + ROW_PAD : P; }

/* Floats of scratch conv_forward and conv_backward need for `chunk` samples per product. */
EXPORT(conv_scratch)
i32 conv_scratch(i32 geom, i32 chunk) {
  const Geom *q = (const Geom *)(unsigned long)geom;
  const i32 K = q->C / q->G * q->kh * q->kw, coutG = q->cout / q->G, P = row_stride(chunk * q->OH * q->OW);
  const i32 panels = ((max_i(K, coutG) + 3) / 4) * 4 * max_i(K, coutG);
  return K * P + coutG * P + panels;
}

/*
 * y = conv(x, w) + bias over samples in chunks of `chunk`: per group and chunk, cols = im2col(x),
 * yt = W_g · cols ([coutG, chunk·OH·OW]), then each channel's run of OH·OW values to its place in
 * y with the bias. `bias` 0 for none.
 */
EXPORT(conv_forward)
void conv_forward(i32 geom, i32 x, i32 w, i32 bias, i32 y, i32 chunk, i32 scratch) {
  const Geom *q = (const Geom *)(unsigned long)geom;
  const i32 K = q->C / q->G * q->kh * q->kw, coutG = q->cout / q->G, N = q->OH * q->OW;
  const i32 ld = row_stride(chunk * N);
  float *cols = F(scratch), *yt = cols + K * ld, *pa = yt + coutG * ld;
  for (i32 g = 0; g < q->G; g++) {
    pack_a(coutG, K, CF(w) + g * coutG * K, K, 1, pa);
    for (i32 b0 = 0; b0 < q->B; b0 += chunk) {
      const i32 b1 = min_i(q->B, b0 + chunk), P = (b1 - b0) * N;
      im2col(q, CF(x), g, b0, b1, cols, ld);
      gemm_packed(coutG, P, K, pa, cols, ld, yt, ld, 0);
      for (i32 oc = 0; oc < coutG; oc++) {
        const i32 o = g * coutG + oc;
        const float bv = bias ? CF(bias)[o] : 0.0f;
        const v128_t bvv = wasm_f32x4_splat(bv);
        for (i32 b = b0; b < b1; b++) {
          const float *src = yt + oc * ld + (b - b0) * N;
          float *dst = F(y) + (b * q->cout + o) * N;
          i32 n = 0;
          for (; n + 4 <= N; n += 4) wasm_v128_store(dst + n, wasm_f32x4_add(wasm_v128_load(src + n), bvv));
          for (; n < N; n++) dst[n] = src[n] + bv;
        }
      }
    }
  }
}

/*
 * Conv2d's gradients from dy: dx (overwritten), dw (overwritten; summed over the chunks), db
 * (0 for none). Per group and chunk: dyt = dY_g gathered as [coutG, P], dW_g += dyt · colsᵀ, and
 * dcols = W_gᵀ · dyt (in the cols buffer, which is spent by then) added back by col2im.
 */
EXPORT(conv_backward)
void conv_backward(i32 geom, i32 x, i32 w, i32 dy, i32 dx, i32 dw, i32 db, i32 chunk, i32 scratch) {
  const Geom *q = (const Geom *)(unsigned long)geom;
  const i32 K = q->C / q->G * q->kh * q->kw, coutG = q->cout / q->G, N = q->OH * q->OW;
  const i32 ld = row_stride(chunk * N);
  float *cols = F(scratch), *dyt = cols + K * ld, *pa = dyt + coutG * ld;
  const i32 xsize = q->B * q->C * q->H * q->W;
  __builtin_memset(F(dx), 0, xsize * sizeof(float));
  /* The bias's gradient in float64: before a batch norm in train mode it is 0 in exact arithmetic, and float32 sums left noise PyTorch's suite sees. */
  if (db) {
    for (i32 o = 0; o < q->cout; o++) {
      double t = 0.0;
      for (i32 b = 0; b < q->B; b++) t += sum_f64(CF(dy) + (b * q->cout + o) * N, N);
      F(db)[o] = (float)t;
    }
  }
  for (i32 g = 0; g < q->G; g++) {
    const float *wg = CF(w) + g * coutG * K;
    pack_a(K, coutG, wg, 1, K, pa);
    for (i32 b0 = 0; b0 < q->B; b0 += chunk) {
      const i32 b1 = min_i(q->B, b0 + chunk), P = (b1 - b0) * N;
      for (i32 oc = 0; oc < coutG; oc++)
        for (i32 b = b0; b < b1; b++) __builtin_memcpy(dyt + oc * ld + (b - b0) * N, CF(dy) + (b * q->cout + g * coutG + oc) * N, N * sizeof(float));
      im2col(q, CF(x), g, b0, b1, cols, ld);
      gemm_nt(coutG, K, P, (i32)(unsigned long)dyt, ld, (i32)(unsigned long)cols, ld, dw + g * coutG * K * 4, K, b0 > 0);
      gemm_packed(K, P, coutG, pa, dyt, ld, cols, ld, 0);
      col2im(q, cols, g, b0, b1, F(dx), ld);
    }
  }
}

/* ---- Batch norm in train mode, optionally followed by a ReLU ----------------------------- */

/* Σ (p − m)² in float64. */
static double sumsq_f64(const float *p, i32 n, double m) {
  v128_t s = wasm_f64x2_splat(0.0);
  const v128_t mv = wasm_f64x2_splat(m);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(p + i);
    const v128_t lo = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(v), mv);
    const v128_t hi = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)), mv);
    s = wasm_f64x2_add(s, wasm_f64x2_add(wasm_f64x2_mul(lo, lo), wasm_f64x2_mul(hi, hi)));
  }
  double t = wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
  for (; i < n; i++) {
    const double d = p[i] - m;
    t += d * d;
  }
  return t;
}

/* f64.sqrt, an instruction of WebAssembly's own (no libm here). */
static double sqrt_f64(double v) { return __builtin_sqrt(v); }

/*
 * y = γ·(x − mean)·invStd + β per channel with the batch's statistics (biased variance), then
 * max(y, 0) when `relu`. stats gets (mean, invStd, Σ(x − mean)²) per channel in float64, for
 * the backward and for the running statistics (which need the unbiased variance).
 */
EXPORT(bn_train_forward)
void bn_train_forward(i32 x, i32 y, i32 B, i32 C, i32 hw, i32 gamma, i32 beta, double eps, i32 relu, i32 stats) {
  const double n = (double)B * hw;
  for (i32 c = 0; c < C; c++) {
    double s = 0.0;
    for (i32 b = 0; b < B; b++) s += sum_f64(CF(x) + (b * C + c) * hw, hw);
    const double mean = s / n;
    double sq = 0.0;
    for (i32 b = 0; b < B; b++) sq += sumsq_f64(CF(x) + (b * C + c) * hw, hw, mean);
    const double inv = 1.0 / sqrt_f64(sq / n + eps);
    D(stats)[3 * c] = mean;
    D(stats)[3 * c + 1] = inv;
    D(stats)[3 * c + 2] = sq;
    /*
     * y = ((x − mf) − dm)·k + β with k = γ·invStd, mf the mean rounded to float32 and dm what the
     * rounding left: x − mf is exact for x near the mean, so a large mean cancels without error.
     */
    const float k = (float)(CF(gamma)[c] * inv), off = CF(beta)[c], mf = (float)mean, dm = (float)(mean - mf);
    const v128_t kv = wasm_f32x4_splat(k), ov = wasm_f32x4_splat(off), mv = wasm_f32x4_splat(mf), dv = wasm_f32x4_splat(dm), zero = wasm_f32x4_splat(0.0f);
    for (i32 b = 0; b < B; b++) {
      const float *xp = CF(x) + (b * C + c) * hw;
      float *yp = F(y) + (b * C + c) * hw;
      i32 i = 0;
      for (; i + 4 <= hw; i += 4) {
        v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(xp + i), mv), dv), kv), ov);
        if (relu) v = wasm_f32x4_max(v, zero);
        wasm_v128_store(yp + i, v);
      }
      for (; i < hw; i++) {
        float v = ((xp[i] - mf) - dm) * k + off;
        yp[i] = relu && !(v > 0.0f) ? 0.0f : v;
      }
    }
  }
}

/*
 * The backward of bn_train_forward: g = dy (times y > 0 when `relu`, y the forward's output),
 * x̂ = (x − mean)·invStd, dγ = Σ g·x̂, dβ = Σ g, dx = γ·invStd·(g − mean(g) − x̂·mean(g·x̂)).
 * Sums in float64.
 */
EXPORT(bn_train_backward)
void bn_train_backward(i32 x, i32 y, i32 dy, i32 dx, i32 B, i32 C, i32 hw, i32 gamma, i32 stats, i32 relu, i32 dgamma, i32 dbeta) {
  const double n = (double)B * hw;
  for (i32 c = 0; c < C; c++) {
    const double mean = D(stats)[3 * c], inv = D(stats)[3 * c + 1];
    /*
     * x̂ = ((x − mf) − dm)·invStd as in the forward: without dm, a mean far from zero shifted every
     * x̂ by its rounding, Σ x̂ was no longer 0, and the gradient of a layer before this one (which
     * is 0 in exact arithmetic for a shift) came out 3e-4 of the largest (the autograd suite's "bn
     * twice in a row, values far from zero").
     */
    const float mf = (float)mean, invf = (float)inv, dm = (float)(mean - mf);
    const v128_t mv = wasm_f32x4_splat(mf), dv = wasm_f32x4_splat(dm), iv = wasm_f32x4_splat(invf), zero = wasm_f32x4_splat(0.0f);
    double sdy = 0.0, sdyx = 0.0;
    for (i32 b = 0; b < B; b++) {
      const i32 at = (b * C + c) * hw;
      const float *xp = CF(x) + at, *yp = CF(y) + at, *gp = CF(dy) + at;
      v128_t s1 = wasm_f64x2_splat(0.0), s2 = s1;
      i32 i = 0;
      for (; i + 4 <= hw; i += 4) {
        v128_t g = wasm_v128_load(gp + i);
        if (relu) g = wasm_v128_and(g, wasm_f32x4_gt(wasm_v128_load(yp + i), zero));
        const v128_t h = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(xp + i), mv), dv), iv);
        const v128_t gh = wasm_f32x4_mul(g, h);
        s1 = wasm_f64x2_add(s1, wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(g), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(g, g, 2, 3, 0, 1))));
        s2 = wasm_f64x2_add(s2, wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(gh), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(gh, gh, 2, 3, 0, 1))));
      }
      sdy += wasm_f64x2_extract_lane(s1, 0) + wasm_f64x2_extract_lane(s1, 1);
      sdyx += wasm_f64x2_extract_lane(s2, 0) + wasm_f64x2_extract_lane(s2, 1);
      for (; i < hw; i++) {
        const float g = relu && !(yp[i] > 0.0f) ? 0.0f : gp[i];
        sdy += g;
        sdyx += (double)g * (((xp[i] - mf) - dm) * invf);
      }
    }
    F(dgamma)[c] = (float)sdyx;
    F(dbeta)[c] = (float)sdy;
    /* mean(g) as a float32 pair (mdy + mdy_lo), for the same reason as dm: its rounding would be a shift of every dx. */
    const float k = (float)(CF(gamma)[c] * inv), mdy = (float)(sdy / n), mdy_lo = (float)(sdy / n - mdy), mdyx = (float)(sdyx / n);
    const v128_t kv = wasm_f32x4_splat(k), m1 = wasm_f32x4_splat(mdy), m1lo = wasm_f32x4_splat(mdy_lo), m2 = wasm_f32x4_splat(mdyx);
    for (i32 b = 0; b < B; b++) {
      const i32 at = (b * C + c) * hw;
      const float *xp = CF(x) + at, *yp = CF(y) + at, *gp = CF(dy) + at;
      float *dp = F(dx) + at;
      i32 i = 0;
      for (; i + 4 <= hw; i += 4) {
        v128_t g = wasm_v128_load(gp + i);
        if (relu) g = wasm_v128_and(g, wasm_f32x4_gt(wasm_v128_load(yp + i), zero));
        const v128_t h = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(xp + i), mv), dv), iv);
        wasm_v128_store(dp + i, wasm_f32x4_mul(kv, wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_sub(g, m1), m1lo), wasm_f32x4_mul(h, m2))));
      }
      for (; i < hw; i++) {
        const float g = relu && !(yp[i] > 0.0f) ? 0.0f : gp[i];
        dp[i] = k * (((g - mdy) - mdy_lo) - ((xp[i] - mf) - dm) * invf * mdyx);
      }
    }
  }
}

/* ---- Max pooling ------------------------------------------------------------------------- */

/*
 * y = the maximum of each window (real pixels only), and idx its flat index into x: the first in
 * row-major order among equals (a strictly larger value, or a NaN, replaces it), as PyTorch's CPU
 * kernel picks it, so the backward sends the gradient where PyTorch does.
 */
EXPORT(maxpool_forward)
void maxpool_forward(i32 x, i32 y, i32 idx, i32 BC, i32 H, i32 W, i32 OH, i32 OW, i32 kh, i32 kw, i32 sh, i32 sw, i32 ph, i32 pw) {
  for (i32 bc = 0; bc < BC; bc++) {
    const float *xp = CF(x) + bc * H * W;
    for (i32 oh = 0; oh < OH; oh++) {
      const i32 h0 = max_i(oh * sh - ph, 0), h1 = min_i(oh * sh - ph + kh, H);
      for (i32 ow = 0; ow < OW; ow++) {
        const i32 w0 = max_i(ow * sw - pw, 0), w1 = min_i(ow * sw - pw + kw, W);
        float best = -__builtin_inff();
        i32 at = h0 * W + w0;
        for (i32 h = h0; h < h1; h++)
          for (i32 w = w0; w < w1; w++) {
            const float v = xp[h * W + w];
            if (v > best || v != v) {
              best = v;
              at = h * W + w;
            }
          }
        const i32 o = (bc * OH + oh) * OW + ow;
        F(y)[o] = best;
        I(idx)[o] = bc * H * W + at;
      }
    }
  }
}

/* dx (n_in values, overwritten) = each output's gradient added at its window's maximum. */
EXPORT(maxpool_backward)
void maxpool_backward(i32 dy, i32 idx, i32 dx, i32 n_out, i32 n_in) {
  __builtin_memset(F(dx), 0, n_in * sizeof(float));
  for (i32 o = 0; o < n_out; o++) F(dx)[I(idx)[o]] += CF(dy)[o];
}

/* ---- ReLU -------------------------------------------------------------------------------- */

/* y = x where x > 0, else 0: the reference's rule (src/engine/cpu/layers.ts), a NaN included. */
EXPORT(relu_forward)
void relu_forward(i32 x, i32 y, i32 n) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(CF(x) + i);
    wasm_v128_store(F(y) + i, wasm_v128_and(v, wasm_f32x4_gt(v, zero)));
  }
  for (; i < n; i++) {
    const float v = CF(x)[i];
    F(y)[i] = v > 0.0f ? v : 0.0f;
  }
}

/* dx = dy where x > 0, else 0 (the slope of x > 0, as PyTorch's threshold_backward). */
EXPORT(relu_backward)
void relu_backward(i32 x, i32 dy, i32 dx, i32 n) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(F(dx) + i, wasm_v128_and(wasm_v128_load(CF(dy) + i), wasm_f32x4_gt(wasm_v128_load(CF(x) + i), zero)));
  for (; i < n; i++) F(dx)[i] = CF(x)[i] > 0.0f ? CF(dy)[i] : 0.0f;
}

/* ---- Average pooling --------------------------------------------------------------------- */

/*
 * y = the sum over each window's real pixels over PyTorch's divisor (count_include_pad=True):
 * the window clipped to the padded input [-p, H + p), so a ceil-mode window hanging past the
 * padding does not count the part outside (the reference's rule, src/engine/cpu/pool.ts).
 */
EXPORT(avgpool_forward)
void avgpool_forward(i32 x, i32 y, i32 BC, i32 H, i32 W, i32 OH, i32 OW, i32 kh, i32 kw, i32 sh, i32 sw, i32 ph, i32 pw) {
  for (i32 bc = 0; bc < BC; bc++) {
    const float *xp = CF(x) + bc * H * W;
    for (i32 oh = 0; oh < OH; oh++) {
      const i32 hs = oh * sh - ph, he = min_i(hs + kh, H + ph);
      for (i32 ow = 0; ow < OW; ow++) {
        const i32 ws = ow * sw - pw, we = min_i(ws + kw, W + pw);
        float s = 0.0f;
        for (i32 h = max_i(hs, 0); h < min_i(he, H); h++)
          for (i32 w = max_i(ws, 0); w < min_i(we, W); w++) s += xp[h * W + w];
        F(y)[(bc * OH + oh) * OW + ow] = s / (float)((he - hs) * (we - ws));
      }
    }
  }
}

/* dx (overwritten) = each output's gradient over its divisor, added to its window's real pixels. */
EXPORT(avgpool_backward)
void avgpool_backward(i32 dy, i32 dx, i32 BC, i32 H, i32 W, i32 OH, i32 OW, i32 kh, i32 kw, i32 sh, i32 sw, i32 ph, i32 pw) {
  __builtin_memset(F(dx), 0, BC * H * W * sizeof(float));
  for (i32 bc = 0; bc < BC; bc++) {
    float *dp = F(dx) + bc * H * W;
    for (i32 oh = 0; oh < OH; oh++) {
      const i32 hs = oh * sh - ph, he = min_i(hs + kh, H + ph);
      for (i32 ow = 0; ow < OW; ow++) {
        const i32 ws = ow * sw - pw, we = min_i(ws + kw, W + pw);
        const float g = CF(dy)[(bc * OH + oh) * OW + ow] / (float)((he - hs) * (we - ws));
        for (i32 h = max_i(hs, 0); h < min_i(he, H); h++)
          for (i32 w = max_i(ws, 0); w < min_i(we, W); w++) dp[h * W + w] += g;
      }
    }
  }
}

/*
 * Adaptive average pooling, PyTorch's bins [floor(i*H/OH), ceil((i+1)*H/OH)); OH = OW = 1 is the
 * global average pool.
 */
EXPORT(adaptive_avgpool_forward)
void adaptive_avgpool_forward(i32 x, i32 y, i32 BC, i32 H, i32 W, i32 OH, i32 OW) {
  for (i32 bc = 0; bc < BC; bc++) {
    const float *xp = CF(x) + bc * H * W;
    for (i32 oh = 0; oh < OH; oh++) {
      const i32 h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (i32 ow = 0; ow < OW; ow++) {
        const i32 w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        float s = 0.0f;
        for (i32 h = h0; h < h1; h++)
          for (i32 w = w0; w < w1; w++) s += xp[h * W + w];
        F(y)[(bc * OH + oh) * OW + ow] = s / (float)((h1 - h0) * (w1 - w0));
      }
    }
  }
}

EXPORT(adaptive_avgpool_backward)
void adaptive_avgpool_backward(i32 dy, i32 dx, i32 BC, i32 H, i32 W, i32 OH, i32 OW) {
  __builtin_memset(F(dx), 0, BC * H * W * sizeof(float));
  for (i32 bc = 0; bc < BC; bc++) {
    float *dp = F(dx) + bc * H * W;
    for (i32 oh = 0; oh < OH; oh++) {
      const i32 h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (i32 ow = 0; ow < OW; ow++) {
        const i32 w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        const float g = CF(dy)[(bc * OH + oh) * OW + ow] / (float)((h1 - h0) * (w1 - w0));
        for (i32 h = h0; h < h1; h++)
          for (i32 w = w0; w < w1; w++) dp[h * W + w] += g;
      }
    }
  }
}

/* ---- Piecewise activations --------------------------------------------------------------- */

/*
 * The activations without a transcendental, by `op` (ACT_* in wasm-layers.ts): 0 leaky relu
 * (slope `a`), 1 relu6, 2 hardswish, 3 hardsigmoid. The forwards are the reference's formulas
 * (src/engine/cpu/layers.ts), the derivatives PyTorch's at the kinks (ACTIVATION_GRADS in
 * src/engine/cpu/backward.ts): leaky relu the x > 0 branch, relu6 1 strictly inside (0, 6),
 * hardswish x/3 + 1/2 on [-3, 3], hardsigmoid 1/6 strictly inside (-3, 3).
 */
static inline float clamp06(float v) { return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v; }

EXPORT(act_forward)
void act_forward(i32 op, i32 x, i32 y, i32 n, float a) {
  const float *xp = CF(x);
  float *yp = F(y);
  switch (op) {
    case 0: for (i32 i = 0; i < n; i++) yp[i] = xp[i] >= 0.0f ? xp[i] : xp[i] * a; break;
    case 1: for (i32 i = 0; i < n; i++) yp[i] = xp[i] != xp[i] ? xp[i] : clamp06(xp[i]); break;
    case 2: for (i32 i = 0; i < n; i++) yp[i] = xp[i] * clamp06(xp[i] + 3.0f) / 6.0f; break;
    default: for (i32 i = 0; i < n; i++) yp[i] = xp[i] != xp[i] ? xp[i] : clamp06(xp[i] + 3.0f) / 6.0f; break;
  }
}

EXPORT(act_backward)
void act_backward(i32 op, i32 x, i32 dy, i32 dx, i32 n, float a) {
  const float *xp = CF(x), *g = CF(dy);
  float *dp = F(dx);
  switch (op) {
    case 0: for (i32 i = 0; i < n; i++) dp[i] = g[i] * (xp[i] > 0.0f ? 1.0f : a); break;
    case 1: for (i32 i = 0; i < n; i++) dp[i] = xp[i] > 0.0f && xp[i] < 6.0f ? g[i] : 0.0f; break;
    case 2: for (i32 i = 0; i < n; i++) dp[i] = g[i] * (xp[i] < -3.0f ? 0.0f : xp[i] <= 3.0f ? xp[i] / 3.0f + 0.5f : 1.0f); break;
    default: for (i32 i = 0; i < n; i++) dp[i] = xp[i] > -3.0f && xp[i] < 3.0f ? g[i] / 6.0f : 0.0f; break;
  }
}
