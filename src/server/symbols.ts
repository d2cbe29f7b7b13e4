/**
 * Names in a document: blocks, parameters and labels, where they are declared and used.
 * Definition, references, rename, document symbols, folding and semantic tokens read this.
 */
import {
  FoldingRangeKind,
  SymbolKind,
  type DocumentSymbol,
  type FoldingRange,
  type SemanticTokensLegend,
} from 'vscode-languageserver';
import { layerSpec } from '../layers';
import * as A from '../language/ast';
import type { NetworkAnalysis } from '../analysis';
import type { Range } from '../language/range';
import { shapeText } from './format';
import { doubtOf } from './problems';
import type { DocModel } from './model';
import { summarize } from './hints';
import { commentsOf } from './comments';
import { lspRange } from './convert';

export type Sym =
  | { kind: 'network'; name: string }
  | { kind: 'block'; name: string }
  | { kind: 'param'; block: string; name: string }
  | { kind: 'label'; id: string; name: string };

export type TokenKind = 'network' | 'block' | 'param' | 'label' | 'layer' | 'argName';

export interface Occurrence {
  range: Range;
  token: TokenKind;
  sym?: Sym;
  decl: boolean;
}

export function symKey(s: Sym): string {
  switch (s.kind) {
    case 'network':
    case 'block':
      return `${s.kind}:${s.name}`;
    case 'param':
      return `param:${s.block}:${s.name}`;
    case 'label':
      return `label:${s.id}`;
  }
}

function walkExpr(e: A.Expr, f: (n: Extract<A.Expr, { kind: 'name' }>) => void): void {
  switch (e.kind) {
    case 'name':
      f(e);
      return;
    case 'tuple':
      e.items.forEach((i) => walkExpr(i, f));
      return;
    case 'unary':
      walkExpr(e.operand, f);
      return;
    case 'binary':
      walkExpr(e.left, f);
      walkExpr(e.right, f);
      return;
    default:
      return;
  }
}

const cache = new WeakMap<DocModel, Occurrence[]>();

export function occurrences(model: DocModel): Occurrence[] {
  const hit = cache.get(model);
  if (hit) return hit;
  const out: Occurrence[] = [];
  for (const def of model.file.definitions) {
    if (!def.name.text) continue;
    const owner = def.kind === 'block' && model.blocks.get(def.name.text) === def ? def.name.text : undefined;
    if (def.kind === 'network') out.push({ range: def.name.range, token: 'network', sym: { kind: 'network', name: def.name.text }, decl: true });
    else out.push({ range: def.name.range, token: 'block', sym: owner ? { kind: 'block', name: def.name.text } : undefined, decl: true });
    const params = new Set(def.kind === 'block' ? def.params.map((p) => p.name.text) : []);
    /** Repeat indices in scope (`repeat N as i`), which hide parameters of their names. */
    const bound: string[] = [];
    const refs = (e: A.Expr) =>
      walkExpr(e, (n) => {
        if (owner && params.has(n.name) && !bound.includes(n.name)) out.push({ range: n.range, token: 'param', sym: { kind: 'param', block: owner, name: n.name }, decl: false });
      });
    if (def.kind === 'block') {
      for (const p of def.params) {
        out.push({ range: p.name.range, token: 'param', sym: owner ? { kind: 'param', block: owner, name: p.name.text } : undefined, decl: true });
        if (p.default) refs(p.default);
      }
    }
    const label = (l: A.Label | undefined) => {
      if (!l) return;
      out.push({ range: l.range, token: 'label', sym: { kind: 'label', id: `${l.range.start.offset}`, name: l.text }, decl: true });
      // Parameters interpolated in a quoted label (`"block{s}-{i}"`) are references too.
      for (const q of l.quoted ?? []) if (typeof q !== 'string') refs(q);
    };
    const walk = (stmts: readonly A.Statement[]) => {
      for (const s of stmts) {
        label(s.label);
        switch (s.kind) {
          case 'call': {
            const spec = layerSpec(s.keyword.text);
            const callee = spec ? undefined : model.blocks.get(s.keyword.text);
            if (spec) out.push({ range: s.keyword.range, token: 'layer', decl: false });
            else if (callee) out.push({ range: s.keyword.range, token: 'block', sym: { kind: 'block', name: callee.name.text }, decl: false });
            for (const a of s.args) {
              if (a.name) {
                if (callee?.params.some((p) => p.name.text === a.name!.text)) {
                  out.push({ range: a.name.range, token: 'param', sym: { kind: 'param', block: callee.name.text, name: a.name.text }, decl: false });
                } else if (spec) out.push({ range: a.name.range, token: 'argName', decl: false });
              }
              refs(a.value);
            }
            break;
          }
          case 'repeat':
            refs(s.count);
            break;
          case 'if':
            refs(s.condition);
            break;
          case 'add':
          case 'concat':
          case 'mul':
            s.branches.forEach((b) => label(b.label));
            break;
        }
        if (s.kind === 'if') {
          walk(s.then.statements);
          const alt = s.else?.body;
          if (alt) walk('kind' in alt ? [alt] : alt.statements);
        } else if (s.kind === 'repeat' && s.index) {
          out.push({ range: s.index.range, token: 'param', decl: true });
          bound.push(s.index.text);
          walk(A.childStatements(s));
          bound.pop();
        } else walk(A.childStatements(s));
      }
    };
    walk(def.body.statements);
  }
  out.sort((a, b) => a.range.start.offset - b.range.start.offset);
  cache.set(model, out);
  return out;
}

export function occurrenceAt(model: DocModel, offset: number): Occurrence | undefined {
  return occurrences(model).find((o) => o.range.start.offset <= offset && offset <= o.range.end.offset);
}

export function symbolAt(model: DocModel, offset: number): Sym | undefined {
  return occurrenceAt(model, offset)?.sym;
}

export function referencesOf(model: DocModel, sym: Sym): Occurrence[] {
  const k = symKey(sym);
  return occurrences(model).filter((o) => o.sym && symKey(o.sym) === k);
}

// ── outline ──────────────────────────────────────────────────────────────────

/** A network's output shape, or `?` where it depends on an error. */
function outputText(model: DocModel, net: NetworkAnalysis): string {
  const i = model.analysis.networks.indexOf(net);
  return net.graph.output >= 0 && doubtOf(model, i).cause[net.graph.output] ? '?' : shapeText(net.output);
}

export function documentSymbols(model: DocModel): DocumentSymbol[] {
  const detail = (s: A.Statement): string | undefined => {
    const e = model.entryAt(s.range);
    const sum = e ? summarize(model, e) : undefined;
    const shape = sum?.output === undefined ? undefined : model.analysis.networks[sum.inst.network].layers[sum.output].shape;
    const what = s.kind === 'call' ? s.keyword.text : s.kind;
    // Past an error a shape is a guess: none is shown (see problems.ts).
    if (sum?.output !== undefined && doubtOf(model, sum.inst.network).cause[sum.output]) return `${what} → ?`;
    return shape ? `${what} → ${shapeText(shape)}` : what;
  };
  const children = (stmts: readonly A.Statement[]): DocumentSymbol[] => {
    const out: DocumentSymbol[] = [];
    for (const s of stmts) {
      const inner = s.kind === 'call' ? [] : children(A.childStatements(s));
      if (s.label) {
        out.push({
          name: s.label.text,
          detail: detail(s),
          kind: s.kind === 'call' ? (layerSpec(s.keyword.text) ? SymbolKind.Field : SymbolKind.Module) : SymbolKind.Namespace,
          range: lspRange(s.range),
          selectionRange: lspRange(s.label.range),
          children: inner,
        });
      } else out.push(...inner);
    }
    return out;
  };
  return model.file.definitions
    .filter((d) => d.name.text)
    .map((d) => {
      const net = d.kind === 'network' ? model.analysis.networks.find((n) => n.graph.range.start.offset === d.range.start.offset) : undefined;
      return {
        name: d.name.text,
        detail: d.kind === 'network' ? (net ? `${shapeText(net.input)} → ${outputText(model, net)}` : 'network') : `block(${d.params.map((p) => p.name.text).join(', ')})`,
        kind: d.kind === 'network' ? SymbolKind.Class : SymbolKind.Function,
        range: lspRange(d.range),
        selectionRange: lspRange(d.name.range),
        children: children(d.body.statements),
      };
    });
}

// ── folding ──────────────────────────────────────────────────────────────────

export function foldingRanges(model: DocModel): FoldingRange[] {
  const out: FoldingRange[] = [];
  const body = (b: A.Body) => {
    if (b.range.end.line > b.range.start.line) out.push({ startLine: b.range.start.line, endLine: b.range.end.line - 1 });
  };
  const walk = (stmts: readonly A.Statement[]) => {
    for (const s of stmts) {
      if (s.kind === 'call') continue;
      for (const b of A.childBodies(s)) body(b);
      walk(A.childStatements(s));
    }
  };
  for (const d of model.file.definitions) {
    body(d.body);
    walk(d.body.statements);
  }
  // Comments: multi-line block comments and runs of line comments.
  let run: { start: number; end: number } | undefined;
  const flush = () => {
    if (run && run.end > run.start) out.push({ startLine: run.start, endLine: run.end, kind: FoldingRangeKind.Comment });
    run = undefined;
  };
  for (const c of commentsOf(model.text)) {
    const start = model.analysis.parsed.lines.positionAt(c.start).line;
    const end = model.analysis.parsed.lines.positionAt(c.end).line;
    if (c.block) {
      flush();
      if (end > start) out.push({ startLine: start, endLine: end, kind: FoldingRangeKind.Comment });
      continue;
    }
    if (!c.ownLine) {
      flush();
      continue;
    }
    if (run && start === run.end + 1) run.end = start;
    else {
      flush();
      run = { start, end: start };
    }
  }
  flush();
  return out;
}

// ── semantic tokens ──────────────────────────────────────────────────────────

export const TOKEN_TYPES = ['class', 'function', 'parameter', 'label', 'property', 'type'] as const;
export const TOKEN_MODIFIERS = ['declaration', 'defaultLibrary'] as const;
export const LEGEND: SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

const TYPE_OF: Record<TokenKind, number> = { network: 0, block: 1, param: 2, label: 3, argName: 4, layer: 1 };

export function semanticTokens(model: DocModel): number[] {
  const data: number[] = [];
  let line = 0;
  let ch = 0;
  for (const o of occurrences(model)) {
    const r = o.range;
    if (r.start.line !== r.end.line || r.end.offset <= r.start.offset) continue;
    const mods = (o.decl ? 1 : 0) | (o.token === 'layer' ? 2 : 0);
    const dl = r.start.line - line;
    data.push(dl, dl === 0 ? r.start.character - ch : r.start.character, r.end.character - r.start.character, TYPE_OF[o.token], mods);
    line = r.start.line;
    ch = r.start.character;
  }
  return data;
}
