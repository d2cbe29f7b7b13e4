/** The analysis as the panel shows it: layer descriptions, block instances, stages, formatting. */
import type { LayerInfo, NetworkAnalysis } from '../../src/analysis';
import { formatShape } from '../../src/analysis/layer-math';
import { displayNames } from '../../src/analysis/display-names';
import { bytes, grouped, metric } from '../../src/analysis/format';
import type { CallSite, GraphNode } from '../../src/graph/types';
import { defOfKind, describeLayer, givesProbabilities, layerDef, type LayerAttrs, type LayerKind } from '../../src/layers';
import { ratioText } from '../../src/layers/ratio';
import type { Range } from '../../src/language/range';

export { bytes, formatShape, grouped, metric };

/** The layer as one would write it, short: `conv 64 k11 s4 p2`. */
export function describe(a: LayerAttrs): string {
  return describeLayer(a);
}

/** A CSS class per family of layer, for colours. */
export function family(kind: LayerKind): string {
  return defOfKind(kind).family;
}

const names = new WeakMap<GraphNode, string>();

/** Names the graph's layers for `layerName` (src/analysis/display-names.ts: `layer1.0 › conv 2`). */
export function nameNodes(nodes: readonly GraphNode[]): void {
  if (nodes.length && names.has(nodes[nodes.length - 1])) return;
  displayNames(nodes).forEach((name, i) => names.set(nodes[i], name));
}

/** The layer's name everywhere in the panel; its path (the parameter names' prefix) until `nameNodes` ran. */
export function layerName(n: GraphNode): string {
  return names.get(n) ?? (n.path || n.attrs.kind);
}

export function rfText(info: LayerInfo): string {
  if (!info.rf) return '—';
  const s = info.rf.size[0] === info.rf.size[1] ? `${info.rf.size[0]}` : `${info.rf.size[0]}x${info.rf.size[1]}`;
  const j = info.rf.stride[0] === info.rf.stride[1] ? ratioText(info.rf.stride[0]) : `${ratioText(info.rf.stride[0])}x${ratioText(info.rf.stride[1])}`;
  return `${s} / ${j}`;
}

/** One expansion of a block call: its layers are contiguous in execution order. */
export interface BlockInstance {
  /** Stable across edits: the block's name and its layers' common path. */
  key: string;
  block: string;
  /** 0 for a call in the network body, 1 for a call inside that block, ... */
  depth: number;
  /** Node ids, in execution order. */
  nodes: number[];
  call: Range;
  /** The common path of its layers (`layer1.0`), or the block name. */
  label: string;
}

function commonPath(paths: string[]): string {
  if (!paths.length) return '';
  let parts = paths[0].split('.');
  for (const p of paths.slice(1)) {
    const q = p.split('.');
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join('.');
}

/** Every block instance of the graph, outer ones first. Instances are told apart by their call-site objects, which expansion makes once per call. */
export function blockInstances(nodes: readonly GraphNode[]): BlockInstance[] {
  const byCall = new Map<CallSite, { depth: number; nodes: number[] }>();
  for (const n of nodes) {
    n.calls.forEach((c, depth) => {
      let g = byCall.get(c);
      if (!g) byCall.set(c, (g = { depth, nodes: [] }));
      g.nodes.push(n.id);
    });
  }
  const seen = new Map<string, number>();
  const out: BlockInstance[] = [];
  for (const [call, g] of byCall) {
    const prefix = commonPath(g.nodes.map((id) => nodes[id].path).filter((p) => p && p !== 'input'));
    let key = `${call.block}@${prefix || g.nodes[0]}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    if (k) key += `#${k}`;
    out.push({ key, block: call.block, depth: g.depth, nodes: g.nodes, call: call.range, label: prefix || call.block });
  }
  return out.sort((a, b) => a.depth - b.depth || a.nodes[0] - b.nodes[0]);
}

/** The stage a layer belongs to, for charts of big networks: the first part of its path. */
export function stageOf(n: GraphNode): string {
  const p = n.path.split('.')[0];
  return /^\d+$/.test(p) || !p ? 'body' : p;
}

/** Softmax of the output unless it already is a probability vector (the network ends in softmax). */
export function probabilities(net: NetworkAnalysis, out: Float32Array): Float32Array {
  const last = net.graph.nodes[net.graph.output];
  if (givesProbabilities(last.attrs)) return out;
  let m = -Infinity;
  for (const v of out) m = Math.max(m, v);
  const e = new Float32Array(out.length);
  let s = 0;
  for (let i = 0; i < out.length; i++) s += e[i] = Math.exp(out[i] - m);
  for (let i = 0; i < out.length; i++) e[i] /= s;
  return e;
}

export function topK(p: Float32Array, k: number): { index: number; p: number }[] {
  return Array.from(p, (v, index) => ({ index, p: v }))
    .sort((a, b) => b.p - a.p || a.index - b.index)
    .slice(0, k);
}

/** Node whose statement holds the position: the innermost, with layers before merges. */
export function nodesAt(nodes: readonly GraphNode[], line: number, character: number): number[] {
  const inside = (r: Range) =>
    (r.start.line < line || (r.start.line === line && r.start.character <= character)) && (line < r.end.line || (line === r.end.line && character <= r.end.character));
  const size = (r: Range) => r.end.offset - r.start.offset;
  let best = Infinity;
  let hits: number[] = [];
  for (const n of nodes) {
    const r = layerDef(n.attrs).merge ? n.nameRange : n.range;
    let s = inside(r) ? size(r) : Infinity;
    // A cursor on a block call lights the layers it makes.
    for (const c of n.calls) if (inside(c.range)) s = Math.min(s, size(c.range) + 0.5);
    if (s < best) {
      best = s;
      hits = [n.id];
    } else if (s === best && s !== Infinity) hits.push(n.id);
  }
  return hits;
}
