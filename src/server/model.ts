/**
 * The document model the server answers from: the foundation's analysis of one text, plus
 * indexes that map source statements to the layers they expand to. No analysis happens here;
 * everything is a lookup over `analyzeText`'s graphs and `LayerInfo`s.
 */
import { analyzeText, type FileAnalysis, type LayerInfo, type NetworkAnalysis } from '../analysis';
import type { DType } from '../analysis/types';
import type * as A from '../language/ast';
import type { Range } from '../language/range';
import type { CallSite, GraphNode } from '../graph/types';
import { layerSpec } from '../graph/layers';

export type StatementLike = A.Statement;

/** A statement (or a definition, as the root of its statements) with its place in the tree. */
export interface Entry {
  id: number;
  def: A.Definition;
  /** Undefined for the definition's own entry. */
  stmt?: StatementLike;
  parent?: Entry;
  range: Range;
  /** Expansions of this statement, keyed by network and call chain, in execution order. */
  instances: Map<string, Instance>;
}

/** One expansion of a statement: at network level one per network, in a block one per call. */
export interface Instance {
  network: number;
  /** The call chain into the statement's definition (empty at network level). */
  calls: CallSite[];
  /** Every layer the statement expanded to here, in execution order. */
  nodes: number[];
  /** Layers the statement itself produced (a layer statement: its layer, once per repeat). */
  own: number[];
}

export interface Resolved {
  net: NetworkAnalysis;
  node: GraphNode;
  info: LayerInfo;
}

function key(r: Range): string {
  return `${r.start.offset}:${r.end.offset}`;
}

/** Child statements of a statement, in source order (`else if` chains included). */
export function childStatements(s: A.Statement): A.Statement[] {
  switch (s.kind) {
    case 'call':
      return [];
    case 'repeat':
    case 'aux':
    case 'group':
      return s.body.statements;
    case 'residual':
      return [...s.body.statements, ...(s.shortcut?.body.statements ?? [])];
    case 'add':
    case 'concat':
      return s.branches.flatMap((b) => b.body.statements);
    case 'if': {
      const out = [...s.then.statements];
      const alt = s.else?.body;
      if (alt) {
        if ('kind' in alt) out.push(alt);
        else out.push(...alt.statements);
      }
      return out;
    }
  }
}

export function isLayerCall(s: A.Statement): s is A.CallStatement {
  return s.kind === 'call' && layerSpec(s.keyword.text) !== undefined;
}

export function isBlockCall(s: A.Statement): s is A.CallStatement {
  return s.kind === 'call' && layerSpec(s.keyword.text) === undefined;
}

export class DocModel {
  readonly entries: Entry[] = [];
  readonly defEntries = new Map<A.Definition, Entry>();
  readonly blocks = new Map<string, A.BlockDef>();
  private readonly byRange = new Map<string, Entry>();

  constructor(
    readonly text: string,
    readonly version: number,
    readonly analysis: FileAnalysis,
  ) {
    for (const def of analysis.parsed.file.definitions) {
      if (def.kind === 'block' && def.name.text && !this.blocks.has(def.name.text)) this.blocks.set(def.name.text, def);
      const root = this.add({ def, range: def.range });
      this.defEntries.set(def, root);
      const walk = (stmts: readonly A.Statement[], parent: Entry) => {
        for (const s of stmts) {
          const e = this.add({ def, stmt: s, parent, range: s.range });
          walk(childStatements(s), e);
        }
      };
      walk(def.body.statements, root);
    }
    this.attribute();
  }

  get file(): A.CnnFile {
    return this.analysis.parsed.file;
  }

  private add(e: Omit<Entry, 'id' | 'instances'>): Entry {
    const entry: Entry = { ...e, id: this.entries.length, instances: new Map() };
    this.entries.push(entry);
    // A definition and its only statement can share no range (the definition starts earlier).
    if (e.stmt && !this.byRange.has(key(e.range))) this.byRange.set(key(e.range), entry);
    return entry;
  }

  entryAt(r: Range): Entry | undefined {
    return this.byRange.get(key(r));
  }

  /** Maps every layer of every network back to the statements (and call sites) that made it. */
  private attribute(): void {
    const defOfBlock = (name: string) => {
      const b = this.blocks.get(name);
      return b ? this.defEntries.get(b) : undefined;
    };
    const ids = new WeakMap<CallSite, number>();
    const callId = (c: CallSite) => {
      let id = ids.get(c);
      if (id === undefined) ids.set(c, (id = ids_n++));
      return id;
    };
    let ids_n = 0;
    this.analysis.networks.forEach((net, ni) => {
      const netDef = this.file.definitions.find((d) => d.kind === 'network' && d.range.start.offset === net.graph.range.start.offset);
      const netEntry = netDef ? this.defEntries.get(netDef) : undefined;
      for (const node of net.graph.nodes) {
        const levels = [...node.calls.map((c) => c.range), node.range];
        let instKey = `n${ni}`;
        for (let i = 0; i < levels.length; i++) {
          // Each expansion of a call makes a new CallSite object: a call in a `repeat` is N instances.
          if (i > 0) instKey += `|${callId(node.calls[i - 1])}`;
          const root = i === 0 ? netEntry : defOfBlock(node.calls[i - 1].block);
          const deepest = i === levels.length - 1;
          let e = this.entryAt(levels[i]);
          if (!e || e.def !== root?.def) e = root;
          let first = true;
          for (; e; e = e.parent) {
            let inst = e.instances.get(instKey);
            if (!inst) {
              inst = { network: ni, calls: node.calls.slice(0, i), nodes: [], own: [] };
              e.instances.set(instKey, inst);
            }
            inst.nodes.push(node.id);
            if (first && deepest && e.stmt) inst.own.push(node.id);
            first = false;
          }
        }
      }
    });
  }

  firstInstance(e: Entry): Instance | undefined {
    for (const i of e.instances.values()) return i;
    return undefined;
  }

  resolve(network: number, node: number): Resolved {
    const net = this.analysis.networks[network];
    return { net, node: net.graph.nodes[node], info: net.layers[node] };
  }

  /** The instance's result: its last layer on the main flow (or on the aux branch for `aux`). */
  outputOf(e: Entry, inst: Instance): number | undefined {
    const net = this.analysis.networks[inst.network];
    if (e.stmt?.kind === 'aux') return inst.nodes[inst.nodes.length - 1];
    for (let i = inst.nodes.length - 1; i >= 0; i--) if (!net.graph.nodes[inst.nodes[i]].aux) return inst.nodes[i];
    // Inside an aux branch everything is aux: the last layer is the result.
    return inst.nodes[inst.nodes.length - 1];
  }

  totals(inst: Instance): { params: number; buffers: number; macs: number; ops: number; bytes: number; layers: number } {
    const net = this.analysis.networks[inst.network];
    let params = 0;
    let buffers = 0;
    let macs = 0;
    let ops = 0;
    let bytes = 0;
    for (const id of inst.nodes) {
      const l = net.layers[id];
      params += l.params;
      buffers += l.buffers;
      macs += l.macs;
      ops += l.ops;
      bytes += l.activationBytes;
    }
    return { params, buffers, macs, ops, bytes, layers: inst.nodes.length };
  }

  /** The innermost entry whose range holds the offset (statements before their definition). */
  innermostAt(offset: number): Entry | undefined {
    let best: Entry | undefined;
    for (const def of this.file.definitions) {
      if (offset < def.range.start.offset || offset > def.range.end.offset) continue;
      let e = this.defEntries.get(def);
      best = e;
      let stmts = def.body.statements;
      for (;;) {
        const s = stmts.find((x) => x.range.start.offset <= offset && offset <= x.range.end.offset);
        if (!s) break;
        e = this.entryAt(s.range);
        if (!e) break;
        best = e;
        stmts = childStatements(s);
      }
      break;
    }
    return best;
  }

  definitionAt(offset: number): A.Definition | undefined {
    return this.file.definitions.find((d) => d.range.start.offset <= offset && offset <= d.range.end.offset);
  }
}

export interface ModelOptions {
  dtype?: DType;
}

export function buildModel(text: string, version: number, options: ModelOptions = {}): DocModel {
  const analysis = analyzeText(text, { dtype: options.dtype });
  return new DocModel(text, version, analysis);
}
