/**
 * The network as an SVG graph: layers (or collapsed block instances) as boxes, laid out by
 * longest-path layering from the input, one row per layer, boxes in a row left to right in the
 * order of their parents; branches fan out and merges (add, concat) are drawn as round nodes.
 */
import type { NetworkAnalysis } from '../../src/analysis';
import { layerDef } from '../../src/layers';
import { type BlockInstance, describe, family, formatShape, layerName } from './model';

const NS = 'http://www.w3.org/2000/svg';
const W = 188;
const H = 40;
const MERGE_W = 64;
const GAP_X = 28;
const GAP_Y = 30;
const PAD = 16;

export interface GraphHandlers {
  selectNode(id: number): void;
  selectBlock(b: BlockInstance): void;
  toggle(key: string): void;
}

interface Unit {
  id: string;
  nodes: number[];
  block?: BlockInstance;
  /** The node whose output the unit shows (its last). */
  out: number;
  layer: number;
  x: number;
  w: number;
  parents: Unit[];
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
}

function text(parent: Element, x: number, y: number, s: string, cls: string, max = 30): SVGTextElement {
  const t = el('text', { x, y, class: cls }, parent);
  t.textContent = s.length > max ? `${s.slice(0, max - 1)}…` : s;
  if (s.length > max) el('title', {}, t).textContent = s;
  return t;
}

/** Lays out units: rows by longest path, x by the mean of the parents' centres, pushed right to keep boxes apart. */
function layout(units: Unit[]): { width: number; height: number; rows: number } {
  for (const u of units) u.layer = u.parents.length ? Math.max(...u.parents.map((p) => p.layer + 1)) : 0;
  const rows: Unit[][] = [];
  for (const u of units) (rows[u.layer] ??= []).push(u);
  let width = 0;
  for (const row of rows) {
    if (!row) continue;
    const want = new Map(row.map((u) => [u, u.parents.length ? u.parents.reduce((s, p) => s + p.x + p.w / 2, 0) / u.parents.length - u.w / 2 : 0]));
    row.sort((a, b) => want.get(a)! - want.get(b)! || a.out - b.out);
    let next = 0;
    for (const u of row) {
      u.x = Math.max(want.get(u)!, next);
      next = u.x + u.w + GAP_X;
      width = Math.max(width, u.x + u.w);
    }
  }
  return { width, height: rows.length * (H + GAP_Y) - GAP_Y, rows: rows.length };
}

export interface GraphView {
  svg: SVGSVGElement;
  /** Marks layers as highlighted (the cursor) and one as selected; returns the first highlighted box. */
  mark(highlight: ReadonlySet<number>, selected: number | undefined): Element | undefined;
}

export function renderGraph(net: NetworkAnalysis, blocks: BlockInstance[], collapsed: ReadonlySet<string>, h: GraphHandlers): GraphView {
  const nodes = net.graph.nodes;
  // Each node belongs to the outermost collapsed instance around it, or stands alone.
  const owner = new Map<number, BlockInstance>();
  for (const b of blocks) {
    if (!collapsed.has(b.key)) continue;
    for (const id of b.nodes) if (!owner.has(id)) owner.set(id, b);
  }
  const units: Unit[] = [];
  const unitOf = new Map<number, Unit>();
  for (const n of nodes) {
    const b = owner.get(n.id);
    let u = b ? unitOf.get(b.nodes[0]) : undefined;
    if (!u) {
      const merge = !b && layerDef(n.attrs).merge === true;
      u = { id: b ? `b:${b.key}` : `n:${n.id}`, nodes: [], block: b, out: n.id, layer: 0, x: 0, w: merge ? MERGE_W : W, parents: [] };
      units.push(u);
    }
    u.nodes.push(n.id);
    u.out = n.id;
    unitOf.set(n.id, u);
    for (const i of n.inputs) {
      const p = unitOf.get(i)!;
      if (p !== u && !u.parents.includes(p)) u.parents.push(p);
    }
  }
  const size = layout(units);
  const width = size.width + 2 * PAD + 60;
  const height = size.height + 2 * PAD;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'graph', role: 'img', 'aria-label': `${net.graph.network}: layer graph` });
  const edges = el('g', { class: 'edges' }, svg);
  const boxes = el('g', { class: 'nodes' }, svg);
  const X = (u: Unit) => PAD + u.x;
  const Y = (u: Unit) => PAD + u.layer * (H + GAP_Y);

  // Frames around expanded top-level instances, drawn first so that boxes sit on them.
  const frames = el('g', { class: 'frames' }, edges);
  for (const b of blocks) {
    if (b.depth !== 0 || collapsed.has(b.key)) continue;
    const us = [...new Set(b.nodes.map((id) => unitOf.get(id)!))];
    const x0 = Math.min(...us.map(X)) - 6;
    const x1 = Math.max(...us.map((u) => X(u) + u.w)) + 6;
    const y0 = Math.min(...us.map(Y)) - 6;
    const y1 = Math.max(...us.map((u) => Y(u) + H)) + 6;
    el('rect', { x: x0, y: y0, width: x1 - x0, height: y1 - y0, rx: 6, class: 'frame' }, frames);
    const tag = el('g', { class: 'frame-tag', 'data-block': b.key, tabindex: 0, role: 'button' }, frames);
    el('title', {}, tag).textContent = `${b.block} (${b.label}): click to collapse`;
    text(tag, x1 + 4, y0 + 12, `▾ ${b.block}`, 'frame-label', 14);
    tag.addEventListener('click', () => h.toggle(b.key));
  }

  for (const u of units) {
    for (const p of u.parents) {
      const x1 = X(p) + p.w / 2;
      const y1 = Y(p) + H;
      const x2 = X(u) + u.w / 2;
      const y2 = Y(u);
      const span = u.layer - p.layer;
      let d: string;
      if (span > 1 && Math.abs(x1 - x2) < 1) {
        // A skip connection down one column: bow out to the right of the boxes.
        const bow = Math.max(p.w, u.w) / 2 + 48;
        d = `M${x1},${y1} C${x1 + bow},${y1 + 20} ${x2 + bow},${y2 - 20} ${x2},${y2}`;
      } else {
        const my = (y1 + y2) / 2;
        d = `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`;
      }
      el('path', { d, class: span > 1 ? 'edge skip' : 'edge' }, edges);
    }
  }

  const byNode = new Map<number, SVGGElement>();
  for (const u of units) {
    const n = nodes[u.out];
    const info = net.layers[u.out];
    const g = el('g', { class: 'node', transform: `translate(${X(u)},${Y(u)})`, tabindex: 0, role: 'button', 'data-unit': u.id }, boxes);
    if (u.block) {
      const b = u.block;
      g.classList.add('block');
      g.setAttribute('data-block', b.key);
      el('rect', { width: u.w, height: H, rx: 5, class: 'box block' }, g);
      text(g, 8, 16, `▸ ${b.block}  ${b.label !== b.block ? b.label : ''}`, 'title', 28);
      text(g, 8, 32, `${u.nodes.length} layers → ${formatShape(info.shape)}`, 'sub', 30);
      el('title', {}, g).textContent = `${b.block} (${b.label}): ${u.nodes.length} layers; click to open its call, double-click or press + to expand`;
      g.addEventListener('click', () => h.selectBlock(b));
      g.addEventListener('dblclick', () => h.toggle(b.key));
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') h.selectBlock(b);
        if (e.key === '+' || e.key === ' ') h.toggle(b.key);
      });
      for (const id of u.nodes) byNode.set(id, g);
    } else if (u.w === MERGE_W) {
      g.classList.add('merge');
      g.setAttribute('data-node', String(n.id));
      el('rect', { width: u.w, height: H, rx: H / 2, class: `box ${family(n.attrs.kind)}` }, g);
      text(g, u.w / 2, 17, n.attrs.kind === 'add' ? '+' : 'concat', 'title center', 8);
      text(g, u.w / 2, 32, formatShape(info.shape), 'sub center', 12);
      el('title', {}, g).textContent = `${layerName(n)}: ${n.attrs.kind} → ${formatShape(info.shape)}`;
    } else {
      g.setAttribute('data-node', String(n.id));
      el('rect', { width: u.w, height: H, rx: 4, class: `box ${family(n.attrs.kind)}` }, g);
      el('rect', { width: 4, height: H, class: `stripe ${family(n.attrs.kind)}` }, g);
      text(g, 10, 16, describe(n.attrs), 'title', 27);
      text(g, 10, 32, `→ ${formatShape(info.shape)}${n.path && n.path !== 'input' ? `  ${n.path}` : ''}`, 'sub', 29);
      el('title', {}, g).textContent = `${layerName(n)}: ${describe(n.attrs)} → ${formatShape(info.shape)}`;
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
