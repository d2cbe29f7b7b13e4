/**
 * What upsampling and transposed convolution share: which input pixels each output pixel reads
 * (a `Resampling` per dimension), the index arithmetic PyTorch's interpolation uses, and the
 * figures of a layer's own field.
 */
import { floorDiv, gcd, mod } from './ratio';
import { pairOf, type ReceptiveField, type Resampling } from './types';

/**
 * Receptive fields are tracked per output pixel over one period of their pattern; past this
 * many pixels (several resizes to sizes with large coprime factors) the field is not tracked.
 */
export const MAX_PERIOD = 4096;

/** One dimension of a resize: `in` pixels to `out`, by an integer factor or to a size. */
export interface ResizeDim {
  in: number;
  out: number;
  /** The integer factor when written as one (PyTorch then computes with 1/factor). */
  factor?: number;
  alignCorners: boolean;
}

/**
 * PyTorch's nearest source pixel (upsample_nearest2d): exact for the sizes it special-cases,
 * else `floor(o·scale)` in float32 with `scale = 1/factor` or `in/out` in float32.
 */
export function nearestIndex(o: number, d: ResizeDim): number {
  if (d.out === d.in) return o;
  if (d.out === 2 * d.in) return Math.floor(o / 2);
  const scale = Math.fround(d.factor !== undefined ? 1 / d.factor : d.in / d.out);
  return Math.min(Math.floor(Math.fround(o * scale)), d.in - 1);
}

/** The two source pixels of a bilinear output pixel and their weights. */
export interface LinearTap {
  i0: number;
  i1: number;
  w0: number;
  w1: number;
}

/**
 * PyTorch's bilinear source pixels and weights (upsample_bilinear2d), in float32 as it computes
 * them: `src = ratio·(o + 0.5) − 0.5` clamped at 0, or `ratio·o` with align_corners; the second
 * pixel is the first again at the far edge.
 */
export function linearTap(o: number, d: ResizeDim): LinearTap {
  if (d.out === d.in) return { i0: o, i1: o, w0: 1, w1: 0 };
  let src: number;
  if (d.alignCorners) {
    const ratio = d.out > 1 ? Math.fround((d.in - 1) / (d.out - 1)) : 0;
    src = Math.fround(ratio * o);
  } else {
    const ratio = Math.fround(d.factor !== undefined ? 1 / d.factor : d.in / d.out);
    src = Math.max(0, Math.fround(Math.fround(ratio * (o + 0.5)) - 0.5));
  }
  const i0 = Math.floor(src);
  const i1 = i0 < d.in - 1 ? i0 + 1 : i0;
  const w1 = Math.min(Math.max(Math.fround(src - i0), 0), 1);
  return { i0, i1, w0: Math.fround(1 - w1), w1 };
}

/**
 * Which input pixels a resize's output pixels read, in exact arithmetic: nearest the pixel
 * `floor(o·in/out)`; bilinear the pixels either side of the source position, which past an edge
 * is the edge pixel repeated (PyTorch clamps), counted as padding. A source position on a pixel
 * reads that pixel alone (its neighbour's weight is 0).
 */
export function resizeResampling(d: ResizeDim, mode: 'nearest' | 'bilinear'): Resampling {
  if (mode === 'nearest') {
    const g = gcd(d.in, d.out);
    return { period: d.out / g, advance: d.in / g, taps: (o) => [floorDiv(o * d.in, d.out)] };
  }
  // src = num(o) / den exactly.
  let num: (o: number) => number;
  let den: number;
  let period: number;
  let advance: number;
  if (d.alignCorners) {
    if (d.out === 1) return { period: 1, advance: d.in, taps: () => [0] };
    const g = gcd(d.in - 1, d.out - 1);
    [period, advance, den] = [(d.out - 1) / g, (d.in - 1) / g, d.out - 1];
    num = (o) => o * (d.in - 1);
  } else {
    const g = gcd(d.in, d.out);
    [period, advance, den] = [d.out / g, d.in / g, 2 * d.out];
    num = (o) => (2 * o + 1) * d.in - d.out;
  }
  return {
    period,
    advance,
    taps(o) {
      const n = num(o);
      const lo = floorDiv(n, den);
      return mod(n, den) === 0 ? [lo] : [lo, lo + 1];
    },
  };
}

/**
 * Which input pixels a transposed convolution's output pixels read along one dimension:
 * output o receives input i through tap t where `o = i·s − p + t·d`.
 */
export function transposedResampling(k: number, s: number, p: number, d: number): Resampling {
  const phases: number[][] = [];
  for (let o = 0; o < s; o++) {
    const taps: number[] = [];
    for (let t = 0; t < k; t++) {
      const n = o + p - t * d;
      if (mod(n, s) === 0) taps.push(floorDiv(n, s));
    }
    phases.push(taps.sort((a, b) => a - b));
  }
  return { period: s, advance: 1, taps: (o) => phases[o] };
}

/** One dimension's own figures: the widest pixel's extent, the stride, how far pixel 0's field starts before the input. */
function ownFigures(r: Resampling): { size: number; stride: number; padding: number } {
  let size = 0;
  let first: number | undefined;
  const phases = Math.min(r.period, MAX_PERIOD);
  for (let o = 0; o < phases; o++) {
    const t = r.taps(o);
    if (!t.length) continue;
    size = Math.max(size, t[t.length - 1] - t[0] + 1);
    first ??= t[0];
  }
  return { size, stride: r.advance / r.period, padding: first === undefined ? 0 : 0 - first };
}

/** A resampling layer's own field, as the analysis reports a layer's window over its input. */
export function resamplingField([h, w]: readonly [Resampling, Resampling]): ReceptiveField {
  const [a, b] = [ownFigures(h), ownFigures(w)];
  return { size: pairOf(a.size, b.size), stride: pairOf(a.stride, b.stride), padding: pairOf(a.padding, b.padding) };
}
