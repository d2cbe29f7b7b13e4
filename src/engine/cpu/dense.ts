import { numel, requireRank, tensor, type Tensor } from '../tensor';

/** y = x W^T + b with W `[out, in]`, as nn.Linear. */
export function linear(x: Tensor, weight: Float32Array, bias: Float32Array | undefined, out: number): Tensor {
  requireRank(x, 2, 'fully connected layer');
  const [B, N] = x.shape;
  if (weight.length !== out * N) throw new Error(`linear: weight has ${weight.length} values, expected ${out}x${N}`);
  if (bias && bias.length !== out) throw new Error(`linear: bias has ${bias.length} values, expected ${out}`);
  const y = tensor([B, out]);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < out; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < N; i++) s += x.data[b * N + i] * weight[o * N + i];
      y.data[b * out + o] = s;
    }
  }
  return y;
}

/** NCHW is contiguous per sample, so flattening only reshapes; the data is shared. */
export function flatten(x: Tensor): Tensor {
  return { shape: [x.shape[0], numel(x.shape.slice(1))], data: x.data };
}
