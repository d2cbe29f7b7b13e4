/**
 * Folds an inference batch norm into the preceding conv or linear, whose weight rows are output
 * channels: w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps).
 */
export function foldBatchNorm(
  weight: Float32Array,
  bias: Float32Array | undefined,
  outChannels: number,
  bn: { weight: Float32Array; bias: Float32Array; runningMean: Float32Array; runningVar: Float32Array; eps: number },
): { weight: Float32Array; bias: Float32Array } {
  const perRow = weight.length / outChannels;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(outChannels);
  for (let c = 0; c < outChannels; c++) {
    const s = bn.weight[c] / Math.sqrt(bn.runningVar[c] + bn.eps);
    for (let j = 0; j < perRow; j++) w[c * perRow + j] = weight[c * perRow + j] * s;
    b[c] = ((bias ? bias[c] : 0) - bn.runningMean[c]) * s + bn.bias[c];
  }
  return { weight: w, bias: b };
}

/** Inference batch norm as a per-channel affine map. */
export function batchNormScaleShift(bn: { weight: Float32Array; bias: Float32Array; runningMean: Float32Array; runningVar: Float32Array; eps: number }): {
  scale: Float32Array;
  shift: Float32Array;
} {
  const C = bn.weight.length;
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = bn.weight[c] / Math.sqrt(bn.runningVar[c] + bn.eps);
    shift[c] = bn.bias[c] - bn.runningMean[c] * scale[c];
  }
  return { scale, shift };
}
