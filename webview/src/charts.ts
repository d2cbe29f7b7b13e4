/** Small SVG charts without a chart library: paired horizontal bars and a line through depth. */
const NS = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
}

function label(parent: Element, x: number, y: number, s: string, cls = 'axis', anchor = 'start'): void {
  const t = el('text', { x, y, class: cls, 'text-anchor': anchor }, parent);
  t.textContent = s;
}

export interface BarSeries {
  name: string;
  cls: string;
  values: number[];
  format(v: number, i: number): string;
}

export interface BarRow {
  label: string;
  /** Node ids the row stands for (a click selects the first). */
  nodes: number[];
}

/** One row per item, one bar per series, each series scaled to its own maximum. */
export function barChart(title: string, rows: BarRow[], series: BarSeries[], onClick?: (row: BarRow) => void): SVGSVGElement {
  const labelW = 150;
  const barW = 180;
  const valueW = 170;
  const rowH = 8 * series.length + 6;
  const top = 34;
  const width = labelW + series.length * (barW + valueW);
  const height = top + rows.length * rowH + 6;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart bars', role: 'img', 'aria-label': title });
  label(svg, 0, 14, title, 'chart-title');
  series.forEach((s, k) => {
    const x0 = labelW + k * (barW + valueW);
    el('rect', { x: x0, y: 20, width: 10, height: 8, class: `bar ${s.cls}` }, svg);
    label(svg, x0 + 14, 28, s.name, 'legend');
  });
  const max = series.map((s) => Math.max(1e-12, ...s.values));
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const g = el('g', { class: 'row', 'data-node': r.nodes[0] ?? '' }, svg);
    el('title', {}, g).textContent = `${r.label}: ${series.map((s) => `${s.name} ${s.format(s.values[i], i)}`).join(', ')}`;
    label(g, labelW - 6, y + rowH / 2 + 3, r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label, 'row-label', 'end');
    series.forEach((s, k) => {
      const x0 = labelW + k * (barW + valueW);
      const w = (s.values[i] / max[k]) * barW;
      el('rect', { x: x0, y: y + 2 + 0, width: Math.max(s.values[i] > 0 ? 1 : 0, w), height: rowH - 6, class: `bar ${s.cls}` }, g);
      label(g, x0 + Math.max(w, 0) + 4, y + rowH / 2 + 3, s.format(s.values[i], i), 'value');
    });
    if (onClick) {
      g.classList.add('clickable');
      g.addEventListener('click', () => onClick(r));
    }
  });
  return svg;
}

export interface LinePoint {
  label: string;
  value: number;
  node: number;
}

/** A line of values through depth (receptive field size per layer), with the stride as a second line. */
export function lineChart(title: string, points: LinePoint[], second: { name: string; values: number[] } | undefined, yName: string, onClick?: (p: LinePoint) => void): SVGSVGElement {
  const width = Math.max(360, Math.min(900, 40 + points.length * 14));
  const height = 220;
  const left = 48;
  const bottom = 30;
  const top = 34;
  const plotW = width - left - 12;
  const plotH = height - top - bottom;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart line', role: 'img', 'aria-label': title });
  label(svg, 0, 14, title, 'chart-title');
  const max = Math.max(1, ...points.map((p) => p.value), ...(second?.values ?? []));
  const X = (i: number) => left + (points.length > 1 ? (i / (points.length - 1)) * plotW : plotW / 2);
  const Y = (v: number) => top + plotH - (v / max) * plotH;
  el('line', { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, class: 'axis-line' }, svg);
  el('line', { x1: left, y1: top, x2: left, y2: top + plotH, class: 'axis-line' }, svg);
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    el('line', { x1: left, y1: Y(v), x2: left + plotW, y2: Y(v), class: 'grid-line' }, svg);
    label(svg, left - 4, Y(v) + 3, String(v), 'axis', 'end');
  }
  label(svg, left + plotW / 2, height - 6, 'layers in execution order (spatial layers)', 'axis', 'middle');
  label(svg, left, top - 6, yName, 'axis');
  const line = (vals: number[], cls: string) =>
    el('polyline', { points: vals.map((v, i) => `${X(i)},${Y(v)}`).join(' '), class: `series ${cls}` }, svg);
  if (second) {
    line(second.values, 'second');
    el('rect', { x: width - 210, y: 20, width: 10, height: 3, class: 'swatch second' }, svg);
    label(svg, width - 196, 25, second.name, 'legend');
  }
  line(points.map((p) => p.value), 'first');
  el('rect', { x: width - 110, y: 20, width: 10, height: 3, class: 'swatch first' }, svg);
  label(svg, width - 96, 25, yName, 'legend');
  points.forEach((p, i) => {
    const c = el('circle', { cx: X(i), cy: Y(p.value), r: 3, class: 'point', 'data-node': p.node }, svg);
    el('title', {}, c).textContent = `${p.label}: ${p.value}`;
    if (onClick) c.addEventListener('click', () => onClick(p));
  });
  return svg;
}

export interface Curve {
  name: string;
  cls: string;
  points: { x: number; y: number }[];
  /** Dots at each point (the per-epoch figures) rather than a line alone. */
  dots?: boolean;
}

/** At most `max` points: means of equal runs of x, so a long run draws as fast as a short one. */
export function thin(points: { x: number; y: number }[], max: number): { x: number; y: number }[] {
  if (points.length <= max) return points;
  const per = points.length / max;
  const out: { x: number; y: number }[] = [];
  for (let k = 0; k < max; k++) {
    const from = Math.floor(k * per);
    const to = Math.max(from + 1, Math.floor((k + 1) * per));
    let y = 0;
    for (let i = from; i < to; i++) y += points[i].y;
    out.push({ x: points[to - 1].x, y: y / (to - from) });
  }
  return out;
}

const tick = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * Training curves: y against the step, one polyline per curve (`data-count` holds how many
 * points it has, thinned to 400 for drawing), the y axis from 0 to `yMax` (or the largest value).
 */
export function curveChart(title: string, curves: Curve[], xName: string, yName: string, yMax?: number): SVGSVGElement {
  const width = 420;
  const height = 200;
  const left = 44;
  const bottom = 28;
  const top = 34;
  const plotW = width - left - 12;
  const plotH = height - top - bottom;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart line curves', role: 'img', 'aria-label': title });
  label(svg, 0, 14, title, 'chart-title');
  const all = curves.flatMap((c) => c.points);
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const top_ = yMax ?? Math.max(1e-9, ...all.map((p) => p.y).filter(Number.isFinite));
  const X = (x: number) => left + (x / xMax) * plotW;
  const Y = (y: number) => top + plotH - (Math.min(Math.max(y, 0), top_) / top_) * plotH;
  el('line', { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, class: 'axis-line' }, svg);
  el('line', { x1: left, y1: top, x2: left, y2: top + plotH, class: 'axis-line' }, svg);
  for (const f of [0, 0.5, 1]) {
    el('line', { x1: left, y1: Y(top_ * f), x2: left + plotW, y2: Y(top_ * f), class: 'grid-line' }, svg);
    label(svg, left - 4, Y(top_ * f) + 3, tick(top_ * f), 'axis', 'end');
  }
  label(svg, left + plotW, height - 6, `${xName} (${xMax})`, 'axis', 'end');
  label(svg, left, top - 6, yName, 'axis');
  curves.forEach((c, k) => {
    const pts = thin(c.points.filter((p) => Number.isFinite(p.y)), 400);
    const line = el('polyline', { points: pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' '), class: `series ${c.cls}`, 'data-count': c.points.length, 'data-curve': c.cls }, svg);
    el('title', {}, line).textContent = `${c.name}: ${c.points.length} points${c.points.length ? `, last ${tick(c.points[c.points.length - 1].y)}` : ''}`;
    if (c.dots) for (const p of pts) el('circle', { cx: X(p.x), cy: Y(p.y), r: 3, class: `point ${c.cls}` }, svg);
    // The legend on the title's line, clear of the y axis's name.
    const lx = 90 + k * 110;
    el('rect', { x: lx, y: 8, width: 10, height: 3, class: `swatch ${c.cls}` }, svg);
    label(svg, lx + 14, 13, c.name, 'legend');
  });
  return svg;
}
