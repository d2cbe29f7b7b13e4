import type { IRecognitionException, IToken, TokenType } from 'chevrotain';
import type { Diagnostic } from './diagnostics';
import type { CnnFile } from './ast';
import { cstToAst } from './cst-to-ast';
import { allStatements, fastParse, type Reuse } from './fast-parse';
import * as T from './lexer';
import { parseTokens } from './parser';
import { LineIndex, type Range } from './range';

export interface ParseResult {
  file: CnnFile;
  diagnostics: Diagnostic[];
  lines: LineIndex;
  tokens: IToken[];
}

const TOKEN_TEXT = new Map<TokenType, string>([
  [T.LBrace, "'{'"],
  [T.RBrace, "'}'"],
  [T.LParen, "'('"],
  [T.RParen, "')'"],
  [T.Comma, "','"],
  [T.Colon, "':'"],
  [T.Equals, "'='"],
  [T.Ident, 'a name'],
  [T.NumberLit, 'a number'],
  [T.Dims, 'a size like 3x224x224'],
  [T.Newline, 'a new line'],
  [T.Semicolon, "';'"],
]);

function describeExpected(e: IRecognitionException): string | undefined {
  const m = /Expecting token of type --> (\w+) <--/.exec(e.message);
  if (!m) return undefined;
  const type = T.allTokens.find((t) => t.name === m[1]);
  return type ? (TOKEN_TEXT.get(type) ?? `'${String(type.PATTERN).slice(1, -1)}'`) : undefined;
}

function found(tok: IToken): string {
  if (tok.tokenType === T.Newline) return 'the end of the line';
  if (!tok.image || Number.isNaN(tok.startOffset)) return 'the end of the file';
  return `'${tok.image}'`;
}

function syntaxMessage(e: IRecognitionException): string {
  const expected = describeExpected(e);
  const what = found(e.token);
  switch (e.name) {
    case 'MismatchedTokenException':
      return expected ? `expected ${expected} but found ${what}` : `unexpected ${what}`;
    case 'NotAllInputParsedException':
      return `unexpected ${what}: only 'network' and 'block' definitions may stand at the top level`;
    case 'EarlyExitException':
      return `expected a value but found ${what}`;
    default:
      if (e.context?.ruleStack?.some((r) => r === 'expr' || r === 'arg')) return `expected a value but found ${what}`;
      return `unexpected ${what}`;
  }
}

/**
 * text → AST, with every lexical and syntax error as a diagnostic. A file without errors takes
 * the hand-written parser (`fast-parse.ts`); one with errors, chevrotain's, which recovers
 * and explains. Both give the same AST; the tokens are lexed when first asked for.
 */
export function parse(text: string): ParseResult {
  const file = fastParse(text);
  return file ? fastResult(text, file) : chevrotainParse(text);
}

function fastResult(text: string, file: CnnFile): ParseResult {
  let tokens: IToken[] | undefined;
  return {
    file,
    diagnostics: [],
    lines: new LineIndex(text),
    get tokens(): IToken[] {
      return (tokens ??= T.lex(text).tokens);
    },
  };
}

/**
 * `parse` for one document from version to version: statements in the text the new version
 * shares with the last one (before the first change, or after the last one) are taken over
 * from the last tree, the ones after the change moved in place. The last tree is therefore
 * not to be used once a newer version is parsed. Same results as `parse`.
 */
export class IncrementalParser {
  private text?: string;
  private file?: CnnFile;
  /** Statements taken over, over all parses (for tests and logs). */
  reused = 0;

  parse(text: string): ParseResult {
    let reuse: Reuse | undefined;
    const old = this.text;
    if (this.file && old !== undefined) {
      const max = Math.min(old.length, text.length);
      let p = 0;
      while (p < max && old.charCodeAt(p) === text.charCodeAt(p)) p++;
      let q = 0;
      while (q < max - p && old.charCodeAt(old.length - 1 - q) === text.charCodeAt(text.length - 1 - q)) q++;
      const statements = allStatements(this.file);
      const starts = statements.map((s) => s.range.start.offset);
      reuse = { statements, starts, prefix: p, oldSuffix: old.length - q, delta: text.length - old.length, reused: 0 };
    }
    // Parts of the last tree may move into the new one: it is not a base for later parses.
    this.file = undefined;
    this.text = undefined;
    const file = fastParse(text, reuse);
    if (reuse) this.reused += reuse.reused;
    if (!file) return chevrotainParse(text);
    this.file = file;
    this.text = text;
    return fastResult(text, file);
  }
}

/** text → tokens → CST → AST with chevrotain, with every lexical and syntax error as a diagnostic. */
export function chevrotainParse(text: string): ParseResult {
  const lines = new LineIndex(text);
  const lexed = T.lex(text);
  const diagnostics: Diagnostic[] = [];
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + Math.max(1, e.length));
    diagnostics.push({
      code: 'lex',
      severity: 'error',
      range: lines.range(e.offset, e.offset + Math.max(1, e.length)),
      message: `unexpected character${e.length > 1 ? 's' : ''} '${ch}'`,
    });
  }
  for (const c of lexed.openComments) {
    diagnostics.push({
      code: 'lex',
      severity: 'error',
      range: lines.range(c.startOffset, c.startOffset + 2),
      message: "this '/*' comment is never closed: add '*/'",
    });
  }
  const { cst, errors } = parseTokens(lexed.tokens);
  for (const e of errors) {
    const tok = e.token;
    let range: Range;
    if (!tok || Number.isNaN(tok.startOffset) || tok.tokenType.name === 'EOF') {
      const last = lexed.tokens[lexed.tokens.length - 1];
      const at = last ? last.endOffset! + 1 : text.length;
      range = lines.range(at, at);
    } else if (tok.tokenType === T.Newline) {
      range = lines.range(tok.startOffset, tok.startOffset);
    } else {
      range = lines.range(tok.startOffset, tok.endOffset! + 1);
    }
    diagnostics.push({ code: 'syntax', severity: 'error', range, message: syntaxMessage(e) });
  }
  const file = cstToAst(cst, lines);
  return { file, diagnostics, lines, tokens: lexed.tokens };
}
