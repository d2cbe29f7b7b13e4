/**
 * Receptive fields through upsampling and transposed convolutions, counted exactly.
 *
 * Through convs and pools every output pixel's field is the same window shifted by the
 * effective stride, and `r += (k−1)·j, j *= s, p += pad·j` (layer-math.ts) is exact. After an
 * upsampling it is not: a ×2 nearest upsample gives two neighbouring pixels one field, so a 2×2
 * conv after it sees one input pixel at some positions and two at others, and the rule's
 * 1 + (2−1)·½ = 1.5 is neither. Here each dimension keeps the field of every output pixel over
 * one period of its pattern: pixel o sees input pixels lo(o)..hi(o), and
 * lo(o + period) = lo(o) + advance. The analysis reports, per dimension:
 *   - size: the largest field of any output pixel, in input pixels (padding counted);
 *   - stride: advance / period, input pixels per output pixel (a fraction after upsampling);
 *   - padding: how far output pixel 0's field starts before the input (negative: after its start).
 * Where every pixel's field is the same window shifted (period 1), the figures are the rule's.
 */
import type { Pair, ReceptiveField, Resampling } from '../layers';
import { pairOf } from '../layers';
import { floorDiv, gcd } from '../layers/ratio';
import { MAX_PERIOD } from '../layers/resampling';

/** One dimension of a field, pixel by pixel over one period; lo = +∞ and hi = −∞ for a pixel that sees no input. */
export interface FieldDim {
  period: number;
  advance: number;
  lo: Float64Array;
  hi: Float64Array;
  /** lo and hi never decrease and every pixel sees some input: a window's union is then its end pixels'. */
  simple: boolean;
}

export type ExactField = [FieldDim, FieldDim];

/** What a layer's output pixel reads in its input along one dimension: a resampling, or an affine window. */
type OwnDim = { resampling: Resampling } | { first: number; last: number; stride: number };

function dimOfAffine(size: number, stride: number, padding: number): FieldDim {
  return { period: 1, advance: stride, lo: Float64Array.of(-padding), hi: Float64Array.of(-padding + size - 1), simple: true };
}

/** The exact form of a field that is the same window shifted at every pixel. */
export function exactOfAffine(f: ReceptiveField): ExactField {
  return [dimOfAffine(f.size[0], f.stride[0], f.padding[0]), dimOfAffine(f.size[1], f.stride[1], f.padding[1])];
}

function loAt(d: FieldDim, u: number): number {
  const q = floorDiv(u, d.period);
  return d.lo[u - q * d.period] + d.advance * q;
}

function hiAt(d: FieldDim, u: number): number {
  const q = floorDiv(u, d.period);
  return d.hi[u - q * d.period] + d.advance * q;
}

/** The shortest period the tables repeat with. */
function reduce(d: FieldDim): FieldDim {
  const n = d.period;
  for (let p = 1; p < n; p++) {
    if (n % p !== 0 || (d.advance * p) % n !== 0) continue;
    const shift = (d.advance * p) / n;
    let ok = true;
    for (let o = p; o < n && ok; o++) ok = d.lo[o] === d.lo[o - p] + shift && d.hi[o] === d.hi[o - p] + shift;
    if (ok) return { period: p, advance: shift, lo: d.lo.slice(0, p), hi: d.hi.slice(0, p), simple: d.simple };
  }
  return d;
}

function isSimple(lo: Float64Array, hi: Float64Array, advance: number): boolean {
  const n = lo.length;
  for (let o = 0; o < n; o++) {
    if (lo[o] > hi[o]) return false;
    const nextLo = o + 1 < n ? lo[o + 1] : lo[0] + advance;
    const nextHi = o + 1 < n ? hi[o + 1] : hi[0] + advance;
    if (nextLo < lo[o] || nextHi < hi[o]) return false;
  }
  return true;
}

/** A layer's field in the network's input from its input's field and what its pixels read; null past MAX_PERIOD. */
function composeDim(prev: FieldDim, own: OwnDim): FieldDim | null {
  const [q, a] = 'resampling' in own ? [own.resampling.period, own.resampling.advance] : [1, own.stride];
  const m = prev.period / gcd(a, prev.period);
  const period = q * m;
  if (period > MAX_PERIOD) return null;
  const advance = (prev.advance * a * m) / prev.period;
  const lo = new Float64Array(period);
  const hi = new Float64Array(period);
  for (let o = 0; o < period; o++) {
    const base = a * Math.floor(o / q);
    let l = Infinity;
    let h = -Infinity;
    if ('resampling' in own) {
      const taps = own.resampling.taps(o % q);
      if (taps.length && prev.simple) {
        l = loAt(prev, base + taps[0]);
        h = hiAt(prev, base + taps[taps.length - 1]);
      } else {
        for (const t of taps) {
          l = Math.min(l, loAt(prev, base + t));
          h = Math.max(h, hiAt(prev, base + t));
        }
      }
    } else if (prev.simple) {
      l = loAt(prev, base + own.first);
      h = hiAt(prev, base + own.last);
    } else {
      for (let u = base + own.first; u <= base + own.last; u++) {
        l = Math.min(l, loAt(prev, u));
        h = Math.max(h, hiAt(prev, u));
      }
    }
    lo[o] = l;
    hi[o] = h;
  }
  return reduce({ period, advance, lo, hi, simple: isSimple(lo, hi, advance) });
}

function figures(d: FieldDim): { size: number; stride: number; padding: number } {
  let size = 0;
  let first: number | undefined;
  for (let o = 0; o < d.period; o++) {
    if (d.lo[o] > d.hi[o]) continue;
    size = Math.max(size, d.hi[o] - d.lo[o] + 1);
    first ??= d.lo[o];
  }
  return { size, stride: d.advance / d.period, padding: first === undefined ? 0 : 0 - first };
}

/** The figures the analysis reports; `exact` is undefined where every pixel's field is one window shifted. */
export function publicField(dims: ExactField): { rf: ReceptiveField; exact?: ExactField } {
  const [h, w] = dims.map(figures);
  const rf: ReceptiveField = { size: pairOf(h.size, w.size), stride: pairOf(h.stride, w.stride), padding: pairOf(h.padding, w.padding) };
  const affine = dims.every((d) => d.period === 1 && d.simple && Number.isInteger(d.advance));
  return affine ? { rf } : { rf, exact: dims };
}

/**
 * The field of a layer's output from its input's field (exact where the input went through a
 * resampling) and its own window or resampling. Null past MAX_PERIOD.
 */
export function composeExact(prev: ExactField, own: ReceptiveField | readonly [Resampling, Resampling]): ExactField | null {
  const dims: (FieldDim | null)[] = [0, 1].map((i) => {
    const o: OwnDim = 'size' in own ? { first: -own.padding[i], last: -own.padding[i] + own.size[i] - 1, stride: own.stride[i] } : { resampling: own[i] };
    return composeDim(prev[i], o);
  });
  return dims[0] && dims[1] ? [dims[0], dims[1]] : null;
}

/**
 * Through a merge, per dimension the widest input's field (largest size, then stride, then
 * padding): the contract's "largest over paths", kept exactly for the layers after it.
 */
export function widestExact(fields: readonly ExactField[]): ExactField {
  const pick = (i: 0 | 1): FieldDim => {
    let best = fields[0][i];
    let bf = figures(best);
    for (const f of fields.slice(1)) {
      const ff = figures(f[i]);
      if (ff.size > bf.size || (ff.size === bf.size && (ff.stride > bf.stride || (ff.stride === bf.stride && ff.padding > bf.padding)))) [best, bf] = [f[i], ff];
    }
    return best;
  };
  return [pick(0), pick(1)];
}

/** The input pixels output pixel `o` sees along one dimension: [lo, hi], or null for none. For tests and tools. */
export function fieldOfPixel(d: FieldDim, o: number): Pair | null {
  const l = loAt(d, o);
  const h = hiAt(d, o);
  return l > h ? null : [l, h];
}
