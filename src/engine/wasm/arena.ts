/**
 * Where the fast CPU engine's buffers live in its one linear memory: fixed-size parts (weights,
 * descriptors, scratch) by a bump allocator, activations in an arena where buffers whose
 * lifetimes do not overlap share memory.
 */
import type { Graph } from '../../graph/types';
import type { ExecutionPlan, Place, Step } from '../plan';

export const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
export const MAX_BYTES = 65536 * PAGE;
export const align = (n: number, a = 64) => Math.ceil(n / a) * a;

/** A bump allocator over byte offsets; memory is made once all sizes are known. */
export class Layout {
  top: number;
  constructor(base: number) {
    this.top = align(base);
  }
  take(bytes: number): number {
    const at = this.top;
    this.top = align(at + Math.max(bytes, 4));
    return at;
  }
}

/** The nodes a step reads: its head's inputs and a fused residual's other operand. */
export function readsOf(graph: Graph, s: Step): number[] {
  const head = graph.nodes[s.head];
  const r = [...head.inputs];
  if (s.add) r.push(s.add.other);
  return r;
}

export interface Lifetimes {
  /** First and last step index each buffer (root) is used in; the input is live before step 0, outputs to the end. */
  def: Map<number, number>;
  lastUse: Map<number, number>;
}

export function lifetimes(graph: Graph, plan: ExecutionPlan, place: (id: number) => Place, inputNode: number): Lifetimes {
  const def = new Map<number, number>();
  const lastUse = new Map<number, number>();
  const touch = (root: number, at: number) => {
    if (!def.has(root) || at < def.get(root)!) def.set(root, at);
    if (!lastUse.has(root) || at > lastUse.get(root)!) lastUse.set(root, at);
  };
  touch(place(inputNode).root, -1);
  plan.steps.forEach((s, i) => {
    touch(place(s.tail).root, i);
    for (const id of readsOf(graph, s)) touch(place(id).root, i);
  });
  for (const o of [graph.output, ...graph.auxOutputs]) touch(place(o).root, Infinity);
  for (const r of plan.roots) if (!def.has(r)) touch(r, -1);
  return { def, lastUse };
}

/**
 * Activation buffers placed largest first at the lowest offset free over their lifetime (with
 * `shareNothing`, every buffer its own place: feature maps stay readable). Returns each root's
 * offset in the arena and the arena's size.
 */
export function placeActivations(roots: readonly number[], bytesOf: (root: number) => number, life: Lifetimes, shareNothing: boolean): { at: Map<number, number>; bytes: number } {
  const order = [...roots].sort((a, b) => bytesOf(b) - bytesOf(a) || a - b);
  const at = new Map<number, number>();
  const placed: { root: number; at: number; end: number }[] = [];
  for (const r of order) {
    const size = bytesOf(r);
    const overlapping = shareNothing
      ? placed.slice()
      : placed.filter((p) => !(life.lastUse.get(p.root)! < life.def.get(r)! || life.lastUse.get(r)! < life.def.get(p.root)!));
    let offset = 0;
    for (const p of overlapping.sort((a, b) => a.at - b.at)) {
      if (offset + size <= p.at) break;
      offset = Math.max(offset, p.end);
    }
    at.set(r, offset);
    placed.push({ root: r, at: offset, end: offset + size });
  }
  return { at, bytes: Math.max(0, ...placed.map((p) => p.end)) };
}
