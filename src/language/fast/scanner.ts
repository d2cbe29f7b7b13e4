import { KEYWORD_LIST, LONGEST_KEYWORD, MAX_EXPR_DEPTH, type Keyword } from '../tables';

/**
 * The hand-written parser's scanner: the lexer's rules (lexer.ts) on character codes, into
 * typed arrays reused from parse to parse. It reads only files it can vouch for: on a
 * character the lexer would report, an unclosed comment or parentheses past the limit it
 * returns -1 and the file takes chevrotain's path.
 */

// Token kinds.
export const EOF = 0;
export const NEWLINE = 1;
export const SEMI = 2;
export const LBRACE = 3;
export const RBRACE = 4;
export const LPAREN = 5;
export const RPAREN = 6;
export const COMMA = 7;
export const COLON = 8;
export const EQUALS = 9;
export const BANG = 10;
/** Binary operators, OROR to MULTIPLICATIVE, `+` and `-` included (which are also prefixes). */
export const OROR = 11;
export const ANDAND = 12;
export const COMPARE = 13;
export const ADDITIVE = 14;
export const MULTIPLICATIVE = 15;
export const NUMBER = 16;
export const DIMS = 17;
export const IDENT = 18;
/** A quoted label without braces, `"block1-0"`; with interpolations, its pieces `"a{`, `}-{`, `}"`. */
export const STRING = 19;
export const STR_START = 20;
export const STR_MID = 21;
export const STR_END = 22;
/** Keywords follow, in the order of tables.ts's KEYWORD_LIST. */
export const FIRST_KEYWORD = 23;
export const LAST_KEYWORD = FIRST_KEYWORD + KEYWORD_LIST.length - 1;

export function keywordKind(word: Keyword): number {
  return FIRST_KEYWORD + KEYWORD_LIST.indexOf(word);
}

const KEYWORD_KINDS = new Map<string, number>(KEYWORD_LIST.map((k) => [k, keywordKind(k)]));

export const NETWORK = keywordKind('network');
export const BLOCK = keywordKind('block');
export const REPEAT = keywordKind('repeat');
export const RESIDUAL = keywordKind('residual');
export const SHORTCUT = keywordKind('shortcut');
export const ADD = keywordKind('add');
export const CONCAT = keywordKind('concat');
export const BRANCH = keywordKind('branch');
export const AUX = keywordKind('aux');
export const IF = keywordKind('if');
export const ELSE = keywordKind('else');
export const TRUE = keywordKind('true');
export const FALSE = keywordKind('false');

/** The tokens of one text, valid until the next scan (the arrays are shared). */
export interface Scanned {
  /** Tokens before the EOF token, which follows them. */
  n: number;
  kinds: Uint8Array;
  starts: Int32Array;
  /** Exclusive. */
  ends: Int32Array;
  lines: Int32Array;
  /** Offset where each token's line starts. */
  lineStarts: Int32Array;
}

const buffers: Scanned = {
  n: 0,
  kinds: new Uint8Array(1024),
  starts: new Int32Array(1024),
  ends: new Int32Array(1024),
  lines: new Int32Array(1024),
  lineStarts: new Int32Array(1024),
};

function grow(n: number): void {
  const b = buffers;
  if (n <= b.kinds.length) return;
  let size = b.kinds.length;
  while (size < n) size *= 2;
  const k = new Uint8Array(size);
  k.set(b.kinds);
  b.kinds = k;
  for (const key of ['starts', 'ends', 'lines', 'lineStarts'] as const) {
    const a = new Int32Array(size);
    a.set(b[key]);
    b[key] = a;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** `x`, `X` or `×` between the numbers of a size. */
function isTimes(c: number): boolean {
  return c === 120 || c === 88 || c === 215;
}

/**
 * Tokenises with the lexer's rules (first match in the token order, keywords only as whole
 * names) and its statement-end rules: no newline inside `( )`, one newline for a run of them,
 * none before `shortcut` or `else`. `\r\n`, `\n` and a lone `\r` each end a line. Returns the
 * tokens, or undefined where the lexer would report an error or `lex` would apply a limit.
 */
export function scan(text: string): Scanned | undefined {
  const len = text.length;
  grow(Math.min(len + 2, 1 << 16));
  let { kinds, starts, ends, lines, lineStarts } = buffers;
  const room = (n: number): void => {
    if (n < kinds.length) return;
    grow(n + 1);
    ({ kinds, starts, ends, lines, lineStarts } = buffers);
  };
  let n = 0;
  let line = 0;
  let lineStart = 0;
  let depth = 0;
  /** Inside a quoted label's `{ }`: the offset of its closing quote, else -1. */
  let quoteEnd = -1;
  let i = 0;
  while (i < len) {
    // An interpolation runs into its label's closing quote: the lexer reports that.
    if (quoteEnd >= 0 && i >= quoteEnd) return undefined;
    const c = text.charCodeAt(i);
    // Whitespace: [ \t\f]+
    if (c === 32 || c === 9 || c === 12) {
      i++;
      continue;
    }
    if (c === 10 || c === 13) {
      const at = i++;
      if (c === 13 && text.charCodeAt(i) === 10) i++;
      const nl = line;
      const nlStart = lineStart;
      line++;
      lineStart = i;
      if (depth > 0) continue;
      if (n > 0 && kinds[n - 1] === NEWLINE) continue;
      room(n + 1);
      kinds[n] = NEWLINE;
      starts[n] = at;
      ends[n] = i;
      lines[n] = nl;
      lineStarts[n] = nlStart;
      n++;
      continue;
    }
    if (c === 47 /* / */) {
      const d = text.charCodeAt(i + 1);
      // The lexer refuses comments inside a label's { }.
      if (quoteEnd >= 0 && (d === 42 || d === 47)) return undefined;
      if (d === 42 /* * */) {
        const close = text.indexOf('*/', i + 2);
        if (close < 0) return undefined; // an unclosed comment: the lexer reports it
        for (let j = i + 2; j < close; j++) {
          const e = text.charCodeAt(j);
          if (e === 10 || (e === 13 && text.charCodeAt(j + 1) !== 10)) {
            line++;
            lineStart = j + 1;
          }
        }
        i = close + 2;
        continue;
      }
      if (d === 47) {
        let j = i + 2;
        while (j < len) {
          const e = text.charCodeAt(j);
          if (e === 10 || e === 13) break;
          j++;
        }
        i = j;
        continue;
      }
    }
    const start = i;
    let kind: number;
    switch (c) {
      case 59:
        kind = SEMI;
        i++;
        break;
      case 123:
        if (quoteEnd >= 0) return undefined;
        kind = LBRACE;
        depth = 0;
        i++;
        break;
      case 125: {
        if (quoteEnd < 0) {
          kind = RBRACE;
          depth = 0;
          i++;
          break;
        }
        // The end of an interpolation: the label's text goes on to the next '{' or the quote.
        const k = braceOrEnd(text, i + 1, quoteEnd);
        if (k < 0) return undefined;
        if (k < quoteEnd) {
          kind = STR_MID;
          i = k + 1;
        } else {
          kind = STR_END;
          i = quoteEnd + 1;
          quoteEnd = -1;
        }
        break;
      }
      case 34: {
        // A quoted label ends on its line, as the lexer's pattern does.
        let j = i + 1;
        while (j < len) {
          const e = text.charCodeAt(j);
          if (e === 34 || e === 10 || e === 13) break;
          j++;
        }
        if (j >= len || text.charCodeAt(j) !== 34) return undefined;
        const k = braceOrEnd(text, i + 1, j);
        if (k < 0) return undefined;
        if (k === j) {
          kind = STRING;
          i = j + 1;
        } else {
          kind = STR_START;
          i = k + 1;
          quoteEnd = j;
        }
        break;
      }
      case 40:
        kind = LPAREN;
        if (++depth > MAX_EXPR_DEPTH) return undefined;
        i++;
        break;
      case 41:
        kind = RPAREN;
        if (depth > 0) depth--;
        i++;
        break;
      case 44:
        kind = COMMA;
        i++;
        break;
      case 58:
        kind = COLON;
        i++;
        break;
      case 124: // |
        if (text.charCodeAt(i + 1) !== 124) return undefined;
        kind = OROR;
        i += 2;
        break;
      case 38: // &
        if (text.charCodeAt(i + 1) !== 38) return undefined;
        kind = ANDAND;
        i += 2;
        break;
      case 61: // =
        if (text.charCodeAt(i + 1) === 61) {
          kind = COMPARE;
          i += 2;
        } else {
          kind = EQUALS;
          i++;
        }
        break;
      case 33: // !
        if (text.charCodeAt(i + 1) === 61) {
          kind = COMPARE;
          i += 2;
        } else {
          kind = BANG;
          i++;
        }
        break;
      case 60: // <
      case 62: // >
        kind = COMPARE;
        i += text.charCodeAt(i + 1) === 61 ? 2 : 1;
        break;
      case 43:
      case 45:
        kind = ADDITIVE;
        i++;
        break;
      case 42:
      case 47:
      case 37:
        kind = MULTIPLICATIVE;
        i++;
        break;
      default:
        if (isDigit(c)) {
          // Dims: \d+(?:[xX×]\d+)+ first, else a number.
          let j = i + 1;
          while (j < len && isDigit(text.charCodeAt(j))) j++;
          let k = j;
          while (k + 1 < len && isTimes(text.charCodeAt(k)) && isDigit(text.charCodeAt(k + 1))) {
            k += 2;
            while (k < len && isDigit(text.charCodeAt(k))) k++;
          }
          if (k > j) {
            kind = DIMS;
            i = k;
            break;
          }
          if (text.charCodeAt(j) === 46 /* . */) {
            j++;
            while (j < len && isDigit(text.charCodeAt(j))) j++;
          }
          i = exponent(text, j);
          kind = NUMBER;
        } else if (c === 46 && isDigit(text.charCodeAt(i + 1))) {
          let j = i + 2;
          while (j < len && isDigit(text.charCodeAt(j))) j++;
          i = exponent(text, j);
          kind = NUMBER;
        } else if (isIdentStart(c)) {
          let j = i + 1;
          while (j < len && isIdentPart(text.charCodeAt(j))) j++;
          i = j;
          kind = j - start <= LONGEST_KEYWORD ? (KEYWORD_KINDS.get(intern(text, start, j)) ?? IDENT) : IDENT;
        } else {
          return undefined; // a character no token starts with
        }
    }
    if (kind === SHORTCUT || kind === ELSE) {
      while (n > 0 && kinds[n - 1] === NEWLINE) n--;
    }
    room(n + 1);
    kinds[n] = kind;
    starts[n] = start;
    ends[n] = i;
    lines[n] = line;
    lineStarts[n] = lineStart;
    n++;
  }
  room(n + 1);
  kinds[n] = EOF;
  starts[n] = len;
  ends[n] = len;
  lines[n] = line;
  lineStarts[n] = lineStart;
  buffers.n = n;
  return buffers;
}

/**
 * The first `{` at or after `from` and before `end` (a quoted label's closing quote), or `end`
 * where there is none; -1 at a `}` first, which the lexer reports.
 */
function braceOrEnd(text: string, from: number, end: number): number {
  for (let k = from; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c === 123) return k;
    if (c === 125) return -1;
  }
  return end;
}

/** `(?:[eE][+-]?\d+)?` after a number's digits. */
function exponent(text: string, j: number): number {
  const e = text.charCodeAt(j);
  if (e !== 101 && e !== 69) return j;
  let k = j + 1;
  const sign = text.charCodeAt(k);
  if (sign === 43 || sign === 45) k++;
  if (!isDigit(text.charCodeAt(k))) return j;
  while (isDigit(text.charCodeAt(k))) k++;
  return k;
}

/**
 * Names and numbers repeat (`conv`, `k`, `bias`, `3`): one string each instead of one per
 * occurrence. A small direct-mapped table on a hash of the characters.
 */
const INTERN_SIZE = 4096;
const internTable: (string | undefined)[] = new Array(INTERN_SIZE).fill(undefined);

export function intern(text: string, start: number, end: number): string {
  const n = end - start;
  if (n > 16) return text.slice(start, end);
  let h = n;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  const slot = (h ^ (h >>> 12)) & (INTERN_SIZE - 1);
  const hit = internTable[slot];
  if (hit !== undefined && hit.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (hit.charCodeAt(i) !== text.charCodeAt(start + i)) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  const s = text.slice(start, end);
  internTable[slot] = s;
  return s;
}
