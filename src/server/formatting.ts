/**
 * The canonical layout of a .cnn file: indentation by brace (and parenthesis) depth (two
 * spaces, or the editor's tab size and tabs-or-spaces), one space between arguments, none around `=` or inside parentheses, `name: stmt`
 * labels, `a, b` lists, `{ x }` on one line, at most one blank line in a row, no trailing
 * spaces, one final newline. Line breaks stay where the author put them, and so does the
 * spacing around operators (`4*c` and `4 * c` both stay), because a space separates
 * arguments. Files with syntax errors are left alone, and the result is checked to hold the
 * same tokens as the input.
 */
import type { IToken } from 'chevrotain';
import { parse } from '../language';
import { commentsOf } from './comments';

interface Atom {
  start: number;
  end: number;
  text: string;
  /** Token type name, or `LineComment` / `BlockComment`. */
  type: string;
  operator: boolean;
}

export interface FormatOptions {
  /** One level of indentation: two spaces unless the editor says otherwise. */
  indent?: string;
}

/** The indentation unit LSP's `FormattingOptions` ask for. */
export function indentUnit(tabSize: number, insertSpaces: boolean): string {
  return insertSpaces ? ' '.repeat(Math.max(1, Math.min(tabSize, 16))) : '\t';
}

function atomsOf(text: string, tokens: readonly IToken[]): Atom[] {
  const atoms: Atom[] = [];
  for (const t of tokens) {
    if (t.tokenType.name === 'Newline') continue;
    const cats = t.tokenType.CATEGORIES?.map((c) => c.name) ?? [];
    atoms.push({
      start: t.startOffset,
      end: (t.endOffset ?? t.startOffset) + 1,
      text: t.image,
      type: t.tokenType.name,
      operator: cats.includes('BinaryOp') || t.tokenType.name === 'Bang',
    });
  }
  for (const c of commentsOf(text)) {
    atoms.push({ start: c.start, end: c.end, text: text.slice(c.start, c.end), type: c.block ? 'BlockComment' : 'LineComment', operator: false });
  }
  return atoms.sort((a, b) => a.start - b.start);
}

function space(a: Atom, b: Atom, gap: string): string {
  if (b.type === 'LineComment' || b.type === 'BlockComment') return /^ +$/.test(gap) ? gap : ' ';
  if (a.type === 'BlockComment') return ' ';
  if (b.type === 'Comma' || b.type === 'Semicolon' || b.type === 'RParen' || b.type === 'Colon') return '';
  if (a.type === 'LParen') return '';
  if (a.type === 'Equals' || b.type === 'Equals') return '';
  if (b.type === 'LParen') return a.type === 'Ident' ? '' : gap.length ? ' ' : '';
  if (a.type === 'Comma' || a.type === 'Semicolon' || a.type === 'Colon') return ' ';
  if (a.type === 'LBrace' || b.type === 'LBrace' || a.type === 'RBrace' || b.type === 'RBrace') return ' ';
  if (a.operator || b.operator) return gap.length ? ' ' : '';
  return ' ';
}

function signature(text: string): string[] | undefined {
  const p = parse(text);
  if (p.diagnostics.some((d) => d.code === 'lex' || d.code === 'syntax')) return undefined;
  return atomsOf(text, p.tokens).map((a) => (a.type === 'LineComment' ? a.text.trimEnd() : a.text));
}

/** The formatted text, or undefined when the file has syntax errors. */
export function formatText(text: string, options: FormatOptions = {}): string | undefined {
  const INDENT = options.indent ?? '  ';
  const parsed = parse(text);
  if (parsed.diagnostics.some((d) => d.code === 'lex' || d.code === 'syntax')) return undefined;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lineOf = (o: number) => parsed.lines.positionAt(o).line;
  const atoms = atomsOf(text, parsed.tokens);
  let out = '';
  let braces = 0;
  let parens = 0;
  let prev: Atom | undefined;
  for (const a of atoms) {
    if (!prev) {
      out += a.text;
    } else {
      const breaks = lineOf(a.start) - lineOf(prev.end);
      if (breaks > 0) {
        const closing = a.type === 'RBrace' ? 1 : 0;
        const closingParen = a.type === 'RParen' ? 1 : 0;
        const depth = Math.max(0, braces - closing) + Math.max(0, parens - closingParen);
        out += eol.repeat(Math.min(breaks, 2)) + INDENT.repeat(depth) + a.text;
      } else {
        out += space(prev, a, text.slice(prev.end, a.start)) + a.text;
      }
    }
    if (a.type === 'LBrace') {
      braces++;
      parens = 0;
    } else if (a.type === 'RBrace') {
      braces = Math.max(0, braces - 1);
      parens = 0;
    } else if (a.type === 'LParen') parens++;
    else if (a.type === 'RParen') parens = Math.max(0, parens - 1);
    prev = a;
  }
  out = out
    .split(eol)
    .map((l) => l.replace(/[ \t]+$/, ''))
    .join(eol);
  out = out.length ? out + eol : out;
  const before = signature(text);
  const after = signature(out);
  if (!before || !after || before.length !== after.length || before.some((t, i) => t !== after[i])) return undefined;
  return out;
}
