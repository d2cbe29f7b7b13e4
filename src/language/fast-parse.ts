import * as A from './ast';
import { collectStatements, PRECEDENCE } from './ast';
import type { Position, Range } from './range';

/**
 * A hand-written scanner and recursive-descent parser for files without a lexical or syntax
 * error: it builds the same AST as chevrotain's parser and the CST visitor, about ten times
 * faster and with far less garbage, straight from the text. On the first thing it does not
 * expect it gives up (returns undefined) and `parse` takes the chevrotain path, which has the
 * error recovery and the messages. It accepts a subset of what chevrotain accepts and never
 * more: every decision here is the one chevrotain's greedy LL(k) lookahead takes
 * (test/language/fast-parse.test.ts compares the two on every example and on random files).
 */

// Token kinds.
const EOF = 0;
const NEWLINE = 1;
const SEMI = 2;
const LBRACE = 3;
const RBRACE = 4;
const LPAREN = 5;
const RPAREN = 6;
const COMMA = 7;
const COLON = 8;
const EQUALS = 9;
const BANG = 10;
/** Binary operators, `+` and `-` included (which are also prefixes). */
const OROR = 11;
const ANDAND = 12;
const COMPARE = 13;
const ADDITIVE = 14;
const MULTIPLICATIVE = 15;
const NUMBER = 16;
const DIMS = 17;
const IDENT = 18;
// Keywords.
const NETWORK = 19;
const BLOCK = 20;
const REPEAT = 21;
const RESIDUAL = 22;
const SHORTCUT = 23;
const ADD = 24;
const CONCAT = 25;
const BRANCH = 26;
const AUX = 27;
const IF = 28;
const ELSE = 29;
const TRUE = 30;
const FALSE = 31;

const KEYWORD_KINDS = new Map<string, number>([
  ['network', NETWORK],
  ['block', BLOCK],
  ['repeat', REPEAT],
  ['residual', RESIDUAL],
  ['shortcut', SHORTCUT],
  ['add', ADD],
  ['concat', CONCAT],
  ['branch', BRANCH],
  ['aux', AUX],
  ['if', IF],
  ['else', ELSE],
  ['true', TRUE],
  ['false', FALSE],
]);

/** A call's arguments while they are read. */
const ARGS: A.Arg[] = [];

class Bail {}
const BAIL = new Bail();

// Token buffers, reused from parse to parse (a parse runs to completion before the next).
let kinds = new Uint8Array(1024);
let starts = new Int32Array(1024);
/** Exclusive. */
let ends = new Int32Array(1024);
let lines = new Int32Array(1024);
let lineStarts = new Int32Array(1024);

function grow(n: number): void {
  if (n <= kinds.length) return;
  let size = kinds.length;
  while (size < n) size *= 2;
  const k = new Uint8Array(size);
  k.set(kinds);
  kinds = k;
  const s = new Int32Array(size);
  s.set(starts);
  starts = s;
  const e = new Int32Array(size);
  e.set(ends);
  ends = e;
  const l = new Int32Array(size);
  l.set(lines);
  lines = l;
  const ls = new Int32Array(size);
  ls.set(lineStarts);
  lineStarts = ls;
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
 * none before `shortcut` or `else`. Returns the token count, or -1 where the lexer would
 * report an error.
 */
function scan(text: string): number {
  const len = text.length;
  grow(Math.min(len + 2, 1 << 16));
  let n = 0;
  let line = 0;
  let lineStart = 0;
  let depth = 0;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    // Whitespace: [ \t\r\f]+
    if (c === 32 || c === 9 || c === 13 || c === 12) {
      i++;
      continue;
    }
    if (c === 10) {
      const at = i++;
      const nl = line;
      const nlStart = lineStart;
      line++;
      lineStart = i;
      if (depth > 0) continue;
      if (n > 0 && kinds[n - 1] === NEWLINE) continue;
      if (n + 1 >= kinds.length) grow(n + 2);
      kinds[n] = NEWLINE;
      starts[n] = at;
      ends[n] = at + 1;
      lines[n] = nl;
      lineStarts[n] = nlStart;
      n++;
      continue;
    }
    if (c === 47 /* / */) {
      const d = text.charCodeAt(i + 1);
      if (d === 42 /* * */) {
        const close = text.indexOf('*/', i + 2);
        if (close < 0) return -1; // an unclosed comment: the lexer reports it
        for (let j = i + 2; j < close; j++) {
          if (text.charCodeAt(j) === 10) {
            line++;
            lineStart = j + 1;
          }
        }
        i = close + 2;
        continue;
      }
      if (d === 47) {
        const nl = text.indexOf('\n', i + 2);
        i = nl < 0 ? len : nl;
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
        kind = LBRACE;
        depth = 0;
        i++;
        break;
      case 125:
        kind = RBRACE;
        depth = 0;
        i++;
        break;
      case 40:
        kind = LPAREN;
        depth++;
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
        if (text.charCodeAt(i + 1) !== 124) return -1;
        kind = OROR;
        i += 2;
        break;
      case 38: // &
        if (text.charCodeAt(i + 1) !== 38) return -1;
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
          kind = j - start <= 8 ? (KEYWORD_KINDS.get(intern(text, start, j)) ?? IDENT) : IDENT;
        } else {
          return -1; // a character no token starts with
        }
    }
    if (kind === SHORTCUT || kind === ELSE) {
      while (n > 0 && kinds[n - 1] === NEWLINE) n--;
    }
    if (n + 1 >= kinds.length) grow(n + 2);
    kinds[n] = kind;
    starts[n] = start;
    ends[n] = i;
    lines[n] = line;
    lineStarts[n] = lineStart;
    n++;
  }
  if (n + 1 >= kinds.length) grow(n + 2);
  kinds[n] = EOF;
  starts[n] = len;
  ends[n] = len;
  lines[n] = line;
  lineStarts[n] = lineStart;
  return n;
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

function intern(text: string, start: number, end: number): string {
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

const BINARY_OPS: Record<string, A.BinaryOp> = {
  '||': '||',
  '&&': '&&',
  '==': '==',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  '%': '%',
};

/**
 * The previous version of a text and its AST, for an incremental parse: statements that lie
 * wholly in the text both versions share (before the first change, or after the last) are
 * taken over rather than parsed again; see `tryReuse`.
 */
export interface Reuse {
  /** The previous version's statements at every depth, in source order. */
  statements: A.Statement[];
  /** Their start offsets, read before any of them moves. */
  starts: number[];
  /** Length of the text both versions start with. */
  prefix: number;
  /** Where the text both versions end with starts, in the old text. */
  oldSuffix: number;
  /** New offset minus old offset in that shared end. */
  delta: number;
  /** Statements taken over (a counter for tests and logs). */
  reused: number;
}

class Parser {
  /** Index of the current token. */
  private t = 0;
  /** End position of the last token consumed: where a node's range ends. */
  private last!: Position;
  /** Next candidate in `reuse.statements`: the parse only moves forward. */
  private cursor = 0;

  constructor(
    private readonly text: string,
    private readonly n: number,
    private readonly reuse?: Reuse,
  ) {}

  /**
   * Takes over the previous version's statement that starts here, if it lies in text both
   * versions share and so do the two tokens after it (which decided where it ends). One in the
   * shared end moves by the change in length and lines, in place: the old tree is not used
   * again. Returns undefined where the statement must be parsed.
   */
  private tryReuse(): A.Statement | undefined {
    const r = this.reuse!;
    const t = this.t;
    const o = starts[t];
    const inPrefix = o < r.prefix;
    const old = inPrefix ? o : o - r.delta;
    if (!inPrefix && old < r.oldSuffix) return undefined;
    const list = r.statements;
    // Old offsets as they were: statements taken over have moved (and their inner ones with them).
    while (this.cursor < list.length && r.starts[this.cursor] < old) this.cursor++;
    if (this.cursor >= list.length || r.starts[this.cursor] !== old) return undefined;
    const s = list[this.cursor];
    const end = s.range.end.offset + (inPrefix ? 0 : r.delta);
    // The first token after the statement.
    let lo = t + 1;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < end) lo = mid + 1;
      else hi = mid;
    }
    const next = lo;
    if (next > 0 && ends[next - 1] !== end) return undefined;
    if (inPrefix) {
      if (next + 1 > this.n || ends[next + 1] > r.prefix) return undefined;
    } else {
      const dLine = lines[t] - s.range.start.line;
      if (o - lineStarts[t] !== s.range.start.character) return undefined;
      if (r.delta !== 0 || dLine !== 0) {
        eachPosition(s, (p) => {
          if (p.character >= 0) {
            p.offset += r.delta;
            p.line += dLine;
            p.character = -1 - p.character;
          }
        });
        eachPosition(s, (p) => {
          if (p.character < 0) p.character = -1 - p.character;
        });
      }
    }
    r.reused++;
    this.cursor++;
    this.t = next;
    this.last = s.range.end;
    return s;
  }

  // ----- tokens and positions -----

  private kind(): number {
    return kinds[this.t];
  }

  private startOf(t: number): Position {
    return { line: lines[t], character: starts[t] - lineStarts[t], offset: starts[t] };
  }

  private endOf(t: number): Position {
    return { line: lines[t], character: ends[t] - lineStarts[t], offset: ends[t] };
  }

  private expect(kind: number): number {
    const t = this.t;
    if (kinds[t] !== kind) throw BAIL;
    this.t = t + 1;
    return t;
  }

  /** Consumes a token and returns its range; its end becomes the last position. */
  private rangeOf(t: number): Range {
    const end = this.endOf(t);
    this.last = end;
    return { start: this.startOf(t), end };
  }

  private image(t: number): string {
    return intern(this.text, starts[t], ends[t]);
  }

  private name(kind: number): A.Name {
    const t = this.expect(kind);
    return { text: this.image(t), range: this.rangeOf(t) };
  }

  private labelAhead(): boolean {
    return kinds[this.t] === IDENT && kinds[this.t + 1] === COLON;
  }

  private label(): A.Name {
    const name = this.name(IDENT);
    this.expect(COLON);
    return name;
  }

  // ----- definitions -----

  file(): A.CnnFile {
    const definitions: A.Definition[] = [];
    for (;;) {
      const k = this.kind();
      if (k === NEWLINE || k === SEMI) this.t++;
      else if (k === NETWORK) definitions.push(this.network());
      else if (k === BLOCK) definitions.push(this.block());
      else if (k === EOF) return { definitions };
      else throw BAIL;
    }
  }

  private network(): A.NetworkDef {
    const kw = this.expect(NETWORK);
    const start = this.startOf(kw);
    const name = this.name(IDENT);
    const body = this.body();
    return { kind: 'network', name, body, range: { start, end: body.range.end } };
  }

  private block(): A.BlockDef {
    const kw = this.expect(BLOCK);
    const start = this.startOf(kw);
    const name = this.name(IDENT);
    const params: A.Param[] = [];
    let paramsRange: Range | undefined;
    if (this.kind() === LPAREN) {
      const lp = this.startOf(this.t++);
      if (this.kind() === IDENT) {
        params.push(this.param());
        while (this.kind() === COMMA) {
          this.t++;
          params.push(this.param());
        }
      }
      const rp = this.expect(RPAREN);
      paramsRange = { start: lp, end: this.endOf(rp) };
    }
    const body = this.body();
    return { kind: 'block', name, params, paramsRange, body, range: { start, end: body.range.end } };
  }

  private param(): A.Param {
    const name = this.name(IDENT);
    let dflt: A.Expr | undefined;
    if (this.kind() === EQUALS) {
      this.t++;
      dflt = this.expr();
    }
    return { name, default: dflt, range: { start: name.range.start, end: this.last } };
  }

  private body(): A.Body {
    const lb = this.expect(LBRACE);
    const start = this.startOf(lb);
    const statements: A.Statement[] = [];
    for (;;) {
      switch (this.kind()) {
        case NEWLINE:
        case SEMI:
          this.t++;
          continue;
        case RBRACE: {
          const end = this.endOf(this.t++);
          this.last = end;
          return { statements, range: { start, end } };
        }
        case IDENT:
        case REPEAT:
        case RESIDUAL:
        case ADD:
        case CONCAT:
        case AUX:
        case IF:
        case LBRACE:
          statements.push((this.reuse && this.tryReuse()) || this.statement());
          continue;
        default:
          throw BAIL;
      }
    }
  }

  // ----- statements -----

  private statement(): A.Statement {
    const label = this.labelAhead() ? this.label() : undefined;
    const t = this.t;
    switch (kinds[t]) {
      case REPEAT: {
        const keyword = this.name(REPEAT);
        const count = this.expr();
        const body = this.body();
        return { kind: 'repeat', keyword, count, body, range: this.span(label, keyword), label };
      }
      case RESIDUAL: {
        const keyword = this.name(RESIDUAL);
        const body = this.body();
        let shortcut: A.ResidualStatement['shortcut'];
        if (this.kind() === SHORTCUT) {
          const sc = this.name(SHORTCUT);
          shortcut = { keyword: sc, body: this.body() };
        }
        return { kind: 'residual', keyword, body, shortcut, range: this.span(label, keyword), label };
      }
      case ADD:
      case CONCAT: {
        const kind = kinds[t] === ADD ? 'add' : 'concat';
        const keyword = this.name(kinds[t]);
        const lb = this.startOf(this.expect(LBRACE));
        const branches: A.BranchDef[] = [];
        let rb: Position | undefined;
        while (!rb) {
          switch (this.kind()) {
            case NEWLINE:
            case SEMI:
              this.t++;
              break;
            case IDENT:
            case BRANCH:
              branches.push(this.branch());
              break;
            case RBRACE:
              rb = this.endOf(this.t++);
              this.last = rb;
              break;
            default:
              throw BAIL;
          }
        }
        return { kind, keyword, branches, body: { statements: [], range: { start: lb, end: rb } }, range: this.span(label, keyword), label };
      }
      case AUX: {
        const keyword = this.name(AUX);
        const body = this.body();
        return { kind: 'aux', keyword, body, range: this.span(label, keyword), label };
      }
      case IF: {
        const s = this.ifStatement() as A.Statement;
        if (label) s.range = { start: label.range.start, end: s.range.end };
        s.label = label;
        return s;
      }
      case LBRACE: {
        const body = this.body();
        const end = this.startOf(t);
        end.character++;
        end.offset++;
        const keyword = { text: '{', range: { start: body.range.start, end } };
        return { kind: 'group', keyword, body, range: label ? { start: label.range.start, end: body.range.end } : body.range, label };
      }
      case IDENT:
        return this.call(label);
      default:
        throw BAIL;
    }
  }

  /** From the label (or the keyword) to the last token: the keyword's own range where that is all. */
  private span(label: A.Name | undefined, keyword: A.Name): Range {
    if (!label && this.last === keyword.range.end) return keyword.range;
    return { start: label ? label.range.start : keyword.range.start, end: this.last };
  }

  private branch(): A.BranchDef {
    const label = this.labelAhead() ? this.label() : undefined;
    const keyword = this.name(BRANCH);
    const body = this.body();
    return { keyword, label, body, range: { start: label ? label.range.start : keyword.range.start, end: body.range.end } };
  }

  private ifStatement(): A.IfStatement {
    const keyword = this.name(IF);
    const condition = this.expr();
    const then = this.body();
    let elsePart: A.IfStatement['else'];
    if (this.kind() === ELSE) {
      const elseKw = this.name(ELSE);
      const k = this.kind();
      if (k === LBRACE) elsePart = { keyword: elseKw, body: this.body() };
      else if (k === IF) elsePart = { keyword: elseKw, body: this.ifStatement() };
      else throw BAIL;
    }
    return { kind: 'if', keyword, condition, then, else: elsePart, range: { start: keyword.range.start, end: this.last } };
  }

  private call(label: A.Name | undefined): A.CallStatement {
    const keyword = this.name(IDENT);
    // Collected in a scratch array (calls do not nest) and copied at their size: `[]` grows
    // by 17 on its first push, and most calls hold 0 to 4 arguments.
    const args = ARGS;
    args.length = 0;
    let argsRange: Range | undefined;
    if (this.kind() === LPAREN) {
      const lp = this.startOf(this.t++);
      if (this.argAhead()) {
        args.push(this.arg());
        while (this.kind() === COMMA) {
          this.t++;
          args.push(this.arg());
        }
      }
      const rp = this.expect(RPAREN);
      this.last = this.endOf(rp);
      argsRange = { start: lp, end: this.last };
    }
    for (;;) {
      if (this.kind() === COMMA) {
        this.t++;
        args.push(this.arg());
      } else if (this.argAhead()) args.push(this.arg());
      else break;
    }
    const own = args.slice();
    args.length = 0;
    return { kind: 'call', keyword, args: own, parenthesized: argsRange !== undefined, argsRange, range: this.span(label, keyword), label };
  }

  private argAhead(): boolean {
    switch (this.kind()) {
      case IDENT:
      case BANG:
      case ADDITIVE:
      case NUMBER:
      case DIMS:
      case TRUE:
      case FALSE:
      case LPAREN:
        return true;
      default:
        return false;
    }
  }

  private arg(): A.Arg {
    let name: A.Name | undefined;
    if (this.kind() === IDENT && kinds[this.t + 1] === EQUALS) {
      name = this.name(IDENT);
      this.t++;
      const start = name.range.start;
      const value = this.expr();
      return { name, value, range: { start, end: this.last } };
    }
    const t = this.t;
    const value = this.expr();
    // A one-token value: the argument's range is the value's.
    if (this.t === t + 1) return { name, value, range: value.range };
    return { name, value, range: { start: this.startOf(t), end: this.last } };
  }

  // ----- expressions -----

  /** Prefixes, operands and binary operators, then precedence climbing, as the visitor does. */
  private expr(): A.Expr {
    const first = this.operand();
    const k = this.kind();
    if (k < OROR || k > MULTIPLICATIVE) return first;
    const operands: A.Expr[] = [first];
    const ops: A.BinaryOp[] = [];
    while (this.kind() >= OROR && this.kind() <= MULTIPLICATIVE) {
      const t = this.t++;
      ops.push(BINARY_OPS[this.text.slice(starts[t], ends[t])]);
      operands.push(this.operand());
    }
    let i = 0;
    const climb = (minPrec: number): A.Expr => {
      let left = operands[i];
      while (i < ops.length && PRECEDENCE[ops[i]] >= minPrec) {
        const op = ops[i];
        i++;
        const right = climb(PRECEDENCE[op] + 1);
        left = { kind: 'binary', op, left, right, range: { start: left.range.start, end: right.range.end } };
      }
      return left;
    };
    return climb(0);
  }

  /** An operand with its prefixes (`-`, `+`, `!`), innermost last. */
  private operand(): A.Expr {
    const k = this.kind();
    if (k === BANG || k === ADDITIVE) {
      const t = this.t++;
      const operand = this.operand();
      const op = this.text.charCodeAt(starts[t]) === 33 ? '!' : this.text.charCodeAt(starts[t]) === 45 ? '-' : '+';
      return { kind: 'unary', op, operand, range: { start: this.startOf(t), end: operand.range.end } };
    }
    const t = this.t;
    switch (k) {
      case NUMBER: {
        this.t++;
        const text = this.image(t);
        return { kind: 'number', value: Number(text), text, range: this.rangeOf(t) };
      }
      case DIMS: {
        this.t++;
        const text = this.image(t);
        return { kind: 'dims', values: text.split(/[xX×]/).map(Number), text, range: this.rangeOf(t) };
      }
      case TRUE:
      case FALSE:
        this.t++;
        return { kind: 'bool', value: k === TRUE, range: this.rangeOf(t) };
      case IDENT:
        this.t++;
        return { kind: 'name', name: this.image(t), range: this.rangeOf(t) };
      case LPAREN:
        return this.group();
      default:
        throw BAIL;
    }
  }

  /** `( e )` is e itself; `(e1, e2)` a tuple. */
  private group(): A.Expr {
    const lp = this.expect(LPAREN);
    const items = [this.expr()];
    while (this.kind() === COMMA) {
      this.t++;
      items.push(this.expr());
    }
    const rp = this.expect(RPAREN);
    const end = this.endOf(rp);
    this.last = end;
    if (items.length === 1) return items[0];
    return { kind: 'tuple', items, range: { start: this.startOf(lp), end } };
  }
}

/**
 * The AST of an error-free file, or undefined where `parse` must take the chevrotain path.
 * With `reuse`, statements of the previous version are taken over where the text is shared
 * (and those after the change are moved in place).
 */
export function fastParse(text: string, reuse?: Reuse): A.CnnFile | undefined {
  const n = scan(text);
  if (n < 0) return undefined;
  try {
    return new Parser(text, n, reuse).file();
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  }
}

/** Every statement of a file at every depth, in source order. */
export function allStatements(file: A.CnnFile): A.Statement[] {
  const out: A.Statement[] = [];
  for (const d of file.definitions) collectStatements(d.body.statements, out);
  return out;
}

function rangePositions(r: Range | undefined, f: (p: Position) => void): void {
  if (!r) return;
  f(r.start);
  f(r.end);
}

function exprPositions(e: A.Expr, f: (p: Position) => void): void {
  rangePositions(e.range, f);
  switch (e.kind) {
    case 'tuple':
      for (const i of e.items) exprPositions(i, f);
      break;
    case 'unary':
      exprPositions(e.operand, f);
      break;
    case 'binary':
      exprPositions(e.left, f);
      exprPositions(e.right, f);
      break;
    default:
      break;
  }
}

function bodyPositions(b: A.Body, f: (p: Position) => void): void {
  rangePositions(b.range, f);
  for (const s of b.statements) eachPosition(s, f);
}

/** Every position in a statement (shared ones more than once). */
function eachPosition(s: A.Statement, f: (p: Position) => void): void {
  rangePositions(s.range, f);
  rangePositions(s.keyword.range, f);
  if (s.label) rangePositions(s.label.range, f);
  // What a statement holds besides its bodies; the bodies follow, by the one tree walk.
  switch (s.kind) {
    case 'call':
      rangePositions(s.argsRange, f);
      for (const a of s.args) {
        rangePositions(a.range, f);
        if (a.name) rangePositions(a.name.range, f);
        exprPositions(a.value, f);
      }
      return;
    case 'repeat':
      exprPositions(s.count, f);
      break;
    case 'residual':
      if (s.shortcut) rangePositions(s.shortcut.keyword.range, f);
      break;
    case 'add':
    case 'concat':
      for (const b of s.branches) {
        rangePositions(b.range, f);
        rangePositions(b.keyword.range, f);
        if (b.label) rangePositions(b.label.range, f);
      }
      break;
    case 'if':
      exprPositions(s.condition, f);
      if (s.else) rangePositions(s.else.keyword.range, f);
      break;
    case 'aux':
    case 'group':
      break;
  }
  for (const b of A.childBodies(s)) bodyPositions(b, f);
  const alt = A.elseIf(s);
  if (alt) eachPosition(alt, f);
}
