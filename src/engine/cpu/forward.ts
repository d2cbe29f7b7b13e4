import type { ParamTensor } from '../../analysis/types';
import type { Graph } from '../../graph/types';
import { gatherLayerWeights } from '../params';
import type { Tensor } from '../tensor';
import { runLayerCpu } from './layers';

export interface ForwardOptions {
  /** 'all' keeps every node's output (for feature maps); 'output' (default) frees each once its last user has run. */
  keep?: 'all' | 'output';
  /** Called after each layer with its wall time, for `cnn bench`'s per-layer figures. */
  onLayer?: (node: number, ms: number) => void;
}

export interface ForwardResult {
  output: Tensor;
  /** Indexed by node id; only filled with keep='all'. */
  nodes?: Tensor[];
}

/** Index of the last node that reads each node's output; outputs of the graph live to the end. */
export function lastUses(graph: Graph): number[] {
  const last = graph.nodes.map((n) => n.id);
  for (const n of graph.nodes) for (const i of n.inputs) last[i] = Math.max(last[i], n.id);
  for (const o of [graph.output, ...graph.auxOutputs]) last[o] = graph.nodes.length;
  return last;
}

/** Runs the graph on the CPU reference, node by node in execution order. */
export function forwardCpu(
  graph: Graph,
  weights: ReadonlyMap<string, Float32Array>,
  paramNames: readonly ParamTensor[],
  input: Tensor,
  opts: ForwardOptions = {},
): ForwardResult {
  const keepAll = opts.keep === 'all';
  const byNode = gatherLayerWeights(paramNames, weights);
  const last = lastUses(graph);
  const values: (Tensor | undefined)[] = new Array(graph.nodes.length);
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((i) => {
      const t = values[i];
      if (!t) throw new Error(`node ${node.id} (${node.path}) reads node ${i}, which has no value`);
      return t;
    });
    const t0 = opts.onLayer ? performance.now() : 0;
    const out = node.attrs.kind === 'input' ? input : runLayerCpu(node.attrs, inputs, byNode.get(node.id));
    if (opts.onLayer && node.attrs.kind !== 'input') opts.onLayer(node.id, performance.now() - t0);
    values[node.id] = out;
    if (!keepAll) {
      // Layers like flatten and dropout share their input's data, so dropping a reference never frees live data.
      for (const i of node.inputs) if (last[i] === node.id) values[i] = undefined;
    }
  }
  const output = values[graph.output];
  if (!output) throw new Error('forwardCpu: the graph output was not computed');
  return keepAll ? { output, nodes: values as Tensor[] } : { output };
}
