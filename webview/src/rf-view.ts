/**
 * A unit's receptive field on the network's input, as an SVG: the input image (or an empty frame
 * before a run), the part of the field inside the image outlined over it, and the part that falls
 * in the padding hatched outside the image. The geometry comes from the analysis (LayerInfo.rf):
 * the field of output unit (i, j) starts at (i·stride − padding, j·stride − padding) in input
 * pixels and spans `size`; strides and paddings may be fractional (upsampling), so nothing here
 * rounds. The effective receptive field (erf-panel.ts) is drawn with the same view: its heat
 * map (heatImage, heatColour, heatLegend) as the image, the theoretical field outlined on top.
 */
import type { ReceptiveField } from '../../src/analysis';

const NS = 'http://www.w3.org/2000/svg';

export interface FieldGeometry {
  /** The whole field in input pixels, [x0, x1) × [y0, y1): may reach past the image. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** The part inside the image; empty (x0 = x1) where the field lies wholly in the padding. */
  inside: { x0: number; x1: number; y0: number; y1: number };
  /** The share of the field's area in the padding. */
  paddedFraction: number;
  /** How far any unit's field of this layer reaches past the image, for a view that does not jump from unit to unit. */
  reach: number;
}

/** Unit (i, j) of a layer whose output is `out` = [H', W'] over an input of `input` = [H, W]. */
export function fieldGeometry(rf: ReceptiveField, input: [number, number], out: [number, number], i: number, j: number): FieldGeometry {
  const [H, W] = input;
  const y0 = i * rf.stride[0] - rf.padding[0];
  const x0 = j * rf.stride[1] - rf.padding[1];
  const y1 = y0 + rf.size[0];
  const x1 = x0 + rf.size[1];
  const clip = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const inside = { x0: clip(x0, W), x1: clip(x1, W), y0: clip(y0, H), y1: clip(y1, H) };
  const area = (x1 - x0) * (y1 - y0);
  const kept = (inside.x1 - inside.x0) * (inside.y1 - inside.y0);
  // The first and the last unit reach furthest past the image's edges.
  const reach = Math.max(
    0,
    rf.padding[0],
    rf.padding[1],
    (out[0] - 1) * rf.stride[0] - rf.padding[0] + rf.size[0] - H,
    (out[1] - 1) * rf.stride[1] - rf.padding[1] + rf.size[1] - W,
  );
  return { x0, x1, y0, y1, inside, paddedFraction: area > 0 ? 1 - kept / area : 0, reach };
}

/** Numbers for people: integers as they are, others to two decimals. */
export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, '');
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
}

let views = 0;

/**
 * The input (an image's data: URL, or an empty frame) with a field drawn over it; `heat`: the
 * image is an effective receptive field's heat map (erfView), the field outlined on top of it.
 */
export function fieldView(o: { H: number; W: number; image?: string; field?: FieldGeometry; heat?: boolean }): SVGSVGElement {
  const { H, W, field } = o;
  // Room around the image for the part of a field in the padding, at most the image's size.
  const m = field ? Math.min(Math.max(H, W), field.reach) : 0;
  const label = o.heat ? 'effective receptive field on the input' : 'receptive field on the input';
  const svg = el('svg', { viewBox: `${-m} ${-m} ${W + 2 * m} ${H + 2 * m}`, class: o.heat ? 'rf-view erf' : 'rf-view', role: 'img', 'aria-label': label });
  const id = `hatch${++views}`;
  const step = Math.max(W, H) / 40;
  const pattern = el('pattern', { id, patternUnits: 'userSpaceOnUse', width: step, height: step, patternTransform: 'rotate(45)' }, el('defs', {}, svg));
  el('line', { x1: 0, y1: 0, x2: 0, y2: step, class: 'rf-hatch', 'stroke-width': step / 3 }, pattern);
  if (field) el('rect', { x: field.x0, y: field.y0, width: field.x1 - field.x0, height: field.y1 - field.y0, fill: `url(#${id})`, class: 'rf-padded' }, svg);
  if (o.image) el('image', { href: o.image, x: 0, y: 0, width: W, height: H, preserveAspectRatio: 'none', class: o.heat ? 'rf-image erf-heat pixelated' : 'rf-image pixelated' }, svg);
  el('rect', { x: 0, y: 0, width: W, height: H, class: o.image ? 'rf-border' : 'rf-border empty' }, svg);
  if (field) {
    const stroke = Math.max(W, H) / 100;
    el('rect', { x: field.x0, y: field.y0, width: field.x1 - field.x0, height: field.y1 - field.y0, class: 'rf-field', 'stroke-width': stroke }, svg);
    const r = field.inside;
    if (r.x1 > r.x0 && r.y1 > r.y0) el('rect', { x: r.x0, y: r.y0, width: r.x1 - r.x0, height: r.y1 - r.y0, class: 'rf-inside', 'stroke-width': stroke * 1.5 }, svg);
  }
  return svg;
}

/** Inferno-like stops, dark to bright, even in lightness: a heat map that reads in both themes and in grey. */
const HEAT_STOPS: readonly [number, number, number][] = [
  [0, 0, 4],
  [31, 12, 72],
  [85, 15, 109],
  [136, 34, 106],
  [186, 54, 85],
  [227, 89, 51],
  [249, 140, 10],
  [249, 201, 50],
  [252, 255, 164],
];

/** The heat map's colour of t in [0, 1] (clamped), linear between the stops. */
export function heatColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (HEAT_STOPS.length - 1);
  const k = Math.min(HEAT_STOPS.length - 2, Math.floor(x));
  const f = x - k;
  const [a, b] = [HEAT_STOPS[k], HEAT_STOPS[k + 1]];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * f)) as [number, number, number];
}

/** Figures of any size for people: three significant digits, exponent form below 0.01. */
export function fmtValue(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) < 0.01 || Math.abs(v) >= 1e5 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** A row-major H×W map as a PNG data: URL, each pixel coloured by value / max (0 where max is 0). */
export function heatImage(map: Float32Array, H: number, W: number, max: number): string {
  const c = document.createElement('canvas');
  c.width = W;
  c.height = H;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < H * W; i++) {
    const [r, g, b] = heatColour(max > 0 ? map[i] / max : 0);
    img.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
  return c.toDataURL();
}

/** The colour scale under the map: 0 at the left, the map's largest value at the right. */
export function heatLegend(max: number, what: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'erf-legend';
  const bar = document.createElement('canvas');
  bar.className = 'erf-scale';
  bar.width = 64;
  bar.height = 1;
  const ctx = bar.getContext('2d')!;
  const img = ctx.createImageData(64, 1);
  for (let i = 0; i < 64; i++) img.data.set([...heatColour(i / 63), 255], 4 * i);
  ctx.putImageData(img, 0, 0);
  const lo = document.createElement('span');
  lo.textContent = '0';
  const hi = document.createElement('span');
  hi.className = 'erf-max';
  hi.textContent = `${fmtValue(max)} (max ${what})`;
  box.append(lo, bar, hi);
  return box;
}

/**
 * The bounding box [y0, y1) × [x0, x1) of the pixels at or above `fraction` of the map's largest
 * value: where the map is bright. Null for a map of zeros.
 */
export function brightBox(map: Float32Array, H: number, W: number, fraction: number): { y0: number; y1: number; x0: number; x1: number } | null {
  let max = 0;
  for (const v of map) max = Math.max(max, v);
  if (!(max > 0)) return null;
  let [y0, y1, x0, x1] = [H, 0, W, 0];
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      if (map[y * W + x] < fraction * max) continue;
      [y0, y1, x0, x1] = [Math.min(y0, y), Math.max(y1, y + 1), Math.min(x0, x), Math.max(x1, x + 1)];
    }
  return { y0, y1, x0, x1 };
}
