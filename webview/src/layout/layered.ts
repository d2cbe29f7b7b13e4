/**
 * The graph's layout: a layered (Sugiyama) drawing by dagre (@dagrejs/dagre): ranks from the
 * input down by network simplex, crossings reduced by layer sweeps, block instances as compound
 * nodes (clusters) around their layers, and each edge routed through the ranks it spans as a
 * polyline between the boxes. Plain data in and out, so that it runs in the layout worker
 * (worker.ts) as well as on the page. docs/webview.md says why dagre and not elkjs.
 */
import dagre from '@dagrejs/dagre';

export interface LayoutBox {
  id: string;
  w: number;
  h: number;
  /** The cluster it sits in. */
  parent?: string;
}

export interface LayoutCluster {
  id: string;
  parent?: string;
}

export interface LayoutInput {
  nodes: LayoutBox[];
  clusters: LayoutCluster[];
  edges: { from: string; to: string }[];
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LayoutOutput {
  /** Top-left corners and sizes, by id. */
  nodes: Record<string, Rect>;
  clusters: Record<string, Rect>;
  /** In the order of the input's edges: the routed polyline, from the source's border to the target's. */
  edges: { from: string; to: string; points: [number, number][] }[];
  width: number;
  height: number;
  /** Time the layout took. */
  ms: number;
}

export const RANK_SEP = 30;
export const NODE_SEP = 22;
const MARGIN = 12;

export function layered(input: LayoutInput): LayoutOutput {
  const t0 = performance.now();
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: NODE_SEP, ranksep: RANK_SEP, edgesep: 10, marginx: MARGIN, marginy: MARGIN, ranker: 'network-simplex' });
  g.setDefaultEdgeLabel(() => ({}));
  for (const c of input.clusters) g.setNode(c.id, {});
  for (const c of input.clusters) if (c.parent) g.setParent(c.id, c.parent);
  for (const n of input.nodes) {
    g.setNode(n.id, { width: n.w, height: n.h });
    if (n.parent) g.setParent(n.id, n.parent);
  }
  for (const e of input.edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const nodes: Record<string, Rect> = {};
  const clusters: Record<string, Rect> = {};
  let width = 0;
  let height = 0;
  const put = (into: Record<string, Rect>, id: string) => {
    const v = g.node(id) as { x: number; y: number; width: number; height: number };
    const r = { x: v.x - v.width / 2, y: v.y - v.height / 2, w: v.width, h: v.height };
    into[id] = r;
    width = Math.max(width, r.x + r.w + MARGIN);
    height = Math.max(height, r.y + r.h + MARGIN);
  };
  for (const n of input.nodes) put(nodes, n.id);
  for (const c of input.clusters) put(clusters, c.id);
  const edges = input.edges.map((e) => ({ ...e, points: ((g.edge(e.from, e.to) as { points?: { x: number; y: number }[] }).points ?? []).map((p) => [p.x, p.y] as [number, number]) }));
  return { nodes, clusters, edges, width, height, ms: performance.now() - t0 };
}
