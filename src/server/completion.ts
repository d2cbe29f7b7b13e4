/**
 * Completion and signature help from the text before the cursor (which is usually not yet
 * valid) plus the last analysis: layers, argument names with defaults and docs, block names
 * with their signature, and the block parameters in scope.
 */
import {
  CompletionItemKind,
  InsertTextFormat,
  type CompletionItem,
  type ParameterInformation,
  type SignatureHelp,
} from 'vscode-languageserver';
import { LAYERS, argSpec, layerSpec, type LayerSpec } from '../layers';
import type * as A from '../language/ast';
import { childStatements, elseIf } from '../language/ast';
import { TRIGGER_PARAMETER_HINTS } from '../protocol/lsp-ext';
import type { ClientFeatures } from './client';
import { signatureOf } from './hover';
import type { DocModel } from './model';

const STATEMENT_KEYWORDS: [string, string, string][] = [
  ['repeat', 'repeat ${1:2} {\n\t$0\n}', 'the body N times in sequence'],
  ['residual', 'residual {\n\t$0\n}', 'output = body(x) + shortcut(x); without shortcut, the identity'],
  ['add', 'add {\n\tbranch {\n\t\t$1\n\t}\n\tbranch {\n\t\t$0\n\t}\n}', 'element-wise sum of branches fed the same input'],
  ['concat', 'concat {\n\tbranch {\n\t\t$1\n\t}\n\tbranch {\n\t\t$0\n\t}\n}', 'channel concatenation of branches'],
  ['aux', 'aux {\n\t$0\n}', 'a side output fed from here'],
  ['if', 'if ${1:cond} {\n\t$0\n}', 'chosen when the block is expanded'],
];

/** What an open brace before the cursor opens, from the words before it. */
type Scope = 'network' | 'block' | 'merge' | 'branch' | 'residual' | 'shortcut' | 'other';

interface Where {
  /** The open braces around the cursor, outermost first. */
  scopes: { scope: Scope; head: string }[];
  /** The scope closed last before the cursor with nothing but blanks (and the word typed) after it. */
  justClosed?: Scope;
}

function scopeOf(head: string): Scope {
  const word = /^[A-Za-z_]\w*/.exec(head)?.[0];
  switch (word) {
    case 'network':
    case 'block':
    case 'branch':
    case 'residual':
    case 'shortcut':
      return word;
    case 'add':
    case 'concat':
    case 'mul':
      return 'merge';
    default:
      return 'other';
  }
}

/**
 * The braces open at the cursor, read from the text (which is usually not valid while one
 * types, so the syntax tree may end early): comments skipped, each `{` classified by the
 * statement head before it, a label removed.
 */
function whereIs(text: string, offset: number): Where {
  const scopes: { scope: Scope; head: string }[] = [];
  let headStart = 0;
  let closed: Scope | undefined;
  let closedAt = -1;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 || nl >= offset ? offset : nl - 1;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 || end + 2 > offset ? offset : end + 1;
      continue;
    }
    if (c === 123 /* { */) {
      const head = text.slice(headStart, i).replace(/\/\/.*$/gm, '').trim().replace(/^[A-Za-z_]\w*\s*:(?!=)\s*/, '');
      scopes.push({ scope: scopeOf(head), head });
      headStart = i + 1;
    } else if (c === 125 /* } */) {
      closed = scopes.pop()?.scope;
      closedAt = i;
      headStart = i + 1;
    } else if (c === 10 || c === 59 /* ; */) headStart = i + 1;
  }
  const justClosed = closedAt >= 0 && /^\s*[A-Za-z_]*$/.test(text.slice(closedAt + 1, offset)) ? closed : undefined;
  return { scopes, justClosed };
}

function currentStatement(model: DocModel, offset: number): string {
  const text = model.text;
  let i = offset - 1;
  let depth = 0;
  for (; i >= 0; i--) {
    const c = text[i];
    if (c === ')') depth++;
    else if (c === '(') {
      if (depth === 0) continue;
      depth--;
    } else if (depth === 0 && (c === '\n' || c === ';' || c === '{' || c === '}')) break;
  }
  let s = text.slice(i + 1, offset);
  // Drop comments and the label.
  s = s.replace(/\/\/.*$/gm, '');
  s = s.replace(/^\s*(?:[A-Za-z_]\w*|\d+|"[^"\n]*")\s*:(?!=)\s*/, '');
  return s;
}

/** A block's parameters, and the indices of the `repeat N as i` whose body holds `offset`. */
function paramsInScope(def: A.Definition | undefined, offset: number): string[] {
  const names = def?.kind === 'block' ? def.params.map((p) => p.name.text) : [];
  if (!def) return names;
  const visit = (stmts: readonly A.Statement[]) => {
    for (const s of stmts) {
      if (offset < s.range.start.offset || offset > s.range.end.offset) continue;
      if (s.kind === 'repeat' && s.index && offset > s.body.range.start.offset && !names.includes(s.index.text)) names.push(s.index.text);
      visit(childStatements(s));
      const alt = elseIf(s);
      if (alt) visit([alt]);
    }
  };
  visit(def.body.statements);
  return names;
}

function layerDoc(spec: LayerSpec): string {
  const args = spec.args.map((a) => `- \`${a.name}\`${a.aliases.length ? ` (${a.aliases.join(', ')})` : ''}${a.default ? ` = \`${a.default}\`` : a.required ? ' (required)' : ''}: ${a.doc}`);
  return `${spec.doc}\n\nOutput: ${spec.output}${args.length ? `\n\n${args.join('\n')}` : ''}`;
}

function layerSignature(spec: LayerSpec): { label: string; params: ParameterInformation[] } {
  let label = spec.keyword;
  const params: ParameterInformation[] = [];
  for (const a of spec.args) {
    const text = a.positional ? (a.required ? a.name : `[${a.name}]`) : `${a.name}=${a.default ?? '…'}`;
    label += ' ';
    params.push({ label: [label.length, label.length + text.length], documentation: a.doc });
    label += text;
  }
  return { label, params };
}

/**
 * Shaped for the client: a snippet only to a client with snippet support (else the keyword or
 * name alone, which the client inserts as typed text: a placeholder such as `${1:2}` or a block's
 * parameter names would land literally), Markdown documentation only where it renders, and the
 * signature-help command only to a client that can run it.
 */
function adapt(items: CompletionItem[], client: ClientFeatures): CompletionItem[] {
  for (const item of items) {
    if (item.insertTextFormat === InsertTextFormat.Snippet && !client.snippets) {
      delete item.insertText;
      delete item.insertTextFormat;
      delete item.command;
    }
    if (item.command && !client.commands.has(item.command.command)) delete item.command;
    if (!client.markdownCompletion && typeof item.documentation === 'object') item.documentation = item.documentation.value;
  }
  return items;
}

export function completions(model: DocModel, offset: number, client: ClientFeatures): CompletionItem[] {
  return adapt(completionItems(model, offset), client);
}

function completionItems(model: DocModel, offset: number): CompletionItem[] {
  const where = whereIs(model.text, offset);
  const stmt = currentStatement(model, offset);
  // The block the cursor is in, by the text (its tree may end early while one types).
  const outer = where.scopes[0];
  const blockName = outer?.scope === 'block' ? /^block\s+([A-Za-z_]\w*)/.exec(outer.head)?.[1] : undefined;
  const def = (blockName ? model.blocks.get(blockName) : undefined) ?? model.definitionAt(offset);
  const params = paramsInScope(def, offset);
  const paramItems = (): CompletionItem[] =>
    params.map((p) => ({
      label: p,
      kind: CompletionItemKind.Variable,
      detail: def?.kind === 'block' && def.params.some((x) => x.name.text === p) ? `parameter of ${def.name.text}` : 'repeat index',
      sortText: `0${p}`,
    }));

  if (!where.scopes.length) {
    if (/^\s*\w*$/.test(stmt))
      return [
        { label: 'network', kind: CompletionItemKind.Keyword, insertText: 'network ${1:Net} {\n\tinput ${2:3x224x224}\n\t$0\n}', insertTextFormat: InsertTextFormat.Snippet },
        { label: 'block', kind: CompletionItemKind.Keyword, insertText: 'block ${1:Name}(${2:c}) {\n\t$0\n}', insertTextFormat: InsertTextFormat.Snippet },
      ];
    return [];
  }
  const inner = where.scopes[where.scopes.length - 1].scope;

  // Statement start: layers, blocks, keywords; directly in a merge only its branches.
  if (/^\s*\w*$/.test(stmt)) {
    const branch: CompletionItem = { label: 'branch', kind: CompletionItemKind.Keyword, detail: 'a branch of add, concat or mul', insertText: 'branch {\n\t$0\n}', insertTextFormat: InsertTextFormat.Snippet, sortText: '0branch' };
    if (inner === 'merge') return [branch];
    const items: CompletionItem[] = [];
    // Right after a residual's body: its shortcut.
    if (where.justClosed === 'residual') {
      items.push({ label: 'shortcut', kind: CompletionItemKind.Keyword, detail: 'the residual\'s projection: output = body(x) + shortcut(x)', insertText: 'shortcut {\n\t$0\n}', insertTextFormat: InsertTextFormat.Snippet, sortText: '0shortcut' });
    }
    for (const spec of LAYERS) {
      for (const name of [spec.keyword, ...spec.aliases]) {
        items.push({
          label: name,
          kind: CompletionItemKind.Function,
          detail: name === spec.keyword ? `layer → ${spec.output}` : `alias of ${spec.keyword}`,
          documentation: { kind: 'markdown', value: layerDoc(spec) },
          sortText: `1${name}`,
        });
      }
    }
    for (const b of model.blocks.values()) {
      const sig = signatureOf(b, model.text);
      const required = b.params.filter((p) => !p.default);
      items.push({
        label: b.name.text,
        kind: CompletionItemKind.Module,
        detail: `block ${sig}`,
        documentation: { kind: 'markdown', value: `\`\`\`cnn\nblock ${sig}\n\`\`\`` },
        insertText: `${b.name.text}(${required.map((p, i) => `\${${i + 1}:${p.name.text}}`).join(', ')})$0`,
        insertTextFormat: InsertTextFormat.Snippet,
        command: { title: 'Signature help', command: TRIGGER_PARAMETER_HINTS },
        sortText: `2${b.name.text}`,
      });
    }
    for (const [kw, snippet, doc] of STATEMENT_KEYWORDS) {
      items.push({ label: kw, kind: CompletionItemKind.Keyword, detail: doc, insertText: snippet, insertTextFormat: InsertTextFormat.Snippet, sortText: `3${kw}` });
    }
    return items;
  }

  // Inside a block call's parentheses.
  const call = /^\s*([A-Za-z_]\w*)\s*\(([^()]*)$/.exec(stmt);
  if (call) {
    const b = model.blocks.get(call[1]);
    const argsText = call[2];
    if (/=\s*[\w.]*$/.test(argsText)) return [...paramItems(), ...boolItems()];
    if (!b) return paramItems();
    const given = new Set([...argsText.matchAll(/([A-Za-z_]\w*)\s*=/g)].map((m) => m[1]));
    const items: CompletionItem[] = b.params
      .filter((p) => !given.has(p.name.text))
      .map((p) => ({
        label: `${p.name.text}=`,
        kind: CompletionItemKind.Property,
        detail: p.default ? `default ${model.text.slice(p.default.range.start.offset, p.default.range.end.offset)}` : 'required',
        documentation: `parameter of ${signatureOf(b, model.text)}`,
        sortText: `0${p.name.text}`,
      }));
    return [...items, ...paramItems()];
  }

  // After a layer keyword: argument names, or values after `=`.
  const layer = /^\s*([A-Za-z_]\w*)\s+(.*)$/.exec(stmt);
  if (layer) {
    const spec = layerSpec(layer[1]);
    if (!spec) return [];
    const argsText = layer[2];
    const value = /([A-Za-z_]\w*)=[\w.]*$/.exec(argsText);
    if (value) {
      const a = argSpec(spec, value[1]);
      // A choice is one of its words, never a parameter (the binding takes only the bare words).
      if (a?.type === 'choice') return (a.choices ?? []).map((c) => ({ label: c, kind: CompletionItemKind.EnumMember, detail: c === a.default ? 'default' : undefined, sortText: `1${c}` }));
      const items = paramItems();
      if (a?.type === 'pad') items.push({ label: 'same', kind: CompletionItemKind.Constant, detail: 'P = D·(K−1)/2: keeps the size at stride 1', sortText: '1same' });
      if (a?.type === 'bool') items.push(...boolItems());
      if (a?.default && a.default !== 'k') items.push({ label: a.default, kind: CompletionItemKind.Value, detail: 'default', sortText: '2' });
      return items;
    }
    const given = new Set([...argsText.matchAll(/([A-Za-z_]\w*)\s*=/g)].map((m) => argSpec(spec, m[1])?.name));
    // Positional values already written (whole words before the one being typed) bind in order.
    const words = argsText.split(/\s+/);
    words.pop();
    const byPosition = words.filter((w) => w && !w.includes('=')).length;
    spec.args.filter((a) => a.positional).slice(0, byPosition).forEach((a) => given.add(a.name));
    const items: CompletionItem[] = spec.args
      .filter((a) => !given.has(a.name))
      .map((a) => ({
        label: `${a.name}=`,
        kind: CompletionItemKind.Property,
        detail: a.default ? `default ${a.default}` : a.required ? 'required' : undefined,
        documentation: { kind: 'markdown', value: `${a.doc}${a.aliases.length ? `\n\nAliases: ${a.aliases.map((x) => `\`${x}\``).join(', ')}` : ''}` },
        filterText: a.name,
        sortText: `${a.required ? 0 : 1}${spec.args.indexOf(a)}`,
      }));
    return [...items, ...paramItems()];
  }
  return [];
}

function boolItems(): CompletionItem[] {
  return ['true', 'false'].map((b) => ({ label: b, kind: CompletionItemKind.Constant, sortText: `1${b}` }));
}

export function signatureHelp(model: DocModel, offset: number): SignatureHelp | undefined {
  const stmt = currentStatement(model, offset);
  const call = /^\s*([A-Za-z_]\w*)\s*\(([^()]*)$/.exec(stmt);
  if (call) {
    const b = model.blocks.get(call[1]);
    if (!b) return undefined;
    let label = `${b.name.text}(`;
    const params: ParameterInformation[] = b.params.map((p, i) => {
      const text = p.default ? `${p.name.text}=${model.text.slice(p.default.range.start.offset, p.default.range.end.offset)}` : p.name.text;
      if (i) label += ', ';
      const info: ParameterInformation = { label: [label.length, label.length + text.length] };
      label += text;
      return info;
    });
    label += ')';
    const parts = call[2].split(',');
    const cur = parts[parts.length - 1];
    const named = /^\s*([A-Za-z_]\w*)\s*=/.exec(cur);
    let active = parts.length - 1;
    if (named) active = b.params.findIndex((p) => p.name.text === named[1]);
    return { signatures: [{ label, parameters: params, documentation: `block ${b.name.text}` }], activeSignature: 0, activeParameter: active < 0 ? undefined : active };
  }
  const layer = /^\s*([A-Za-z_]\w*)\s+(.*)$/.exec(stmt);
  const spec = layer ? layerSpec(layer[1]) : undefined;
  if (!layer || !spec || !spec.args.length) return undefined;
  const { label, params } = layerSignature(spec);
  const words = layer[2].split(/\s+/).filter(Boolean);
  const typing = /\S$/.test(layer[2]);
  const cur = typing ? words[words.length - 1] : '';
  let active: number | undefined;
  const named = /^([A-Za-z_]\w*)=/.exec(cur ?? '');
  if (named) {
    const a = argSpec(spec, named[1]);
    active = a ? spec.args.indexOf(a) : undefined;
  } else {
    const positional = words.filter((w) => !w.includes('=')).length - (typing ? 1 : 0);
    const pos = spec.args.filter((a) => a.positional);
    active = positional < pos.length ? spec.args.indexOf(pos[positional]) : undefined;
  }
  return { signatures: [{ label, parameters: params, documentation: spec.doc }], activeSignature: 0, activeParameter: active };
}
