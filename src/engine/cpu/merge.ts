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
