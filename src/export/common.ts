/** What both exporters share: their error type and the network facts they read. */
import type { NetworkAnalysis, ParamTensor, TensorRole } from '../analysis';

/** A network the exporter cannot write, or weights that do not fit it: always one line. */
export class ExportError extends Error {}

/** Every node's output shape (without the batch); the exporters need them all known. */
export function knownShapes(net: NetworkAnalysis): number[][] {
  return net.layers.map((l, i) => {
    if (!l.shape) throw new ExportError(`the shape of '${net.graph.nodes[i].path}' is not known; fix the network's errors first (cnn check)`);
    return l.shape;
  });
}

/** The tensors of each node, by role. */
export function tensorsByNode(net: NetworkAnalysis): Map<number, Partial<Record<TensorRole, ParamTensor>>> {
  const out = new Map<number, Partial<Record<TensorRole, ParamTensor>>>();
  for (const t of net.tensors) {
    let m = out.get(t.node);
    if (!m) out.set(t.node, (m = {}));
    m[t.role] = t;
  }
  return out;
}
