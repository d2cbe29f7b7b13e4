import type { Graph } from '../graph/types';
import { layerDef, type FusionTraits } from '../layers';

/**
 * One GPU step: a head layer and the layers fused into its kernel. The step runs at the tail's
 * position in execution order, when every input of every member is ready, and its result is the
 * tail's output; the other members have no output of their own.
 */
export interface Step {
  head: number;
  tail: number;
  /** A bn folded into the head conv or linear at load. */
  bn?: number;
  /** A conv's residual add: the add node and the add's other input. */
  add?: { node: number; other: number };
  /** A pointwise activation applied in the epilogue. */
  act?: number;
}

/** Where a node's output lives: in the buffer owned by `root`, from channel `channelOffset` on. */
export interface Place {
  root: number;
  channelOffset: number;
}

export interface ExecutionPlan {
  steps: Step[];
  /** Per node; null for a node fused into a step whose output is another node's. */
  places: (Place | null)[];
  /** Nodes that own a buffer, in node order. */
  roots: number[];
}

const NONE: FusionTraits = {};

/** How the plan may fuse a node: its kind's traits (src/layers). */
export function fusionOf(graph: Graph, id: number): FusionTraits {
  return layerDef(graph.nodes[id].attrs).fusion ?? NONE;
}

/** Layers that only reinterpret their input's buffer: NCHW flatten is a reshape, dropout the identity. */
export function isAlias(graph: Graph, id: number): boolean {
  return fusionOf(graph, id).alias === true;
}

export interface PlanOptions {
  /** Fuse bn, residual adds and activations into their producers (default true). Off keeps every node's output readable. */
  fuse?: boolean;
  /** Let producers write straight into a concat's buffer (default true); else the concat copies. */
  concatInPlace?: boolean;
}

export function planExecution(graph: Graph, shapes: readonly number[][], opts: PlanOptions = {}): ExecutionPlan {
  const fuse = opts.fuse ?? true;
  const inPlace = opts.concatInPlace ?? true;
  const n = graph.nodes.length;
  const users: number[][] = graph.nodes.map(() => []);
  for (const node of graph.nodes) for (const i of node.inputs) users[i].push(node.id);
  const outputs = new Set([graph.output, ...graph.auxOutputs]);
  const traits = (id: number) => fusionOf(graph, id);
  const isInput = (id: number) => graph.nodes[id].inputs.length === 0;
  const absorbed = new Set<number>();
  /**
   * The one user of `id`, when its output feeds nothing else, is not a network output and is not
   * fused yet: a residual add whose both inputs are conv (+ bn) steps joins only the first of them.
   */
  const soleUser = (id: number): number | undefined =>
    fuse && users[id].length === 1 && !outputs.has(id) && !absorbed.has(users[id][0]) ? users[id][0] : undefined;

  const steps: Step[] = [];
  for (const node of graph.nodes) {
    const own = traits(node.id);
    if (absorbed.has(node.id) || isInput(node.id) || own.alias) continue;
    const step: Step = { head: node.id, tail: node.id };
    let next = soleUser(step.tail);
    if (own.foldsBatchNorm && next !== undefined && traits(next).affine) {
      step.bn = step.tail = next;
      next = soleUser(step.tail);
    }
    if (own.takesResidual && next !== undefined && traits(next).sums && graph.nodes[next].inputs.length === 2) {
      const [a, b] = graph.nodes[next].inputs;
      if (a !== b) {
        step.add = { node: next, other: a === step.tail ? b : a };
        step.tail = next;
        next = soleUser(step.tail);
      }
    }
    if (own.takesActivation && next !== undefined && traits(next).activation) {
      step.act = step.tail = next;
    }
    for (const m of [step.bn, step.add?.node, step.act]) if (m !== undefined) absorbed.add(m);
    steps.push(step);
  }
  // Steps run at their tail's position: sort by it (heads alone would already be a valid order, tails keep reads after writes obvious).
  steps.sort((a, b) => a.tail - b.tail);

  const places: (Place | null)[] = new Array(n).fill(null);
  const producesOwnOutput = new Set(steps.map((s) => s.tail));
  for (const node of graph.nodes) if (isInput(node.id)) producesOwnOutput.add(node.id);
  for (const id of producesOwnOutput) places[id] = { root: id, channelOffset: 0 };

  // Outer concats first, so a concat nested in another passes its place on to its own inputs.
  if (inPlace) {
    for (let id = n - 1; id >= 0; id--) {
      const node = graph.nodes[id];
      if (!traits(id).concatenates) continue;
      const here = places[id]!;
      let offset = 0;
      for (const i of node.inputs) {
        const direct = users[i].length === 1 && !outputs.has(i) && producesOwnOutput.has(i) && !isInput(i);
        if (direct) places[i] = { root: here.root, channelOffset: here.channelOffset + offset };
        offset += shapes[i][0];
      }
    }
  }
  for (const node of graph.nodes) if (traits(node.id).alias) places[node.id] = places[node.inputs[0]];

  const roots = [...new Set(places.filter((p): p is Place => p !== null).map((p) => p.root))].sort((a, b) => a - b);
  return { steps, places, roots };
}
