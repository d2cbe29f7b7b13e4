/**
 * Which layers the analysis's diagnostics are about, and which figures an error makes
 * unreliable. A shape rule reports at its layer's statement (a merge at its keyword) with the
 * chain of calls that made it, so a diagnostic names one expansion of a layer; an error of the
 * text or the arguments names no layer, and every layer after it in its definition is in doubt.
 * From there the doubt follows the data: everything that reads a doubtful layer's output.
 */
import type { Diagnostic } from '../language/diagnostics';
import type { Range } from '../language/range';
import type { GraphNode } from '../graph/types';
import { layerDef } from '../layers';
import type { DocModel } from './model';

/** Where a layer's own problems are reported. */
export function reportRange(node: GraphNode): Range {
  return layerDef(node.attrs).merge ? node.nameRange : node.range;
}

function key(r: Range, chain: readonly { range: Range }[]): string {
  let k = `${r.start.offset}:${r.end.offset}`;
  for (const c of chain) k += `|${c.range.start.offset}`;
  return k;
}

interface Index {
  /** Diagnostics by layer expansion (range and call chain). */
  byLayer: Map<string, Diagnostic[]>;
  /** Errors that name no layer (syntax, arguments, names), in document order. */
  loose: Diagnostic[];
}

/** Errors that leave every figure as it is: of names, not of shapes. */
const FIGURES_HOLD = new Set<Diagnostic['code']>(['duplicate-label', 'duplicate-definition', 'unused-block']);

/** An error the figures after it depend on. */
function breaks(d: Diagnostic): boolean {
  return d.severity === 'error' && !FIGURES_HOLD.has(d.code);
}

const indexes = new WeakMap<DocModel, Index>();

function indexOf(model: DocModel): Index {
  let ix = indexes.get(model);
  if (ix) return ix;
  ix = { byLayer: new Map(), loose: [] };
  const layerRanges = new Set<string>();
  for (const net of model.analysis.networks) for (const n of net.graph.nodes) layerRanges.add(key(reportRange(n), []));
  for (const d of model.analysis.diagnostics) {
    const chain = (d.related ?? []).filter((r) => r.message.startsWith('in this call of '));
    if (layerRanges.has(key(d.range, []))) {
      const k = key(d.range, chain);
      const list = ix.byLayer.get(k);
      if (list) list.push(d);
      else ix.byLayer.set(k, [d]);
    } else if (breaks(d)) ix.loose.push(d);
  }
  indexes.set(model, ix);
  return ix;
}

/** The diagnostics about one expansion of a layer. */
export function layerProblems(model: DocModel, network: number, id: number): Diagnostic[] {
  if (!model.analysis.diagnostics.length) return [];
  const node = model.analysis.networks[network].graph.nodes[id];
  return indexOf(model).byLayer.get(key(reportRange(node), node.calls)) ?? [];
}

export interface Doubt {
  /** By layer: the first error its figures depend on, else undefined. */
  cause: (Diagnostic | undefined)[];
  /** The first error in the network (in execution order of what it breaks). */
  first?: Diagnostic;
}

const doubts = new WeakMap<DocModel, Doubt[]>();
const NONE: Doubt = { cause: [] };

/**
 * Layer by layer, the error that makes its figures unreliable: its own, a loose error before
 * it in a definition it was expanded from, or one of a layer it reads.
 */
export function doubtOf(model: DocModel, network: number): Doubt {
  let all = doubts.get(model);
  if (!all) doubts.set(model, (all = []));
  const hit = all[network];
  if (hit) return hit;
  // The usual case, once per model: no error, no doubt.
  if (!model.analysis.diagnostics.some(breaks)) return (all[network] = NONE);
  const ix = indexOf(model);
  const net = model.analysis.networks[network];
  const nodes = net.graph.nodes;
  const cause: (Diagnostic | undefined)[] = new Array(nodes.length);
  // Loose errors by the definition they lie in.
  const defs = model.file.definitions;
  const looseIn = (r: Range) => ix.loose.filter((d) => d.range.start.offset >= r.start.offset && d.range.end.offset <= r.end.offset);
  const netDef = defs.find((d) => d.kind === 'network' && d.range.start.offset === net.graph.range.start.offset);
  const netLoose = netDef ? looseIn(netDef.range) : [];
  const blockLoose = new Map<string, Diagnostic[]>();
  for (const [name, b] of model.blocks) {
    const l = looseIn(b.range);
    if (l.length) blockLoose.set(name, l);
  }
  // An error in the statement itself counts (a bad argument), as do those before it.
  const before = (list: Diagnostic[] | undefined, r: Range) => list?.find((d) => d.range.start.offset <= r.end.offset);
  const anyError = model.analysis.diagnostics.find(breaks);
  let first: Diagnostic | undefined;
  for (const node of nodes) {
    let c: Diagnostic | undefined = ix.byLayer.get(key(reportRange(node), node.calls))?.find(breaks);
    // No shape and no error of its own: an error it reads, found below, or any.
    const shapeless = net.layers[node.id].shape === null;
    // Where the layer sits in each definition on its way: the call at that level, or itself.
    if (!c && (netLoose.length || blockLoose.size)) {
      c = before(netLoose, node.calls[0]?.range ?? node.range);
      for (let i = 0; !c && i < node.calls.length; i++) c = before(blockLoose.get(node.calls[i].block), node.calls[i + 1]?.range ?? node.range);
    }
    for (let j = 0; !c && j < node.inputs.length; j++) c = cause[node.inputs[j]];
    if (!c && shapeless) c = first ?? anyError;
    cause[node.id] = c;
    if (c && !first) first = c;
  }
  return (all[network] = { cause, first });
}
