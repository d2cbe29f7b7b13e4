/**
 * The one matrix product the fast training kernels are built on: C = A·Bᵀ with A `[M, L]` and B
 * `[N, L]` row-major, so every term of a dot product is read in order from two contiguous rows.
 * 4×4 blocks of C live in 16 local doubles (V8 keeps them in registers): each step of the
 * reduction loads 8 values for 16 multiply-adds, and sums are rounded to float32 once, at the end.
 */
export function gemmNT(M: number, N: number, L: number, A: Float32Array, B: Float32Array, C: Float32Array): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = i * L;
    const a1 = a0 + L;
    const a2 = a1 + L;
    const a3 = a2 + L;
    for (let j = 0; j < N4; j += 4) {
      const b0 = j * L;
      const b1 = b0 + L;
      const b2 = b1 + L;
      const b3 = b2 + L;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let l = 0; l < L; l++) {
        const x0 = A[a0 + l];
        const x1 = A[a1 + l];
        const x2 = A[a2 + l];
        const x3 = A[a3 + l];
        const y0 = B[b0 + l];
        const y1 = B[b1 + l];
        const y2 = B[b2 + l];
        const y3 = B[b3 + l];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      let c = i * N + j;
      C[c] = c00; C[c + 1] = c01; C[c + 2] = c02; C[c + 3] = c03;
      c += N;
      C[c] = c10; C[c + 1] = c11; C[c + 2] = c12; C[c + 3] = c13;
      c += N;
      C[c] = c20; C[c + 1] = c21; C[c + 2] = c22; C[c + 3] = c23;
      c += N;
      C[c] = c30; C[c + 1] = c31; C[c + 2] = c32; C[c + 3] = c33;
    }
  }
  // The rows and columns past the last full block, one dot product each.
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      const a = i * L;
      const b = j * L;
      let s = 0;
      for (let l = 0; l < L; l++) s += A[a + l] * B[b + l];
      C[i * N + j] = s;
    }
  }
}

/** Columns per panel of gemmNN: 64 floats (a few cache lines) of each of up to a few hundred rows. */
const PANEL = 64;

/**
 * C = A·B with A `[M, L]` and B `[L, N]` row-major: the same 4×4 register blocks, B read four
 * contiguous values per row of the reduction (the rows a block touches stay in cache across the
 * blocks of one row band).
 */
export function gemmNN(M: number, N: number, L: number, A: Float32Array, B: Float32Array, C: Float32Array): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  // Panels of PANEL columns: the L rows of a panel of B stay in cache while every row band of A passes over them.
  for (let j0 = 0; j0 < N4; j0 += PANEL) {
    const j1 = Math.min(N4, j0 + PANEL);
    for (let i = 0; i < M4; i += 4) {
      const a0 = i * L;
      const a1 = a0 + L;
      const a2 = a1 + L;
      const a3 = a2 + L;
      for (let j = j0; j < j1; j += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let l = 0, b = j; l < L; l++, b += N) {
          const x0 = A[a0 + l];
          const x1 = A[a1 + l];
          const x2 = A[a2 + l];
          const x3 = A[a3 + l];
          const y0 = B[b];
          const y1 = B[b + 1];
          const y2 = B[b + 2];
          const y3 = B[b + 3];
          c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
          c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
          c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
          c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        }
        let c = i * N + j;
        C[c] = c00; C[c + 1] = c01; C[c + 2] = c02; C[c + 3] = c03;
        c += N;
        C[c] = c10; C[c + 1] = c11; C[c + 2] = c12; C[c + 3] = c13;
        c += N;
        C[c] = c20; C[c + 1] = c21; C[c + 2] = c22; C[c + 3] = c23;
        c += N;
        C[c] = c30; C[c + 1] = c31; C[c + 2] = c32; C[c + 3] = c33;
      }
    }
  }
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      let s = 0;
      for (let l = 0; l < L; l++) s += A[i * L + l] * B[l * N + j];
      C[i * N + j] = s;
    }
  }
}
