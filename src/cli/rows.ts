/**
 * Block-level rows for `cnn analyze --depth N`, as torchinfo's depth: the layers whose path has
 * more than N parts are summed into the row of their first N parts (a block call, a labelled
 * group, a branch), which takes the output shape of its last layer. Paths name the scopes
 * (docs/naming.md), so grouping by path prefix gives exactly the nesting a reader sees.
 */
import type { NetworkAnalysis, ReceptiveField, Shape } from '../analysis';
import type { CallSite } from '../graph/types';

export interface DepthRow {
  path: string;
  /** The layer's kind; for a group, the block's name when it is one block call, else `group`. */
  kind: string;
  /** Set on a row that sums one block call's layers. */
  block?: string;
  /** Parts in the path: 1 for a network-level statement. */
  depth: number;
  /** 1-based line of the layer; for a group, of the block call or the first call written inside it, else of its first layer. */
  line: number;
  /** How many layers the row sums (1 for a layer). */
  layers: number;
  /** The output shape of the row's last layer in execution order. */
  output: Shape | null;
  params: number;
  buffers: number;
  macs: number;
  elementwiseOps: number;
  activationBytes: number;
  /** Only on single-layer rows. */
  rf?: ReceptiveField | null;
}

function parts(path: string): string[] {
  return path === '' ? [''] : path.split('.');
}

export function depthRows(net: NetworkAnalysis, maxDepth: number): DepthRow[] {
  const nodes = net.graph.nodes;
  // Each call site object stands for one call (expansion makes one per call), shared by every layer it produced.
  const callNodes = new Map<CallSite, number[]>();
  for (const n of nodes) for (const c of n.calls) (callNodes.get(c) ?? callNodes.set(c, []).get(c)!).push(n.id);

  const rows = new Map<string, DepthRow & { ids: number[] }>();
  for (const l of net.layers) {
    const node = nodes[l.node];
    const p = parts(node.path);
    const key = p.slice(0, maxDepth).join('.');
    let row = rows.get(key);
    if (!row) {
      row = { path: key, kind: node.attrs.kind, depth: Math.min(p.length, maxDepth), line: node.range.start.line + 1, layers: 0, output: null, params: 0, buffers: 0, macs: 0, elementwiseOps: 0, activationBytes: 0, ids: [] };
      rows.set(key, row);
    }
    row.ids.push(node.id);
    row.layers++;
    row.output = l.shape;
    row.params += l.params;
    row.buffers += l.buffers;
    row.macs += l.macs;
    row.elementwiseOps += l.ops;
    row.activationBytes += l.activationBytes;
  }

  const out: DepthRow[] = [];
  for (const { ids, ...row } of rows.values()) {
    const first = nodes[ids[0]];
    if (ids.length === 1 && first.path === row.path) {
      out.push({ ...row, rf: net.layers[ids[0]].rf });
      continue;
    }
    row.kind = 'group';
    // The calls that produced more than the group enclose it; the next one down was written inside the group's statement.
    const inGroup = new Set(ids);
    const produced = (c: CallSite) => callNodes.get(c)!;
    let enclosing = -1;
    first.calls.forEach((c, i) => {
      if (produced(c).length > ids.length && ids.every((id) => produced(c).includes(id))) enclosing = i;
    });
    const inner = first.calls[enclosing + 1];
    if (inner) {
      row.line = inner.range.start.line + 1;
      // The group is one block call when that call produced exactly its layers.
      if (produced(inner).length === ids.length && produced(inner).every((id) => inGroup.has(id))) {
        row.kind = inner.block;
        row.block = inner.block;
      }
    }
    out.push(row);
  }
  return out;
}
