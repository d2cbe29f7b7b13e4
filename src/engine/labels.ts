/** Class names for top-k answers: ImageNet's built in, or a user's file (one name per line, or a JSON array). */
import imagenetClasses from '../../assets/imagenet-classes.json';

export const IMAGENET_CLASSES: readonly string[] = imagenetClasses;

/** Parses a labels file: a JSON array of strings, else one name per line (blank lines at the end ignored). */
export function parseLabels(text: string): string[] {
  const t = text.replace(/^\uFEFF/, '');
  if (t.trimStart().startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new Error(`labels: not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new Error('labels: the JSON must be an array of strings');
    return v as string[];
  }
  const lines = t.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((l) => l.trim());
}

export interface TopEntry {
  index: number;
  label: string;
  p: number;
}

/** Softmax in float64 with the maximum subtracted, so large logits do not overflow. */
export function softmax(values: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]);
  const out = new Float64Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += out[i] = Math.exp(values[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * The k most probable classes. `isProbability`: the output is already a softmax (the network
 * ends in one); otherwise the logits go through one here.
 */
export function topK(output: ArrayLike<number>, k: number, labels: readonly string[] | undefined, isProbability: boolean): TopEntry[] {
  const p = isProbability ? Float64Array.from(output as ArrayLike<number>) : softmax(output);
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  return order.slice(0, Math.max(0, k)).map((index) => ({ index, label: labels?.[index] ?? String(index), p: p[index] }));
}
