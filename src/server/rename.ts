/**
 * Rename: what can be renamed where (`prepareRename`), and a new name refused, with the reason,
 * when the renamed file would not mean the same: not a name, a keyword, a layer, a name another
 * block, network or parameter already has, or anything else that makes the file fail a check it
 * passed (a label used twice in a sequence, a parameter path taken), found by analysing the
 * renamed text.
 */
import { LSPErrorCodes, ResponseError, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver';
import { analyzeText } from '../analysis';
import type { Diagnostic } from '../language/diagnostics';
import { layerSpec } from '../layers';
import { KEYWORD_NAMES } from '../language/lexer';
import type { Range } from '../language/range';
import { lspRange } from './convert';
import type { DocModel } from './model';
import { occurrenceAt, referencesOf, type Occurrence, type Sym } from './symbols';

function refuse(reason: string): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestFailed, reason);
}

const line = (r: Range) => `line ${r.start.line + 1}`;

/** The symbol under the cursor that can be renamed, or why not; undefined where there is no name. */
function target(model: DocModel, offset: number): { o: Occurrence; sym: Sym } | string | undefined {
  const o = occurrenceAt(model, offset);
  if (!o) return undefined;
  const name = model.text.slice(o.range.start.offset, o.range.end.offset);
  if (o.token === 'layer') return `'${name}' is a layer: blocks, parameters and labels can be renamed, layers cannot`;
  if (o.token === 'argName') return `'${name}' is an argument of the layer: its name is fixed`;
  if (!o.sym) {
    return o.token === 'block' ? `'${name}' is defined more than once (or is a layer's name): rename it after that is fixed` : `'${name}' cannot be renamed here`;
  }
  if (o.sym.kind === 'network') return `network names are not renamed: nothing in the file refers to '${name}'`;
  return { o, sym: o.sym };
}

/** `textDocument/prepareRename`: the name's range and text, null off any name, or the reason it cannot be renamed. */
export function prepareRename(model: DocModel, offset: number): { range: ReturnType<typeof lspRange>; placeholder: string } | null {
  const t = target(model, offset);
  if (t === undefined) return null;
  if (typeof t === 'string') throw refuse(t);
  return { range: lspRange(t.o.range), placeholder: t.sym.name };
}

/** Why `name` cannot be the new name of `sym`, from the name alone and the definitions. */
function nameProblem(model: DocModel, name: string, sym: Sym): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `'${name}' is not a name: use letters, digits and '_', not starting with a digit`;
  if (KEYWORD_NAMES.has(name)) return `'${name}' is a keyword`;
  if (sym.kind === 'block') {
    if (layerSpec(name)) return `'${name}' is a layer: a block cannot take its name`;
    const other = model.file.definitions.find((d) => d.name.text === name);
    if (other) return `'${name}' is already the name of a ${other.kind} (${line(other.name.range)})`;
  }
  if (sym.kind === 'param') {
    const block = model.blocks.get(sym.block);
    const other = block?.params.find((p) => p.name.text === name);
    if (other) return `'${name}' is already a parameter of ${sym.block} (${line(other.name.range)})`;
  }
  return undefined;
}

function applyEdits(text: string, edits: { start: number; end: number }[], newText: string): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    out += text.slice(at, e.start) + newText;
    at = e.end;
  }
  return out + text.slice(at);
}

function errorCounts(ds: readonly Diagnostic[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of ds) if (d.severity === 'error') m.set(d.code, (m.get(d.code) ?? 0) + 1);
  return m;
}

/** `textDocument/rename`: every occurrence of the symbol, or the reason the name is refused. */
export function renameEdits(model: DocModel, offset: number, newName: string, uri: string): WorkspaceEdit | null {
  const t = target(model, offset);
  if (t === undefined) return null;
  if (typeof t === 'string') throw refuse(t);
  const { sym } = t;
  if (newName === sym.name) return { changes: { [uri]: [] } };
  const problem = nameProblem(model, newName, sym);
  if (problem) throw refuse(problem);
  const refs = referencesOf(model, sym);
  // The renamed file must not fail a check the file passes now: a label a sibling has, a
  // parameter path another layer has, a name a parameter hides.
  const renamed = analyzeText(applyEdits(model.text, refs.map((r) => ({ start: r.range.start.offset, end: r.range.end.offset })), newName));
  const before = errorCounts(model.analysis.diagnostics);
  const after = errorCounts(renamed.diagnostics);
  for (const [code, n] of after) {
    if (n <= (before.get(code) ?? 0)) continue;
    const d = renamed.diagnostics.find((x) => x.code === code && x.severity === 'error')!;
    throw refuse(`renaming '${sym.name}' to '${newName}' would make an error: ${d.message} (${line(d.range)})`);
  }
  const edits: TextEdit[] = refs.map((r) => ({ range: lspRange(r.range), newText: newName }));
  return { changes: { [uri]: edits } };
}
