import { asNCHW, tensor, type Tensor } from '../tensor';

/** y = f(x), element by element. */
export function activate(x: Tensor, f: (v: number) => number): Tensor {
  const y = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = f(x.data[i]);
  return y;
}

/** Softmax over dim 1 (channels, or features of a flat tensor), as nn.Softmax(dim=1); max-shifted for stability. */
export function softmax(x: Tensor): Tensor {
  const [B, C, H, W] = asNCHW(x);
  const hw = H * W;
  const y = tensor(x.shape);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < hw; i++) {
      const at = (c: number) => (b * C + c) * hw + i;
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, x.data[at(c)]);
      let s = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(x.data[at(c)] - m);
        y.data[at(c)] = e;
        s += e;
      }
      for (let c = 0; c < C; c++) y.data[at(c)] /= s;
    }
  }
  return y;
}
