/**
 * Losses, as PyTorch defines them, each with its gradient with respect to what it reads:
 * cross-entropy on logits (F.cross_entropy, label smoothing included) and mean squared error
 * (F.mse_loss). Both are means over the batch.
 */
import type { Tensor } from '../tensor';

export type LossSpec = { kind: 'cross-entropy'; labelSmoothing?: number } | { kind: 'mse' };

export interface LossValue {
  loss: number;
  /** dL/d(input) of the loss, the input's shape. */
  grad: Float32Array;
}

/** The classes of a batch: integers in [0, classes). */
export function checkLabels(labels: Float32Array, batch: number, classes: number): void {
  if (labels.length !== batch) throw new Error(`the target has ${labels.length} labels for a batch of ${batch}`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new Error(`target ${i} is ${y}: a class must be an integer from 0 to ${classes - 1}`);
  }
}

/**
 * F.cross_entropy(logits, labels, label_smoothing=ε): per sample (1 − ε)·(−log p_y) + ε·mean_k(−log p_k)
 * with log p = log_softmax(logits), averaged over the batch. Its gradient is (p − q)/B with
 * q = (1 − ε)·onehot(y) + ε/K.
 */
export function crossEntropy(logits: Tensor, labels: Float32Array, labelSmoothing = 0): LossValue {
  if (logits.shape.length !== 2) throw new Error(`cross-entropy needs a flat output of class scores, got [${logits.shape.slice(1).join(', ')}] per sample`);
  const [B, K] = logits.shape;
  checkLabels(labels, B, K);
  const eps = labelSmoothing;
  const grad = new Float32Array(B * K);
  let total = 0;
  for (let b = 0; b < B; b++) {
    const row = b * K;
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits.data[row + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits.data[row + k] - m);
    const logZ = m + Math.log(s);
    const y = labels[b];
    let meanNll = 0;
    for (let k = 0; k < K; k++) {
      const logp = logits.data[row + k] - logZ;
      meanNll -= logp;
      const q = (k === y ? 1 - eps : 0) + eps / K;
      grad[row + k] = (Math.exp(logp) - q) / B;
    }
    meanNll /= K;
    total += (1 - eps) * (logZ - logits.data[row + y]) + eps * meanNll;
  }
  return { loss: total / B, grad };
}

/** F.mse_loss: the mean of (y − t)² over every element. */
export function meanSquaredError(y: Tensor, target: Float32Array): LossValue {
  const n = y.data.length;
  if (target.length !== n) throw new Error(`the target has ${target.length} values, the output ${n}`);
  const grad = new Float32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = y.data[i] - target[i];
    total += d * d;
    grad[i] = (2 * d) / n;
  }
  return { loss: total / n, grad };
}
