/**
 * Code actions: the foundation's fixes (diagnostic data), plus rewrites that read the
 * analysis: the padding that keeps the size, a `groups` value that divides, and the seed's
 * 5×5/7×7 → stacked 3×3 convolutions with the same receptive field.
 */
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type Range as LspRange, type TextEdit } from 'vscode-languageserver';
import { windowOutput } from '../analysis/layer-math';
import type { Diagnostic } from '../language/diagnostics';
import { argSpec, layerSpec } from '../graph/layers';
import type { GraphNode } from '../graph/types';
import type * as A from '../language/ast';
import { labelSource } from '../language/ast';
import type { Range } from '../language/range';
import { compact, grouped } from './format';
import { isLayerCall, type DocModel, type Entry } from './model';
import { lspRange, toLspDiagnostic } from './convert';

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

function setArg(model: DocModel, stmt: A.CallStatement, name: string, value: string): TextEdit {
  const arg = stmt.args.find((a) => a.name && argSpec(layerSpec(stmt.keyword.text)!, a.name.text)?.name === name);
  if (arg) return { range: lspRange(arg.range), newText: `${name}=${value}` };
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

function paddingAction(ctx: Ctx, stmt: A.CallStatement, node: GraphNode, input: number[], output: number[]): CodeAction | undefined {
  const a = node.attrs;
  if (a.kind !== 'conv' || input.length !== 3) return undefined;
  const want = [Math.ceil(input[1] / a.stride[0]), Math.ceil(input[2] / a.stride[1])];
  if (output[1] === want[0] && output[2] === want[1]) return undefined;
  const inBlock = findArg(stmt, 'p');
  const diags = ctx.diagnosticsAt(stmt.range, ['output-too-small', 'stride-drops', 'shape-mismatch', 'channel-mismatch', 'spatial-mismatch']);
  let value: string;
  const stride1 = a.stride[0] === 1 && a.stride[1] === 1;
  const even = [0, 1].every((i) => (a.dilation[i] * (a.kernel[i] - 1)) % 2 === 0);
  if (stride1 && even) value = 'same';
  else {
    const pad = [0, 1].map((i) => {
      for (let p = 0; p <= a.kernel[i] * a.dilation[i]; p++) {
        const w = windowOutput(input[i + 1], a.kernel[i], a.stride[i], p, a.dilation[i], false);
        if (w.out === want[i] && w.droppedRows === 0) return p;
      }
      for (let p = 0; p <= a.kernel[i] * a.dilation[i]; p++) if (windowOutput(input[i + 1], a.kernel[i], a.stride[i], p, a.dilation[i], false).out === want[i]) return p;
      return undefined;
    });
    if (pad[0] === undefined || pad[1] === undefined) return undefined;
    if (pad[0] === a.padding[0] && pad[1] === a.padding[1]) return undefined;
    value = pad[0] === pad[1] ? `${pad[0]}` : `${pad[0]}x${pad[1]}`;
  }
  void inBlock;
  const keeps = `${want[0]}×${want[1]}`;
  return {
    title: value === 'same' ? `Set p=same (keeps ${keeps})` : `Set p=${value} (gives ${keeps} = ⌈input/stride⌉)`,
    kind: diags.length ? CodeActionKind.QuickFix : CodeActionKind.RefactorRewrite,
    diagnostics: diags.length ? lspFor(ctx, diags) : undefined,
    isPreferred: diags.length > 0,
    edit: { changes: { [ctx.uri]: [setArg(ctx.model, stmt, 'p', value)] } },
  };
}

function groupsAction(ctx: Ctx, stmt: A.CallStatement): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of ctx.diagnosticsAt(stmt.range, ['groups'])) {
    const m = /g=(\d+) would/.exec(d.message);
    if (!m) continue;
    out.push({
      title: `Set g=${m[1]}${m[1] === '1' ? ' (a dense convolution)' : ''}`,
      kind: CodeActionKind.QuickFix,
      diagnostics: lspFor(ctx, [d]),
      isPreferred: true,
      edit: { changes: { [ctx.uri]: [setArg(ctx.model, stmt, 'g', m[1])] } },
    });
  }
  return out;
}

function exprText(model: DocModel, e: A.Expr): string {
  return model.text.slice(e.range.start.offset, e.range.end.offset);
}

/** The seed's argument: two 3×3 convs see 5×5, three see 7×7, with fewer weights and a ReLU between. */
function stackAction(ctx: Ctx, stmt: A.CallStatement, node: GraphNode, input: number[], output: number[], params: number, macs: number): CodeAction | undefined {
  const a = node.attrs;
  if (a.kind !== 'conv' || input.length !== 3) return undefined;
  const k = a.kernel[0];
  if (a.kernel[1] !== k || (k !== 5 && k !== 7) || a.dilation[0] !== 1 || a.dilation[1] !== 1 || a.groups !== 1) return undefined;
  if (a.stride[0] !== a.stride[1] || a.padding[0] !== a.padding[1]) return undefined;
  const n = (k - 1) / 2;
  const P = a.padding[0];
  const pads = Array.from({ length: n }, (_, i) => Math.floor(P / n) + (i < P % n ? 1 : 0));
  let h = input[1];
  let w = input[2];
  let cin = input[0];
  let p2 = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const s = i === n - 1 ? a.stride[0] : 1;
    h = windowOutput(h, 3, s, pads[i], 1, false).out;
    w = windowOutput(w, 3, s, pads[i], 1, false).out;
    if (h < 1 || w < 1) return undefined;
    p2 += a.out * cin * 9 + (a.bias ? a.out : 0);
    m2 += a.out * h * w * cin * 9;
    cin = a.out;
  }
  if (h !== output[1] || w !== output[2]) return undefined;
  const outArg = findArg(stmt, 'out');
  if (!outArg) return undefined;
  const biasArg = findArg(stmt, 'bias');
  const extra = biasArg ? ` bias=${exprText(ctx.model, biasArg.value)}` : '';
  const convs = pads.map((p, i) => {
    const s = i === n - 1 && a.stride[0] > 1 ? ` s=${a.stride[0]}` : '';
    return `conv ${exprText(ctx.model, outArg.value)} k=3${s}${p ? ` p=${p}` : ''}${extra}`;
  });
  const seq: string[] = [];
  convs.forEach((c, i) => {
    if (i) seq.push('relu');
    seq.push(c);
  });
  const ind = indentOf(ctx.model, stmt.range);
  const text = stmt.label
    ? `${labelSource(stmt.label)}: {\n${seq.map((l) => `${ind}  ${l}`).join('\n')}\n${ind}}`
    : seq.join(`\n${ind}`);
  const pct = (a0: number, b0: number) => `${b0 <= a0 ? '−' : '+'}${Math.round((100 * Math.abs(a0 - b0)) / a0)}%`;
  return {
    title: `Replace the ${k}×${k} conv by ${n} stacked 3×3 convs (same ${k}×${k} receptive field): params ${grouped(params)} → ${grouped(p2)} (${pct(params, p2)}), MACs ${compact(macs)} → ${compact(m2)} (${pct(macs, m2)})`,
    kind: CodeActionKind.RefactorRewrite,
    edit: { changes: { [ctx.uri]: [{ range: lspRange(stmt.range), newText: text }] } },
  };
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
  // 2. Rewrites of the layer statements in the range, from their first expansion.
  const seen = new Set<Entry>();
  for (const e of model.entries) {
    const s = e.stmt;
    if (!s || !isLayerCall(s) || s.keyword.text === 'input' || seen.has(e)) continue;
    if (!overlaps(s.range, lo, hi)) continue;
    seen.add(e);
    actions.push(...groupsAction(ctx, s));
    const inst = model.firstInstance(e);
    const id = inst?.own[0];
    if (id === undefined || !inst) continue;
    const { node, info } = model.resolve(inst.network, id);
    const input = info.inputShapes[0];
    if (!input || !info.shape) continue;
    const pad = paddingAction(ctx, s, node, input, info.shape);
    if (pad) actions.push(pad);
    const stack = stackAction(ctx, s, node, input, info.shape, info.params, info.macs);
    if (stack) actions.push(stack);
  }
  if (only?.length) return actions.filter((a) => only.some((k) => a.kind === k || a.kind?.startsWith(`${k}.`)));
  return actions;
}
