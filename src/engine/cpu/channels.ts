/** Per-channel layers that compute nothing but a factor or a new order: scale, shuffle, slice. */
import { asNCHW, tensor, type Tensor } from '../tensor';

/** y = x · s[c], `s` one factor per channel (or feature). */
export function channelScale(x: Tensor, s: Float32Array): Tensor {
  const [B, C, H, W] = asNCHW(x);
  if (s.length !== C) throw new Error(`scale: has ${s.length} factors, expected ${C}`);
  const hw = H * W;
  const y = tensor(x.shape);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) y.data[base + i] = x.data[base + i] * s[c];
    }
  }
  return y;
}

/** ShuffleNet's channel shuffle: output channel k·G + g is input channel g·(C/G) + k. */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const [B, C, H, W] = asNCHW(x);
  if (C % groups !== 0) throw new Error(`shuffle: ${groups} groups do not divide ${C} channels`);
  const hw = H * W;
  const per = C / groups;
  const y = tensor(x.shape);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < C; o++) {
      const from = (o % groups) * per + Math.floor(o / groups);
      y.data.set(x.data.subarray((b * C + from) * hw, (b * C + from + 1) * hw), (b * C + o) * hw);
    }
  }
  return y;
}

/** Channels (or features) `start` to `end - 1`. */
export function channelSlice(x: Tensor, start: number, end: number): Tensor {
  const [B, C, H, W] = asNCHW(x);
  if (start < 0 || end > C || start >= end) throw new Error(`slice: channels ${start} to ${end - 1} of ${C}`);
  const hw = H * W;
  const n = end - start;
  const y = tensor([B, n, ...x.shape.slice(2)]);
  for (let b = 0; b < B; b++) y.data.set(x.data.subarray((b * C + start) * hw, (b * C + end) * hw), b * n * hw);
  return y;
}
