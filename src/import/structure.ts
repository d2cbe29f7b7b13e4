/**
 * Stage 2: the layer graph as nested compositions. The graph is decomposed series-parallel: walking
 * back from the output, a layer follows the sequence before it, and a merge (add, concat) takes
 * its branches from its immediate dominator, the one value every path to it passes. A two-way sum
 * is a `residual` (an empty branch is the identity shortcut); more branches are `add { ... }`.
 * DenseNet's concatenations of a growing list (cat(x, a), cat(x, a, b), ...) are re-associated
 * first into a chain of two-way ones, cat(cat(x, a), b), which is series-parallel.
 */
import { ImportError } from './onnx-model';
import type { ImportLayer, LayerGraph } from './ops';

/** A merge: `residual` for a sum of two, else `add`, `concat` or `mul` with its branches. */
export type Stmt =
  | { t: 'layer'; id: number }
  | { t: 'residual'; id: number; body: Stmt[]; shortcut: Stmt[] }
  | { t: 'merge'; id: number; branches: Stmt[][] };

/** cat(x1..xk) with an earlier cat(x1..xj) becomes cat(that, x(j+1)..xk): the same channels in the same order. */
function reassociateConcats(layers: ImportLayer[]): void {
  const byInputs = new Map<string, number>();
  for (const l of layers) {
    if (l.attrs.kind !== 'concat') continue;
    for (let j = l.inputs.length - 1; j >= 2; j--) {
      const earlier = byInputs.get(l.inputs.slice(0, j).join(','));
      if (earlier !== undefined) {
        byInputs.set(l.inputs.join(','), l.id);
        l.inputs = [earlier, ...l.inputs.slice(j)];
        break;
      }
    }
    byInputs.set(l.inputs.join(','), l.id);
  }
}

/** Immediate dominators over a DAG whose ids are in topological order (Cooper, Harvey and Kennedy). */
function dominators(layers: ImportLayer[], live: boolean[]): number[] {
  const idom = new Array<number>(layers.length).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a > b) a = idom[a];
      while (b > a) b = idom[b];
    }
    return a;
  };
  for (const l of layers) {
    if (l.id === 0 || !live[l.id]) continue;
    let d = -1;
    for (const i of l.inputs) d = d === -1 ? i : intersect(d, i);
    idom[l.id] = d;
  }
  return idom;
}

function layerCount(stmts: Stmt[]): number {
  let n = 0;
  for (const s of stmts) n += s.t === 'layer' ? 1 : 1 + (s.t === 'residual' ? layerCount(s.body) + layerCount(s.shortcut) : s.branches.reduce((a, b) => a + layerCount(b), 0));
  return n;
}

/** The network body: statements from the input to the output (stage 2). */
export function recoverStructure(g: LayerGraph): Stmt[] {
  const { layers } = g;
  reassociateConcats(layers);
  const live = new Array<boolean>(layers.length).fill(false);
  const stack = [g.output];
  while (stack.length) {
    const id = stack.pop()!;
    if (live[id]) continue;
    live[id] = true;
    stack.push(...layers[id].inputs);
  }
  const idom = dominators(layers, live);
  const seen = new Array<number>(layers.length).fill(0);

  const notSeriesParallel = (l: ImportLayer): never => {
    const users = layers.filter((u) => live[u.id] && u.inputs.includes(l.id)).map((u) => u.origin);
    throw new ImportError(`${l.origin}: its output feeds ${users.join(' and ')} across a merge; only nested branches (series-parallel graphs) can be written as residual, add and concat`);
  };

  /** The statements that turn value `from` into value `to` (from dominates to). */
  const sequence = (from: number, to: number): Stmt[] => {
    const out: Stmt[] = [];
    let cur = to;
    while (cur !== from) {
      if (cur === 0) throw new ImportError(`${layers[to].origin}: its branches do not all start from one value`);
      const l = layers[cur];
      if (++seen[cur] > 1) notSeriesParallel(l);
      if (l.inputs.length === 1) {
        out.push({ t: 'layer', id: cur });
        cur = l.inputs[0];
        continue;
      }
      const f = idom[cur];
      const branches = l.inputs.map((i) => sequence(f, i));
      if (l.attrs.kind === 'add' && branches.length === 2) {
        // The longer path is the body, the other the shortcut (empty: the identity).
        const [a, b] = branches;
        const bodyFirst = layerCount(a) >= layerCount(b);
        out.push({ t: 'residual', id: cur, body: bodyFirst ? a : b, shortcut: bodyFirst ? b : a });
      } else out.push({ t: 'merge', id: cur, branches });
      cur = f;
    }
    return out.reverse();
  };
  const body = sequence(0, g.output);
  for (const l of layers) if (live[l.id] && l.id !== 0 && seen[l.id] === 0) notSeriesParallel(l);
  return body;
}
