/**
 * The document model the server answers from: the foundation's analysis of one text, plus
 * indexes that map source statements to the layers they expand to. No analysis happens here;
 * everything is a lookup over `analyzeText`'s graphs and `LayerInfo`s.
 */
import { analyzeText, type ExpansionCache, type FileAnalysis, type LayerInfo, type NetworkAnalysis } from '../analysis';
import type { DType } from '../analysis/types';
import type * as A from '../language/ast';
import type { IncrementalParser } from '../language';
import { LineIndex, type Range } from '../language/range';
import type { CallSite, GraphNode } from '../graph/types';
import { layerSpec } from '../layers';

export type StatementLike = A.Statement;

/** A statement (or a definition, as the root of its statements) with its place in the tree. */
export interface Entry {
  id: number;
  def: A.Definition;
  /** Undefined for the definition's own entry. */
  stmt?: StatementLike;
  parent?: Entry;
  range: Range;
  /** Expansions of this statement (one per network and call chain), in execution order. */
  instances: Instance[];
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

/** Shared by every entry until its first instance: never pushed to. */
const NO_INSTANCES: Instance[] = Object.freeze([]) as unknown as Instance[];
const NO_CALLS: CallSite[] = Object.freeze([]) as unknown as CallSite[];

export { childStatements } from '../language/ast';
import { childStatements } from '../language/ast';

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
  /** Statement entries by their start offset; the rare second statement at an offset in `sameStart`. */
  private readonly byStart = new Map<number, Entry>();
  private readonly sameStart = new Map<string, Entry>();

  /** Set when the analysis threw (see `failedModel`): why there is nothing to show. */
  failure?: string;
  private ends?: { first: Int32Array; ids: Int32Array };

  constructor(
    readonly text: string,
    readonly version: number,
    readonly analysis: FileAnalysis,
  ) {
    for (const def of analysis.parsed.file.definitions) {
      if (def.kind === 'block' && def.name.text && !this.blocks.has(def.name.text)) this.blocks.set(def.name.text, def);
      const root = this.add(def, undefined, undefined, def.range);
      this.defEntries.set(def, root);
      this.walk(def, def.body.statements, root);
    }
    this.attribute();
  }

  private walk(def: A.Definition, stmts: readonly A.Statement[], parent: Entry): void {
    for (const s of stmts) {
      const e = this.add(def, s, parent, s.range);
      if (s.kind !== 'call') this.walk(def, childStatements(s), e);
    }
  }

  get file(): A.CnnFile {
    return this.analysis.parsed.file;
  }

  private add(def: A.Definition, stmt: StatementLike | undefined, parent: Entry | undefined, range: Range): Entry {
    const entry: Entry = { id: this.entries.length, def, stmt, parent, range, instances: NO_INSTANCES };
    this.entries.push(entry);
    // A definition and its only statement can share no range (the definition starts earlier).
    if (stmt && !this.entryAt(range)) {
      if (this.byStart.has(range.start.offset)) this.sameStart.set(`${range.start.offset}:${range.end.offset}`, entry);
      else this.byStart.set(range.start.offset, entry);
    }
    return entry;
  }

  entryAt(r: Range): Entry | undefined {
    const e = this.byStart.get(r.start.offset);
    if (!e || e.range.end.offset === r.end.offset) return e;
    return this.sameStart.size ? this.sameStart.get(`${r.start.offset}:${r.end.offset}`) : undefined;
  }

  /**
   * Maps every layer of every network back to the statements (and call sites) that made it.
   * An instance is one (network, call chain) of an entry; the last call site of the chain
   * identifies it, as each expansion of a call makes a new CallSite. Expansion is depth-first,
   * so an entry never returns to an instance it has left: the last one is the only candidate.
   */
  private attribute(): void {
    const n = this.entries.length;
    const lastNet = new Array<number>(n).fill(-1);
    const lastSite = new Array<CallSite | null>(n).fill(null);
    const lastInst = new Array<Instance | undefined>(n).fill(undefined);
    const defOfBlock = (name: string) => {
      const b = this.blocks.get(name);
      return b ? this.defEntries.get(b) : undefined;
    };
    this.analysis.networks.forEach((net, ni) => {
      const netDef = this.file.definitions.find((d) => d.kind === 'network' && d.range.start.offset === net.graph.range.start.offset);
      const netEntry = netDef ? this.defEntries.get(netDef) : undefined;
      // The nodes of one call expansion share their `calls` array: its levels' entries once.
      let chain: CallSite[] | undefined;
      const roots: (Entry | undefined)[] = [];
      const starts: (Entry | undefined)[] = [];
      for (const node of net.graph.nodes) {
        const calls = node.calls;
        const depth = calls.length;
        if (calls !== chain) {
          chain = calls;
          roots.length = 0;
          starts.length = 0;
          for (let i = 0; i <= depth; i++) {
            const root = i === 0 ? netEntry : defOfBlock(calls[i - 1].block);
            roots.push(root);
            if (i < depth) {
              const e = this.entryAt(calls[i].range);
              starts.push(!e || e.def !== root?.def ? root : e);
            }
          }
        }
        for (let i = 0; i <= depth; i++) {
          const root = roots[i];
          const deepest = i === depth;
          let e: Entry | undefined;
          if (deepest) {
            e = this.entryAt(node.range);
            if (!e || e.def !== root?.def) e = root;
          } else e = starts[i];
          const site = i === 0 ? null : calls[i - 1];
          let first = true;
          for (; e; e = e.parent) {
            const own = first && deepest && !!e.stmt;
            first = false;
            const inst = lastInst[e.id];
            if (inst && lastNet[e.id] === ni && lastSite[e.id] === site) {
              inst.nodes.push(node.id);
              if (own && inst.own !== inst.nodes) inst.own.push(node.id);
              continue;
            }
            // Literal arrays: most statements expand to one layer, and `[]` grows by 17. A layer
            // statement's layers are all its own: one array serves as both.
            const nodes = [node.id];
            const layer = own && e.stmt!.kind === 'call' && isLayerCall(e.stmt!);
            const fresh: Instance = { network: ni, calls: i === 0 ? NO_CALLS : calls.slice(0, i), nodes, own: layer ? nodes : own ? [node.id] : [] };
            if (e.instances === NO_INSTANCES) e.instances = [fresh];
            else e.instances.push(fresh);
            lastInst[e.id] = fresh;
            lastNet[e.id] = ni;
            lastSite[e.id] = site;
          }
        }
      }
    });
  }

  /**
   * The statement entries that expanded, by the line they end on, in tree order within a line:
   * `ids[first[l] .. first[l + 1])` for line `l`. Built once per model (a counting sort), so that
   * the hints of a range cost what is in the range, whatever the file's length or a line's.
   */
  endIndex(): { first: Int32Array; ids: Int32Array } {
    if (this.ends) return this.ends;
    const lines = this.analysis.parsed.lines.lineCount;
    const first = new Int32Array(lines + 1);
    let n = 0;
    for (const e of this.entries) {
      if (!e.stmt || e.instances.length === 0) continue;
      first[Math.min(e.range.end.line, lines - 1) + 1]++;
      n++;
    }
    for (let l = 0; l < lines; l++) first[l + 1] += first[l];
    const ids = new Int32Array(n);
    const fill = first.slice(0, lines);
    for (const e of this.entries) {
      if (!e.stmt || e.instances.length === 0) continue;
      ids[fill[Math.min(e.range.end.line, lines - 1)]++] = e.id;
    }
    return (this.ends = { first, ids });
  }

  firstInstance(e: Entry): Instance | undefined {
    return e.instances[0];
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
  /** The document's expansion cache, kept from version to version. */
  cache?: ExpansionCache;
  /** The document's parser, kept from version to version (the last model's tree is then spent). */
  parser?: IncrementalParser;
}

/**
 * The model of a text the analysis could not take (it threw: a nesting deeper than the parser's
 * stack, say): no statements, and the reason, which the server publishes as a diagnostic.
 */
export function failedModel(text: string, version: number, failure: string): DocModel {
  const lines = new LineIndex(text);
  const analysis: FileAnalysis = { parsed: { file: { definitions: [] }, diagnostics: [], lines, tokens: [] }, graphs: [], networks: [], diagnostics: [] };
  const m = new DocModel(text, version, analysis);
  m.failure = failure;
  return m;
}

export function buildModel(text: string, version: number, options: ModelOptions = {}): DocModel {
  const analysis = analyzeText(text, { dtype: options.dtype, cache: options.cache, parser: options.parser });
  return new DocModel(text, version, analysis);
}
