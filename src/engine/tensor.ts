/** A dense float32 tensor, NCHW, batch dimension leading: `[B, C, H, W]` or `[B, N]`. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(shape: number[], data?: Float32Array | number[]): Tensor {
  const n = numel(shape);
  const d = data === undefined ? new Float32Array(n) : data instanceof Float32Array ? data : Float32Array.from(data);
  if (d.length !== n) throw new Error(`tensor: shape [${shape.join(', ')}] needs ${n} values, got ${d.length}`);
  return { shape: [...shape], data: d };
}

export function zeros(shape: number[]): Tensor {
  return tensor(shape);
}

/** Reads a 4-D tensor as `[B, C, H, W]` and a 2-D one as `[B, N, 1, 1]`, so that per-channel layers treat both alike. */
export function asNCHW(t: Tensor): [number, number, number, number] {
  const s = t.shape;
  if (s.length === 4) return [s[0], s[1], s[2], s[3]];
  if (s.length === 2) return [s[0], s[1], 1, 1];
  throw new Error(`expected a [B,C,H,W] or [B,N] tensor, got [${s.join(', ')}]`);
}

export function requireRank(t: Tensor, rank: number, layer: string): void {
  if (t.shape.length !== rank) {
    throw new Error(`${layer}: expected a rank-${rank} input, got [${t.shape.join(', ')}]`);
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Largest absolute difference between two tensors of one shape. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
