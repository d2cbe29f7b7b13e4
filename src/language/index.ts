import type { IToken } from 'chevrotain';
import type { Diagnostic } from './diagnostics';
import type { CnnFile } from './ast';
import { fastParse } from './fast/parser';
import { reuseFrom, type Reuse } from './fast/reuse';
import * as T from './lexer';
import { parseTokens } from './parser';
import { LineIndex } from './range';
import { MAX_SYNTAX_ERRORS, quoteToken } from './tables';

export interface ParseResult {
  file: CnnFile;
  diagnostics: Diagnostic[];
  lines: LineIndex;
  tokens: IToken[];
}

/**
 * text → AST, with every lexical and syntax error as a diagnostic. A file without errors takes
 * the hand-written parser (`fast/`); one with errors, chevrotain's, which recovers and
 * explains. Both give the same AST; the tokens are lexed when first asked for.
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
    const reuse: Reuse | undefined = this.file && this.text !== undefined ? reuseFrom(this.file, this.text, text) : undefined;
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

/** An error found before the tree is built, at an offset. */
interface Problem {
  code: 'lex' | 'syntax';
  start: number;
  end: number;
  message: string;
}

/** text → tokens → AST with chevrotain, with every lexical and syntax error as a diagnostic. */
export function chevrotainParse(text: string): ParseResult {
  const lines = new LineIndex(text);
  const lexed = T.lex(text);
  const problems: Problem[] = [];
  for (const e of lexed.errors) {
    const length = Math.max(1, e.length);
    const chars = text.slice(e.offset, e.offset + length);
    const message = e.own ? e.message : `unexpected character${length > 1 ? 's' : ''} ${quoteToken(chars)}`;
    problems.push({ code: 'lex', start: e.offset, end: e.offset + length, message });
  }
  for (const c of lexed.openComments) {
    problems.push({ code: 'lex', start: c.startOffset, end: c.startOffset + 2, message: "this '/*' comment is never closed: add '*/'" });
  }
  for (const q of lexed.openQuotes) {
    problems.push({ code: 'lex', start: q.startOffset, end: q.startOffset + 1, message: `this quote is never closed: a quoted label ends with '"' on its own line` });
  }
  for (const e of lexed.limits) problems.push({ code: 'syntax', start: e.offset, end: e.offset + e.length, message: e.message });
  const { file, errors, diagnostics: limited } = parseTokens(lexed.tokens, lines);
  const endOfFile = lexed.tokens.length ? lexed.tokens[lexed.tokens.length - 1].endOffset! + 1 : text.length;
  for (const e of errors) {
    const tok = e.token;
    if (!tok || Number.isNaN(tok.startOffset) || tok.tokenType.name === 'EOF') {
      problems.push({ code: 'syntax', start: endOfFile, end: endOfFile, message: e.message });
    } else if (!inCut(lexed.cut, tok.startOffset)) {
      const end = tok.tokenType === T.Newline ? tok.startOffset : tok.endOffset! + 1;
      problems.push({ code: 'syntax', start: tok.startOffset, end, message: e.message });
    }
  }
  for (const d of limited) {
    const start = d.range.start.offset;
    const end = d.range.end.offset;
    // An expression cut short by the lexer's limit is already reported there.
    if (!cutWithin(lexed.cut, start, end)) problems.push({ code: 'syntax', start, end, message: d.message });
  }
  return { file, diagnostics: bounded(problems, lines), lines, tokens: lexed.tokens };
}

/** Whether an offset lies where `lex` left tokens out for a limit (the cuts are in order). */
function inCut(cut: readonly { start: number; end: number }[], offset: number): boolean {
  let lo = 0;
  let hi = cut.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cut[mid].end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < cut.length && cut[lo].start <= offset;
}

/** Whether a cut starts in [start, end). */
function cutWithin(cut: readonly { start: number; end: number }[], start: number, end: number): boolean {
  let lo = 0;
  let hi = cut.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cut[mid].start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < cut.length && cut[lo].start < end;
}

/**
 * The first MAX_SYNTAX_ERRORS problems in source order as diagnostics, and one more that says
 * how many follow: positions are converted only for those shown.
 */
function bounded(problems: Problem[], lines: LineIndex): Diagnostic[] {
  problems.sort((a, b) => a.start - b.start);
  const shown = problems.length > MAX_SYNTAX_ERRORS ? problems.slice(0, MAX_SYNTAX_ERRORS) : problems;
  const out: Diagnostic[] = shown.map((p) => ({ code: p.code, severity: 'error', range: lines.range(p.start, p.end), message: p.message }));
  if (problems.length > shown.length) {
    const next = problems[shown.length];
    const more = problems.length - shown.length;
    out.push({
      code: 'syntax',
      severity: 'error',
      range: lines.range(next.start, next.end),
      message: `${more} more syntax error${more > 1 ? 's' : ''} from here on, not listed: fix the first ones`,
    });
  }
  return out;
}
