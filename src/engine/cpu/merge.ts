import { sameShape, tensor, type Tensor } from '../tensor';

export function add(inputs: Tensor[]): Tensor {
  if (inputs.length === 0) throw new Error('add: needs at least one input');
  const y = tensor(inputs[0].shape);
  for (const t of inputs) {
    if (!sameShape(t.shape, y.shape)) throw new Error(`add: shapes [${t.shape}] and [${y.shape}] differ`);
    for (let i = 0; i < y.data.length; i++) y.data[i] += t.data[i];
  }
  return y;
}

/**
 * The element-wise product of the inputs, a `[B, C, 1, 1]` one scaling every position of the
 * `[B, C, H, W]` ones (a squeeze-and-excitation gate).
 */
export function mul(inputs: Tensor[]): Tensor {
  if (inputs.length === 0) throw new Error('mul: needs at least one input');
  const full = inputs.find((t) => !(t.shape.length === 4 && t.shape[2] === 1 && t.shape[3] === 1)) ?? inputs[0];
  const y = tensor(full.shape, Float32Array.from(full.data));
  const [B, C] = full.shape;
  const hw = y.data.length / (B * C);
  for (const t of inputs) {
    if (t === full) continue;
    if (sameShape(t.shape, y.shape)) {
      for (let i = 0; i < y.data.length; i++) y.data[i] *= t.data[i];
    } else if (t.shape.length === 4 && t.shape[0] === B && t.shape[1] === C && t.data.length === B * C) {
      for (let bc = 0; bc < B * C; bc++) for (let i = 0; i < hw; i++) y.data[bc * hw + i] *= t.data[bc];
    } else throw new Error(`mul: shape [${t.shape}] does not broadcast to [${y.shape}]`);
  }
  return y;
}

/** Concatenation along dim 1 (channels). */
export function concat(inputs: Tensor[]): Tensor {
  if (inputs.length === 0) throw new Error('concat: needs at least one input');
  const [B, , ...rest] = inputs[0].shape;
  const inner = rest.reduce((a, d) => a * d, 1);
  for (const t of inputs) {
    if (t.shape[0] !== B || !sameShape(t.shape.slice(2), rest)) {
      throw new Error(`concat: shape [${t.shape}] does not match [${inputs[0].shape}] outside dim 1`);
    }
  }
  const C = inputs.reduce((c, t) => c + t.shape[1], 0);
  const y = tensor([B, C, ...rest]);
  for (let b = 0; b < B; b++) {
    let at = b * C * inner;
    for (const t of inputs) {
      const n = t.shape[1] * inner;
      y.data.set(t.data.subarray(b * n, (b + 1) * n), at);
      at += n;
    }
  }
  return y;
}
