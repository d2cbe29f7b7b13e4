/**
 * A unit's receptive field on the network's input, as an SVG: the input image (or an empty frame
 * before a run), the part of the field inside the image outlined over it, and the part that falls
 * in the padding hatched outside the image. The geometry comes from the analysis (LayerInfo.rf):
 * the field of output unit (i, j) starts at (i·stride − padding, j·stride − padding) in input
 * pixels and spans `size`; strides and paddings may be fractional (upsampling), so nothing here
 * rounds.
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

/** The input (an image's data: URL, or an empty frame) with a field drawn over it. */
export function fieldView(o: { H: number; W: number; image?: string; field?: FieldGeometry }): SVGSVGElement {
  const { H, W, field } = o;
  // Room around the image for the part of a field in the padding, at most the image's size.
  const m = field ? Math.min(Math.max(H, W), field.reach) : 0;
  const svg = el('svg', { viewBox: `${-m} ${-m} ${W + 2 * m} ${H + 2 * m}`, class: 'rf-view', role: 'img', 'aria-label': 'receptive field on the input' });
  const id = `hatch${++views}`;
  const step = Math.max(W, H) / 40;
  const pattern = el('pattern', { id, patternUnits: 'userSpaceOnUse', width: step, height: step, patternTransform: 'rotate(45)' }, el('defs', {}, svg));
  el('line', { x1: 0, y1: 0, x2: 0, y2: step, class: 'rf-hatch', 'stroke-width': step / 3 }, pattern);
  if (field) el('rect', { x: field.x0, y: field.y0, width: field.x1 - field.x0, height: field.y1 - field.y0, fill: `url(#${id})`, class: 'rf-padded' }, svg);
  if (o.image) el('image', { href: o.image, x: 0, y: 0, width: W, height: H, preserveAspectRatio: 'none', class: 'rf-image pixelated' }, svg);
  el('rect', { x: 0, y: 0, width: W, height: H, class: o.image ? 'rf-border' : 'rf-border empty' }, svg);
  if (field) {
    const stroke = Math.max(W, H) / 100;
    el('rect', { x: field.x0, y: field.y0, width: field.x1 - field.x0, height: field.y1 - field.y0, class: 'rf-field', 'stroke-width': stroke }, svg);
    const r = field.inside;
    if (r.x1 > r.x0 && r.y1 > r.y0) el('rect', { x: r.x0, y: r.y0, width: r.x1 - r.x0, height: r.y1 - r.y0, class: 'rf-inside', 'stroke-width': stroke * 1.5 }, svg);
  }
  return svg;
}
