/**
 * Code actions: the foundation's fixes (diagnostic data), plus what each layer kind suggests
 * for one of its statements from the analysis (its `suggest` hook in src/layers/<kind>.ts: a
 * conv's padding, a pool's stride drop, a residual's projection...). Nothing here knows a kind:
 * it picks the expansion to read, gives the hook the statement as written, and turns the
 * suggestions into edits.
 */
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type Range as LspRange, type TextEdit } from 'vscode-languageserver';
import type { Diagnostic } from '../language/diagnostics';
import { argSpec, layerSpec } from '../layers';
import type * as A from '../language/ast';
import { labelSource } from '../language/ast';
import type { Range } from '../language/range';
import { layerDef } from '../layers';
import type { SuggestSite, Suggestion } from '../layers/types';
import { compact, grouped } from './format';
import { isLayerCall, type DocModel, type Entry, type Instance } from './model';
import { lspRange, toLspDiagnostic } from './convert';
import { layerProblems, reportRange } from './problems';
import { expresser } from './terms';

function overlaps(r: Range, lo: number, hi: number): boolean {
  return r.start.offset <= hi && lo <= r.end.offset;
}

function same(a: Range, b: LspRange): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

function findArg(stmt: A.CallStatement, name: string): A.Arg | undefined {
  const spec = layerSpec(stmt.keyword.text);
  if (!spec) return undefined;
  const target = argSpec(spec, name);
  const named = stmt.args.find((a) => a.name && argSpec(spec, a.name.text) === target);
  if (named) return named;
  // Positional arguments bind in the spec's positional order.
  const positional = spec.args.filter((a) => a.positional);
  const idx = positional.indexOf(target!);
  const given = stmt.args.filter((a) => !a.name);
  return idx >= 0 ? given[idx] : undefined;
}

function setArg(stmt: A.CallStatement, name: string, value: string): TextEdit {
  const arg = findArg(stmt, name);
  if (arg) return { range: lspRange(arg.range), newText: arg.name ? `${arg.name.text}=${value}` : value };
  const end = stmt.range.end;
  return { range: lspRange({ start: end, end }), newText: ` ${name}=${value}` };
}

function indentOf(model: DocModel, r: Range): string {
  const lineStart = model.analysis.parsed.lines.offsetAt(r.start.line, 0);
  return /^[ \t]*/.exec(model.text.slice(lineStart, r.start.offset))?.[0] ?? '';
}

interface Ctx {
  model: DocModel;
  uri: string;
  /** The client's diagnostics in the request, to attach to quick fixes. */
  lspDiagnostics: LspDiagnostic[];
  diagnosticsAt: (r: Range, codes: Diagnostic['code'][]) => Diagnostic[];
}

function lspFor(ctx: Ctx, ds: Diagnostic[]): LspDiagnostic[] {
  return ds.map((d) => ctx.lspDiagnostics.find((l) => same(d.range, l.range) && l.message === d.message) ?? toLspDiagnostic(d, ctx.uri));
}

export function codeActions(model: DocModel, uri: string, range: LspRange, lspDiagnostics: LspDiagnostic[], only?: string[]): CodeAction[] {
  const lines = model.analysis.parsed.lines;
  // Whole lines: a cursor anywhere on a layer's line offers its fixes.
  const lo = lines.offsetAt(range.start.line, 0);
  const hi = Math.max(lo, lines.offsetAt(range.end.line + 1, 0) - 1);
  const all = model.analysis.diagnostics;
  const ctx: Ctx = {
    model,
    uri,
    lspDiagnostics,
    diagnosticsAt: (r, codes) => all.filter((d) => codes.includes(d.code) && d.range.start.offset >= r.start.offset && d.range.end.offset <= r.end.offset),
  };
  const actions: CodeAction[] = [];
  // 1. The foundation's own fixes.
  for (const d of all) {
    if (!d.fixes?.length || !overlaps(d.range, lo, hi)) continue;
    for (const f of d.fixes) {
      actions.push({
        title: f.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: lspFor(ctx, [d]),
        isPreferred: d.fixes.length === 1,
        edit: { changes: { [uri]: f.edits.map((e) => ({ range: lspRange(e.range), newText: e.newText })) } },
      });
    }
  }
  // 2. What each kind suggests for its statements in the range.
  for (const e of model.entries) {
    const s = e.stmt;
    if (!s || !suggestible(s)) continue;
    // A composition's problems are reported at its keyword, not on every line of its body.
    if (!overlaps(s.kind === 'call' ? s.range : s.keyword.range, lo, hi)) continue;
    actions.push(...suggestionsAt(ctx, e, s));
  }
  if (only?.length) return actions.filter((a) => only.some((k) => a.kind === k || a.kind?.startsWith(`${k}.`)));
  return actions;
}

/** The layer a statement makes in one expansion: its own (a layer statement), or a composition's merge. */
function layerOf(model: DocModel, s: A.Statement, inst: Instance): number | undefined {
  if (s.kind === 'call') return inst.own[0];
  const nodes = model.analysis.networks[inst.network].graph.nodes;
  for (let i = inst.nodes.length - 1; i >= 0; i--) {
    const n = nodes[inst.nodes[i]];
    if (n.range.start.offset === s.range.start.offset && n.range.end.offset === s.range.end.offset && layerDef(n.attrs).merge) return n.id;
  }
  return undefined;
}

type Suggestible = A.CallStatement | A.ResidualStatement | A.MergeStatement;

function suggestible(s: A.Statement): s is Suggestible {
  return s.kind === 'residual' || 'branches' in s || isLayerCall(s);
}

/** The most expansions with a problem one fix is written for. */
const MAX_EXPANSIONS = 64;

interface Picked {
  inst: Instance;
  id: number;
  problems: Diagnostic[];
  /** Every expansion with a problem at the layer (the first is `inst`), or `inst` alone. */
  each: { inst: Instance; id: number }[];
}

/** The expansions a fix is for: those with a problem at the statement's layer, else the first. */
function pickInstances(model: DocModel, e: Entry, s: A.Statement): Picked | undefined {
  let picked: Picked | undefined;
  let fallback: Picked | undefined;
  for (const inst of e.instances) {
    const id = layerOf(model, s, inst);
    if (id === undefined) continue;
    const problems = model.analysis.diagnostics.length ? layerProblems(model, inst.network, id) : [];
    if (problems.length) {
      if (!picked) picked = { inst, id, problems, each: [] };
      picked.each.push({ inst, id });
      if (picked.each.length >= MAX_EXPANSIONS) break;
    } else fallback ??= { inst, id, problems, each: [{ inst, id }] };
    // Without diagnostics, the first expansion is all a rewrite reads.
    if (!model.analysis.diagnostics.length) break;
  }
  return picked ?? fallback;
}

function suggestionsAt(ctx: Ctx, e: Entry, s: Suggestible): CodeAction[] {
  const model = ctx.model;
  const picked = pickInstances(model, e, s);
  if (!picked) return [];
  const { node, info } = model.resolve(picked.inst.network, picked.id);
  const def = layerDef(node.attrs);
  if (!def.suggest || info.inputShapes.some((x) => !x)) return [];
  const site: SuggestSite = {
    inputs: info.inputShapes as number[][],
    output: info.shape,
    params: info.params,
    macs: info.macs,
    problems: picked.problems,
    written: (name) => {
      if (s.kind !== 'call') return undefined;
      const a = findArg(s, name);
      return a && model.text.slice(a.value.range.start.offset, a.value.range.end.offset);
    },
    each: picked.each.map((x) => {
      const l = model.analysis.networks[x.inst.network].layers[x.id];
      return { inputs: l.inputShapes as number[][], output: l.shape };
    }),
    express: expresser(model, e, picked.each.map((x) => x.inst)),
    grouped,
    compact,
    residual: !!node.residual,
    shortcut: s.kind === 'residual' && !!s.shortcut?.body.statements.length,
  };
  const at = reportRange(node);
  const out: CodeAction[] = [];
  for (const sug of def.suggest(node.attrs as never, site)) {
    const edits = editsOf(ctx, s, sug);
    if (!edits) continue;
    // The diagnostics it fixes, in every expansion: those at the layer with its codes.
    const fixed = sug.fixes ? ctx.diagnosticsAt(at, sug.fixes).filter((d) => d.range.start.offset === at.start.offset && d.range.end.offset === at.end.offset) : [];
    out.push({
      title: sug.title,
      kind: fixed.length ? CodeActionKind.QuickFix : CodeActionKind.RefactorRewrite,
      diagnostics: fixed.length ? lspFor(ctx, fixed) : undefined,
      isPreferred: fixed.length > 0 && sug.preferred ? true : undefined,
      edit: { changes: { [ctx.uri]: edits } },
    });
  }
  return out;
}

function editsOf(ctx: Ctx, s: Suggestible, sug: Suggestion): TextEdit[] | undefined {
  const e = sug.edit;
  if ('set' in e) return s.kind === 'call' ? e.set.map(([name, value]) => setArg(s, name, value)) : undefined;
  if ('replace' in e) {
    const ind = indentOf(ctx.model, s.range);
    const text = s.label ? `${labelSource(s.label)}: {\n${e.replace.map((l) => `${ind}  ${l}`).join('\n')}\n${ind}}` : e.replace.join(`\n${ind}`);
    return [{ range: lspRange(s.range), newText: text }];
  }
  if ('append' in e) {
    const [j, lines] = e.append;
    const branch = 'branches' in s ? s.branches[j] : undefined;
    if (!branch) return undefined;
    const last = branch.body.statements[branch.body.statements.length - 1];
    if (!last) return [{ range: lspRange(branch.body.range), newText: `{ ${lines.join('; ')} }` }];
    return [{ range: lspRange({ start: last.range.end, end: last.range.end }), newText: `; ${lines.join('; ')}` }];
  }
  if (s.kind !== 'residual') return undefined;
  const body = `{ ${e.shortcut.join('; ')} }`;
  if (s.shortcut) return [{ range: lspRange(s.shortcut.body.range), newText: body }];
  const end = s.body.range.end;
  return [{ range: lspRange({ start: end, end }), newText: ` shortcut ${body}` }];
}
