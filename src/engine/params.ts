import type { ParamTensor, TensorRole } from '../analysis/types';
import type { GraphNode } from '../graph/types';
import { numel } from './tensor';

/** One layer's tensors, by role. */
export type LayerWeights = Partial<Record<TensorRole, Float32Array>>;

/**
 * Groups the named tensors by the node that owns them, checking each against its declared
 * shape, so that a wrong or missing file fails here with the tensor's name rather than deep
 * inside a kernel.
 */
export function gatherLayerWeights(paramNames: readonly ParamTensor[], weights: ReadonlyMap<string, Float32Array>): Map<number, LayerWeights> {
  const byNode = new Map<number, LayerWeights>();
  for (const p of paramNames) {
    const data = weights.get(p.name);
    if (!data) throw new Error(`missing weight tensor '${p.name}' [${p.shape.join(', ')}]`);
    if (data.length !== numel(p.shape)) {
      throw new Error(`weight tensor '${p.name}' has ${data.length} values, expected [${p.shape.join(', ')}] = ${numel(p.shape)}`);
    }
    let lw = byNode.get(p.node);
    if (!lw) byNode.set(p.node, (lw = {}));
    lw[p.role] = data;
  }
  return byNode;
}

/** A layer's tensor of `role`; its absence is a one-line error naming the layer. */
export function needWeight(w: LayerWeights | undefined, role: keyof LayerWeights, node: GraphNode): Float32Array {
  const t = w?.[role];
  if (!t) throw new Error(`${node.path} (${node.attrs.kind}): missing ${role}`);
  return t;
}

/** A batch norm's four tensors and epsilon, as the folding helpers take them. */
export function bnParams(w: LayerWeights | undefined, node: GraphNode) {
  const eps = (node.attrs as { eps?: number }).eps;
  if (eps === undefined) throw new Error(`internal: ${node.path} (${node.attrs.kind}) is not a batch norm`);
  return {
    weight: needWeight(w, 'weight', node),
    bias: needWeight(w, 'bias', node),
    runningMean: needWeight(w, 'running_mean', node),
    runningVar: needWeight(w, 'running_var', node),
    eps,
  };
}
