import type { ParamTensor } from '../../analysis/types';

/** FNV-1a over the name, mixed with the seed: each tensor draws from its own stream, so adding a layer leaves the others' values unchanged. */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** mulberry32: small, fast and the same on every platform, in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers by Box-Muller, both halves used. */
export function normals(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const u = 1 - rand(); // (0, 1]: log stays finite
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * rand();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/**
 * Deterministic starting weights so that any network runs at once: He (Kaiming) normal for
 * conv and linear weights (std = sqrt(2 / fan_in), fan_in = C_in/g x Kh x Kw or the input
 * features), zero biases, norms as the identity (weight 1, bias 0, mean 0, var 1), and a
 * tensor with a `fill` (a layer scale) filled with it.
 */
export function initWeights(tensors: readonly ParamTensor[], seed = 0): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const t of tensors) {
    const n = t.shape.reduce((a, d) => a * d, 1);
    const data = new Float32Array(n);
    if (t.fill !== undefined) {
      data.fill(t.fill); // a layer scale's starting value
    } else if (t.role === 'weight' && t.shape.length > 1) {
      const fanIn = t.shape.slice(1).reduce((a, d) => a * d, 1);
      const std = Math.sqrt(2 / Math.max(1, fanIn));
      const next = normals(mulberry32(streamSeed(seed, t.name)));
      for (let i = 0; i < n; i++) data[i] = std * next();
    } else if (t.role === 'weight' || t.role === 'running_var') {
      data.fill(1); // bn's scale and variance
    }
    out.set(t.name, data);
  }
  return out;
}
