/**
 * The network as an SVG graph: layers (or collapsed block instances) as boxes sized to their
 * text, expanded block instances as frames around their layers, merges (add, concat) as round
 * nodes, edges as the polylines the layered layout routed between the boxes (layout/layered.ts).
 * `graphModel` says what to lay out; `drawGraph` draws a finished layout.
 */
import type { NetworkAnalysis } from '../../src/analysis';
import { NAME_SEPARATOR } from '../../src/analysis/display-names';
import { layerDef } from '../../src/layers';
import type { LayoutInput, LayoutOutput } from './layout/layered';
import { type BlockInstance, describe, family, formatShape, layerName } from './model';

const NS = 'http://www.w3.org/2000/svg';
const H = 40;
const PAD_L = 10;
const PAD_R = 8;
const MIN_W = 96;
const MAX_W = 300;
const MERGE_MIN_W = 56;
/** The frame's tag sits in the top border; this much room for it. */
const TAG_H = 12;

export interface GraphHandlers {
  selectNode(id: number): void;
  selectBlock(b: BlockInstance): void;
  toggle(key: string): void;
}

type TextClass = 'title' | 'sub' | 'frame-label';

/** Text widths as the SVG will draw them: the stylesheet's fonts, measured on a canvas. */
export class TextMeasure {
  private readonly ctx = document.createElement('canvas').getContext('2d')!;
  private readonly fonts: Record<TextClass, string>;
  private readonly memo = new Map<string, number>();

  constructor() {
    const css = getComputedStyle(document.documentElement);
    const ui = css.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
    const mono = css.getPropertyValue('--vscode-editor-font-family').trim() || 'monospace';
    // The sizes and weights of svg.graph .title, .sub and .frame-label in main.css.
    this.fonts = { title: `600 12px ${ui}`, sub: `11px ${mono}`, 'frame-label': `11px ${ui}` };
  }

  width(s: string, cls: TextClass): number {
    const key = `${cls}\u0000${s}`;
    let w = this.memo.get(key);
    if (w === undefined) {
      this.ctx.font = this.fonts[cls];
      this.memo.set(key, (w = this.ctx.measureText(s).width));
    }
    return w;
  }

  /** The longest prefix of `s`, with an ellipsis, that fits in `max` pixels (all of `s` if it fits). */
  fit(s: string, cls: TextClass, max: number): string {
    if (this.width(s, cls) <= max) return s;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.width(`${s.slice(0, mid)}…`, cls) <= max) lo = mid;
      else hi = mid - 1;
    }
    return `${s.slice(0, lo)}…`;
  }
}

interface Line {
  text: string;
  cls: 'title' | 'sub';
}

interface Unit {
  id: string;
  nodes: number[];
  block?: BlockInstance;
  merge: boolean;
  /** The node whose output the unit shows (its last). */
  out: number;
  lines: [Line, Line];
  w: number;
  /** The frame it sits in. */
  frame?: string;
}

export interface GraphModel {
  units: Unit[];
  unitOf: Map<number, Unit>;
  /** Expanded block instances drawn as frames, by frame id. */
  frames: Map<string, { block: BlockInstance; parent?: string }>;
  /** Edges (`from>to`) that skip: into a merge from a unit with another path to it (a residual's identity, a dense layer's input). */
  skips: Set<string>;
  input: LayoutInput;
}

/** The edges into merges whose source also reaches the merge through another of its inputs. */
function skipEdges(units: Unit[], edges: { from: string; to: string }[]): Set<string> {
  const index = new Map(units.map((u, i) => [u.id, i]));
  const parents = new Map<string, string[]>();
  for (const e of edges) (parents.get(e.to) ?? parents.set(e.to, []).get(e.to)!).push(e.from);
  const reaches = (from: string, to: string): boolean => {
    // Upwards from `to`: units come in execution order, so nothing before `from` can lead back to it.
    const stop = index.get(from)!;
    const seen = new Set<string>();
    const stack = [to];
    while (stack.length) {
      const x = stack.pop()!;
      if (x === from) return true;
      for (const p of parents.get(x) ?? []) if (!seen.has(p) && index.get(p)! >= stop) seen.add(p), stack.push(p);
    }
    return false;
  };
  const out = new Set<string>();
  for (const u of units) {
    if (!u.merge) continue;
    const ins = parents.get(u.id) ?? [];
    for (const a of ins) if (ins.some((b) => b !== a && reaches(a, b))) out.add(`${a}>${u.id}`);
  }
  return out;
}

const frameId = (b: BlockInstance) => `f:${b.key}`;

/** A name without the prefix its frame already shows: `branch2.1.conv` inside `inception3a`. */
function shortName(name: string, frame: BlockInstance | undefined): string {
  if (!frame) return name;
  for (const sep of ['.', NAME_SEPARATOR]) if (name.startsWith(frame.label + sep)) return name.slice(frame.label.length + sep.length);
  return name;
}

/** A frame's tag: the block and, relative to the frame around it, its instance's path. */
function frameTag(b: BlockInstance, around: BlockInstance | undefined): string {
  return `▾ ${b.block}${b.label !== b.block ? `  ${shortName(b.label, around)}` : ''}`;
}

/** What to lay out: the units (a layer, or a collapsed block instance), the frames, the edges. */
export function graphModel(net: NetworkAnalysis, blocks: BlockInstance[], collapsed: ReadonlySet<string>, measure: TextMeasure): GraphModel {
  const nodes = net.graph.nodes;
  // Each node belongs to the outermost collapsed instance around it, or stands alone.
  const owner = new Map<number, BlockInstance>();
  for (const b of blocks) {
    if (!collapsed.has(b.key)) continue;
    for (const id of b.nodes) if (!owner.has(id)) owner.set(id, b);
  }
  // Expanded instances not inside a collapsed one are frames; each node's innermost frame, and each frame's parent.
  const frames = new Map<string, { block: BlockInstance; parent?: string }>();
  const innermost = new Map<number, BlockInstance>();
  for (const b of blocks) {
    if (collapsed.has(b.key) || owner.has(b.nodes[0])) continue;
    const parent = innermost.get(b.nodes[0]);
    frames.set(frameId(b), { block: b, parent: parent && frameId(parent) });
    for (const id of b.nodes) innermost.set(id, b);
  }
  const units: Unit[] = [];
  const unitOf = new Map<number, Unit>();
  const edges: { from: string; to: string }[] = [];
  const seen = new Set<string>();
  for (const n of nodes) {
    const b = owner.get(n.id);
    let u = b ? unitOf.get(b.nodes[0]) : undefined;
    if (!u) {
      const merge = !b && layerDef(n.attrs).merge === true;
      // A collapsed instance sits in the frame of the instance around it.
      const around = b ? blocks.find((o) => o.depth === b.depth - 1 && frames.has(frameId(o)) && o.nodes.includes(b.nodes[0])) : innermost.get(n.id);
      u = { id: b ? `b:${b.key}` : `n:${n.id}`, nodes: [], block: b, merge, out: n.id, lines: [{ text: '', cls: 'title' }, { text: '', cls: 'sub' }], w: 0, frame: around && frameId(around) };
      units.push(u);
    }
    u.nodes.push(n.id);
    u.out = n.id;
    unitOf.set(n.id, u);
    for (const i of n.inputs) {
      const p = unitOf.get(i)!;
      const key = `${p.id}>${u.id}`;
      if (p !== u && !seen.has(key)) {
        seen.add(key);
        edges.push({ from: p.id, to: u.id });
      }
    }
  }
  for (const u of units) {
    const n = nodes[u.out];
    const shape = formatShape(net.layers[u.out].shape);
    const frame = u.frame ? frames.get(u.frame)!.block : undefined;
    if (u.block) {
      const b = u.block;
      u.lines = [
        { text: `▸ ${b.block}${b.label !== b.block ? `  ${shortName(b.label, frame)}` : ''}`, cls: 'title' },
        { text: `${u.nodes.length} layers → ${shape}`, cls: 'sub' },
      ];
    } else if (u.merge) {
      u.lines = [
        // A sum reads as '+'; other merges (concat, mul) by their keyword.
        { text: layerDef(n.attrs).fusion?.sums ? '+' : n.attrs.kind, cls: 'title' },
        { text: shape, cls: 'sub' },
      ];
    } else {
      // A name that only repeats the kind (`relu 1` inside its block's frame) is left to the tooltip.
      const short = shortName(layerName(n), frame);
      const name = n.attrs.kind === 'input' || new RegExp(`^${n.attrs.kind}( \\d+)?$`).test(short) ? '' : `  ${short}`;
      u.lines = [
        { text: describe(n.attrs), cls: 'title' },
        { text: `→ ${shape}${name}`, cls: 'sub' },
      ];
    }
    const text = Math.max(...u.lines.map((l) => measure.width(l.text, l.cls)));
    u.w = u.merge ? Math.max(MERGE_MIN_W, Math.ceil(text) + 20) : Math.min(MAX_W, Math.max(MIN_W, Math.ceil(text) + PAD_L + PAD_R));
  }
  // A frame is as wide as its widest layer: make its layers wide enough for the frame's tag.
  for (const [id, f] of frames) {
    const need = Math.ceil(measure.width(frameTag(f.block, f.parent ? frames.get(f.parent)!.block : undefined), 'frame-label')) + 4;
    for (const u of units) if (u.frame === id && !u.merge) u.w = Math.max(u.w, Math.min(MAX_W, need));
  }
  const input: LayoutInput = {
    nodes: units.map((u) => ({ id: u.id, w: u.w, h: H, parent: u.frame })),
    clusters: [...frames].map(([id, f]) => ({ id, parent: f.parent })),
    edges,
  };
  return { units, unitOf, frames, skips: skipEdges(units, edges), input };
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
}

/** A text that fits `max` pixels: truncated with an ellipsis, the whole text then in its tooltip. */
function text(parent: Element, x: number, y: number, s: string, cls: string, max: number, measure: TextMeasure): SVGTextElement {
  const kind = cls.split(' ')[0] as TextClass;
  const shown = measure.fit(s, kind, max);
  const t = el('text', { x, y, class: cls }, parent);
  t.textContent = shown;
  if (shown !== s) el('title', {}, t).textContent = s;
  return t;
}

export interface GraphView {
  svg: SVGSVGElement;
  /** Marks layers as highlighted (the cursor) and one as selected; returns the first highlighted box. */
  mark(highlight: ReadonlySet<number>, selected: number | undefined): Element | undefined;
}

export function drawGraph(net: NetworkAnalysis, model: GraphModel, layout: LayoutOutput, h: GraphHandlers, measure: TextMeasure): GraphView {
  const nodes = net.graph.nodes;
  const width = Math.ceil(layout.width);
  const height = Math.ceil(layout.height);
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'graph', role: 'img', 'aria-label': `${net.graph.network}: layer graph` });
  svg.dataset.layoutMs = layout.ms.toFixed(1);
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: 8, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrowhead' }, marker);
  const frameLayer = el('g', { class: 'frames' }, svg);
  const edgeLayer = el('g', { class: 'edges' }, svg);
  const boxes = el('g', { class: 'nodes' }, svg);

  // Outer frames first, so that inner ones and the boxes sit on them.
  const depthOf = (id: string): number => {
    const p = model.frames.get(id)?.parent;
    return p ? depthOf(p) + 1 : 0;
  };
  for (const id of [...model.frames.keys()].sort((a, b) => depthOf(a) - depthOf(b))) {
    const b = model.frames.get(id)!.block;
    const r = layout.clusters[id];
    const g = el('g', { class: 'frame-group', 'data-frame': b.key }, frameLayer);
    el('rect', { x: r.x, y: r.y, width: r.w, height: r.h, rx: 6, class: 'frame' }, g);
    const tag = el('g', { class: 'frame-tag', 'data-block': b.key, tabindex: 0, role: 'button' }, g);
    el('title', {}, tag).textContent = `${b.block} (${b.label}): ${b.nodes.length} layers; click to collapse`;
    const parent = model.frames.get(id)!.parent;
    const label = frameTag(b, parent ? model.frames.get(parent)!.block : undefined);
    const shown = measure.fit(label, 'frame-label', r.w - 14);
    // The tag sits on the frame's top border, over a patch of background, like a fieldset's legend.
    el('rect', { x: r.x + 6, y: r.y - TAG_H / 2, width: measure.width(shown, 'frame-label') + 6, height: TAG_H, class: 'frame-tag-bg' }, tag);
    text(tag, r.x + 9, r.y + 4, label, 'frame-label', r.w - 14, measure);
    tag.addEventListener('click', () => h.toggle(b.key));
    tag.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ' || e.key === '-') h.toggle(b.key);
    });
  }

  for (const e of layout.edges) {
    const skip = model.skips.has(`${e.from}>${e.to}`);
    el('polyline', { points: e.points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '), class: skip ? 'edge skip' : 'edge', 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to }, edgeLayer);
  }

  const byNode = new Map<number, SVGGElement>();
  for (const u of model.units) {
    const n = nodes[u.out];
    const info = net.layers[u.out];
    const r = layout.nodes[u.id];
    const g = el('g', { class: 'node', transform: `translate(${r.x.toFixed(1)},${r.y.toFixed(1)})`, tabindex: 0, role: 'button', 'data-unit': u.id }, boxes);
    const [l1, l2] = u.lines;
    if (u.block) {
      const b = u.block;
      g.classList.add('block');
      g.setAttribute('data-block', b.key);
      el('rect', { width: u.w, height: H, rx: 5, class: 'box block' }, g);
      text(g, PAD_L - 2, 16, l1.text, 'title', u.w - PAD_L - PAD_R + 2, measure);
      text(g, PAD_L - 2, 32, l2.text, 'sub', u.w - PAD_L - PAD_R + 2, measure);
      el('title', {}, g).textContent = `${b.block} (${b.label}): ${u.nodes.length} layers → ${formatShape(info.shape)}; click to open its call, double-click or press + to expand`;
      g.addEventListener('click', () => h.selectBlock(b));
      g.addEventListener('dblclick', () => h.toggle(b.key));
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') h.selectBlock(b);
        if (e.key === '+' || e.key === ' ') h.toggle(b.key);
      });
      for (const id of u.nodes) byNode.set(id, g);
    } else if (u.merge) {
      g.classList.add('merge');
      g.setAttribute('data-node', String(n.id));
      el('rect', { width: u.w, height: H, rx: H / 2, class: `box ${family(n.attrs.kind)}` }, g);
      text(g, u.w / 2, 17, l1.text, 'title center', u.w - 12, measure);
      text(g, u.w / 2, 32, l2.text, 'sub center', u.w - 12, measure);
      el('title', {}, g).textContent = `${layerName(n)}: ${n.attrs.kind} → ${formatShape(info.shape)}`;
    } else {
      g.setAttribute('data-node', String(n.id));
      el('rect', { width: u.w, height: H, rx: 4, class: `box ${family(n.attrs.kind)}` }, g);
      el('rect', { width: 4, height: H, class: `stripe ${family(n.attrs.kind)}` }, g);
      text(g, PAD_L, 16, l1.text, 'title', u.w - PAD_L - PAD_R, measure);
      text(g, PAD_L, 32, l2.text, 'sub', u.w - PAD_L - PAD_R, measure);
      el('title', {}, g).textContent = `${layerName(n)}${n.path !== layerName(n) ? ` (${n.path})` : ''}: ${describe(n.attrs)} → ${formatShape(info.shape)}`;
    }
    if (!u.block) {
      byNode.set(n.id, g);
      g.addEventListener('click', () => h.selectNode(n.id));
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') h.selectNode(n.id);
      });
    }
  }

  return {
    svg,
    mark(highlight, selected) {
      const state = new Map<SVGGElement, { h: boolean; s: boolean }>();
      let first: Element | undefined;
      for (const [id, g] of byNode) {
        const st = state.get(g) ?? { h: false, s: false };
        st.h ||= highlight.has(id);
        st.s ||= id === selected;
        state.set(g, st);
        if (st.h && !first) first = g;
      }
      for (const [g, st] of state) {
        g.classList.toggle('highlight', st.h);
        g.classList.toggle('selected', st.s);
      }
      return first;
    },
  };
}
