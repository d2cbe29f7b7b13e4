/**
 * The tensor list in PyTorch's state_dict order. A module lists its own parameters, then its
 * buffers, then each child module in the order it was first registered. Every layer but the
 * input and the merges is a module at its path (the PyTorch export registers them in execution
 * order, each prefix a container made when first needed); a tensor belongs to the module its
 * name without the last segment names. Where every tensor belongs to its own layer this is
 * execution order, since a scope's statements are consecutive (labels are unique in a sequence):
 * only a bare parameter of an enclosing module (`scale`) moves ahead of that module's children.
 * See docs/naming.md.
 */
import type { Graph } from '../graph/types';
import { layerDef } from '../layers';
import type { ParamTensor } from './types';

interface Module {
  params: ParamTensor[];
  buffers: ParamTensor[];
  children: Map<string, Module>;
}

const newModule = (): Module => ({ params: [], buffers: [], children: new Map() });

/** The tensors of `byNode` (per node, in each layer's own order) in state_dict order. */
export function stateDictOrder(graph: Graph, byNode: ReadonlyMap<number, ParamTensor[]>): ParamTensor[] {
  const root = newModule();
  const moduleAt = (path: string): Module => {
    let m = root;
    if (path === '') return m;
    for (const seg of path.split('.')) {
      let child = m.children.get(seg);
      if (!child) m.children.set(seg, (child = newModule()));
      m = child;
    }
    return m;
  };
  for (const node of graph.nodes) {
    const def = layerDef(node.attrs);
    if (def.merge || node.attrs.kind === 'input') continue;
    const path = node.path;
    const own = def.namedByPath ? path.slice(0, Math.max(0, path.lastIndexOf('.'))) : path;
    const m = moduleAt(own);
    for (const t of byNode.get(node.id) ?? []) (t.kind === 'param' ? m.params : m.buffers).push(t);
  }
  const out: ParamTensor[] = [];
  const walk = (m: Module): void => {
    for (const t of m.params) out.push(t);
    for (const t of m.buffers) out.push(t);
    for (const c of m.children.values()) walk(c);
  };
  walk(root);
  return out;
}
