import type * as A from '../ast';
import type { Position, Range } from '../range';
import { BINARY_OPS, MAX_BLOCK_DEPTH, MAX_EXPR_DEPTH, PRECEDENCE, quotedLiteral } from '../tables';
import { takeOver, type Reuse } from './reuse';
import {
  ADD,
  ADDITIVE,
  AUX,
  BANG,
  BLOCK,
  BRANCH,
  COLON,
  COMMA,
  CONCAT,
  DIMS,
  ELSE,
  EOF,
  EQUALS,
  FALSE,
  FIRST_KEYWORD,
  IDENT,
  IF,
  intern,
  LAST_KEYWORD,
  LBRACE,
  LPAREN,
  MULTIPLICATIVE,
  NETWORK,
  NEWLINE,
  NUMBER,
  OROR,
  RBRACE,
  REPEAT,
  RESIDUAL,
  RPAREN,
  scan,
  type Scanned,
  SEMI,
  SHORTCUT,
  STR_END,
  STR_MID,
  STR_START,
  STRING,
  TRUE,
} from './scanner';

/**
 * A hand-written recursive-descent parser for files without a lexical or syntax error: it
 * builds the same AST as chevrotain's parser (parser.ts), several times faster and with
 * far less garbage, straight from the scanner's arrays. On the first thing it does not expect,
 * or past a nesting limit, it gives up (returns undefined) and `parse` takes the chevrotain
 * path, which has the error recovery and the messages. It accepts a subset of what chevrotain
 * accepts and never more: every decision here is the one chevrotain's greedy LL(k) lookahead
 * takes (test/language/fast-parse.test.ts compares the two on every example and on random files).
 */

/** A call's arguments while they are read. */
const ARGS: A.Arg[] = [];

class Bail {}
const BAIL = new Bail();

class Parser {
  /** Index of the current token. */
  private t = 0;
  /** End position of the last token consumed: where a node's range ends. */
  private last!: Position;
  /** Block depth of the body being read (tables.ts): the network's or block's is 1. */
  private depth = 0;
  /** Depth of the expression last read, as tables.ts counts it. */
  private exprDepth = 0;
  /** Prefix operators open on the way to the operand being read: bounds the recursion. */
  private prefixes = 0;
  private readonly kinds: Uint8Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly lines: Int32Array;
  private readonly lineStarts: Int32Array;

  constructor(
    private readonly text: string,
    private readonly tokens: Scanned,
    private readonly reuse?: Reuse,
  ) {
    ({ kinds: this.kinds, starts: this.starts, ends: this.ends, lines: this.lines, lineStarts: this.lineStarts } = tokens);
  }

  // ----- tokens and positions -----

  private kind(): number {
    return this.kinds[this.t];
  }

  private startOf(t: number): Position {
    return { line: this.lines[t], character: this.starts[t] - this.lineStarts[t], offset: this.starts[t] };
  }

  private endOf(t: number): Position {
    return { line: this.lines[t], character: this.ends[t] - this.lineStarts[t], offset: this.ends[t] };
  }

  private expect(kind: number): number {
    const t = this.t;
    if (this.kinds[t] !== kind) throw BAIL;
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
    return intern(this.text, this.starts[t], this.ends[t]);
  }

  private name(kind: number): A.Name {
    const t = this.expect(kind);
    return { text: this.image(t), range: this.rangeOf(t) };
  }

  /** A label starts here: a name, keyword or number before ':', or a quote (whose ':' must follow). */
  private labelAhead(): boolean {
    const k = this.kinds[this.t];
    if (k === STRING || k === STR_START) return true;
    return (k === IDENT || k === NUMBER || (k >= FIRST_KEYWORD && k <= LAST_KEYWORD)) && this.kinds[this.t + 1] === COLON;
  }

  private label(): A.Label {
    const k = this.kind();
    const label = k === STRING || k === STR_START ? this.quoted() : this.name(k);
    this.expect(COLON);
    return label;
  }

  /** `"text"`, or `"text{expr}text..."` from its pieces and their expressions. */
  private quoted(): A.Label {
    const t0 = this.t;
    const start = this.startOf(t0);
    const quoted: (string | A.Expr)[] = [];
    const literal = (t: number) => {
      const text = quotedLiteral(this.text.slice(this.starts[t], this.ends[t]));
      if (text) quoted.push(text);
    };
    literal(this.t++);
    if (this.kinds[t0] === STR_START) {
      for (;;) {
        quoted.push(this.expr());
        const k = this.kind();
        if (k !== STR_MID && k !== STR_END) throw BAIL;
        literal(this.t++);
        if (k === STR_END) break;
      }
    }
    const end = this.endOf(this.t - 1);
    this.last = end;
    return { text: this.text.slice(this.starts[t0] + 1, this.ends[this.t - 1] - 1), range: { start, end }, quoted };
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
    if (++this.depth > MAX_BLOCK_DEPTH) throw BAIL;
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
          this.depth--;
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
        case STRING:
        case STR_START:
          statements.push((this.reuse && this.taken()) || this.statement());
          continue;
        default:
          // Any other keyword starts a statement as its label (`block:`).
          if (!this.labelAhead()) throw BAIL;
          statements.push((this.reuse && this.taken()) || this.statement());
          continue;
      }
    }
  }

  private taken(): A.Statement | undefined {
    const got = takeOver(this.reuse!, this.tokens, this.t, this.depth);
    if (!got) return undefined;
    this.t = got.next;
    this.last = got.statement.range.end;
    return got.statement;
  }

  // ----- statements -----

  private statement(): A.Statement {
    const label = this.labelAhead() ? this.label() : undefined;
    const t = this.t;
    switch (this.kinds[t]) {
      case REPEAT: {
        const keyword = this.name(REPEAT);
        const count = this.expr();
        let index: A.Name | undefined;
        // `as` after the count, which no expression goes on with, always binds an index.
        if (this.kind() === IDENT && this.isWord(this.t, 'as')) {
          this.t++;
          index = this.name(IDENT);
        }
        const body = this.body();
        return { kind: 'repeat', keyword, count, index, body, range: this.span(label, keyword), label };
      }
      case RESIDUAL: {
        const keyword = this.name(RESIDUAL);
        const body = this.body();
        let shortcut: A.ResidualStatement['shortcut'];
        if (this.kind() === SHORTCUT && this.kinds[this.t + 1] !== COLON) {
          const sc = this.name(SHORTCUT);
          shortcut = { keyword: sc, body: this.body() };
        }
        return { kind: 'residual', keyword, body, shortcut, range: this.span(label, keyword), label };
      }
      case ADD:
      case CONCAT:
        return this.merge(this.kinds[t] === ADD ? 'add' : 'concat', this.kinds[t], label);
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
        // `mul` is a keyword only before its brace, so names called mul stay names.
        if (this.kinds[t + 1] === LBRACE && this.isWord(t, 'mul')) return this.merge('mul', IDENT, label);
        return this.call(label);
      default:
        throw BAIL;
    }
  }

  /** Whether token `t` is exactly the (contextual keyword) `word`. */
  private isWord(t: number, word: string): boolean {
    return this.ends[t] - this.starts[t] === word.length && this.text.startsWith(word, this.starts[t]);
  }

  /** `add`, `concat` or `mul` with its branches, the keyword token being of kind `token`. */
  private merge(kind: A.MergeStatement['kind'], token: number, label: A.Name | undefined): A.Statement {
    const keyword = this.name(token);
    const lb = this.startOf(this.expect(LBRACE));
    const branches: A.BranchDef[] = [];
    let rb: Position | undefined;
    // The braces of a merge hold only branches, whose bodies are one level deeper.
    if (++this.depth > MAX_BLOCK_DEPTH) throw BAIL;
    while (!rb) {
      switch (this.kind()) {
        case NEWLINE:
        case SEMI:
          this.t++;
          break;
        case IDENT:
        case BRANCH:
        case STRING:
        case STR_START:
          branches.push(this.branch());
          break;
        case RBRACE:
          rb = this.endOf(this.t++);
          this.last = rb;
          break;
        default:
          if (!this.labelAhead()) throw BAIL;
          branches.push(this.branch());
      }
    }
    this.depth--;
    return { kind, keyword, branches, body: { statements: [], range: { start: lb, end: rb } }, range: this.span(label, keyword), label };
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
    if (this.kind() === ELSE && this.kinds[this.t + 1] !== COLON) {
      const elseKw = this.name(ELSE);
      const k = this.kind();
      if (k === LBRACE) elsePart = { keyword: elseKw, body: this.body() };
      else if (k === IF) {
        // An `else if` is an `if` nested in this one: a level deeper.
        this.depth++;
        elsePart = { keyword: elseKw, body: this.ifStatement() };
        this.depth--;
      } else throw BAIL;
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
    if (this.kind() === IDENT && this.kinds[this.t + 1] === EQUALS) {
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
    const depths: number[] = [this.exprDepth];
    const ops: A.BinaryOp[] = [];
    while (this.kind() >= OROR && this.kind() <= MULTIPLICATIVE) {
      const t = this.t++;
      ops.push(BINARY_OPS.get(this.text.slice(this.starts[t], this.ends[t]))!);
      operands.push(this.operand());
      depths.push(this.exprDepth);
    }
    let i = 0;
    let depth = 0;
    // Each call takes operands[i] as its left side, then the operators of at least minPrec;
    // it recurses once per rise in precedence, so at most five deep.
    const climb = (minPrec: number): A.Expr => {
      let left = operands[i];
      let leftDepth = depths[i];
      while (i < ops.length && PRECEDENCE[ops[i]] >= minPrec) {
        const op = ops[i];
        i++;
        const right = climb(PRECEDENCE[op] + 1);
        left = { kind: 'binary', op, left, right, range: { start: left.range.start, end: right.range.end } };
        leftDepth = 1 + Math.max(leftDepth, depth);
      }
      depth = leftDepth;
      return left;
    };
    const e = climb(0);
    if (depth > MAX_EXPR_DEPTH) throw BAIL;
    this.exprDepth = depth;
    return e;
  }

  /** An operand with its prefixes (`-`, `+`, `!`), innermost last. */
  private operand(): A.Expr {
    const k = this.kind();
    if (k === BANG || k === ADDITIVE) {
      const t = this.t++;
      if (++this.prefixes > MAX_EXPR_DEPTH) throw BAIL;
      const operand = this.operand();
      this.prefixes--;
      if (++this.exprDepth > MAX_EXPR_DEPTH) throw BAIL;
      const c = this.text.charCodeAt(this.starts[t]);
      const op = c === 33 ? '!' : c === 45 ? '-' : '+';
      return { kind: 'unary', op, operand, range: { start: this.startOf(t), end: operand.range.end } };
    }
    const t = this.t;
    switch (k) {
      case NUMBER: {
        this.t++;
        this.exprDepth = 1;
        const text = this.image(t);
        return { kind: 'number', value: Number(text), text, range: this.rangeOf(t) };
      }
      case DIMS: {
        this.t++;
        this.exprDepth = 1;
        const text = this.image(t);
        return { kind: 'dims', values: text.split(/[xX×]/).map(Number), text, range: this.rangeOf(t) };
      }
      case TRUE:
      case FALSE:
        this.t++;
        this.exprDepth = 1;
        return { kind: 'bool', value: k === TRUE, range: this.rangeOf(t) };
      case IDENT:
        this.t++;
        this.exprDepth = 1;
        return { kind: 'name', name: this.image(t), range: this.rangeOf(t) };
      case LPAREN:
        return this.group();
      default:
        throw BAIL;
    }
  }

  /** `( e )` is e itself; `(e1, e2)` a tuple, one level deeper than its deepest item. */
  private group(): A.Expr {
    const lp = this.expect(LPAREN);
    const items = [this.expr()];
    let depth = this.exprDepth;
    while (this.kind() === COMMA) {
      this.t++;
      items.push(this.expr());
      depth = Math.max(depth, this.exprDepth);
    }
    const rp = this.expect(RPAREN);
    const end = this.endOf(rp);
    this.last = end;
    if (items.length === 1) {
      this.exprDepth = depth;
      return items[0];
    }
    if (depth + 1 > MAX_EXPR_DEPTH) throw BAIL;
    this.exprDepth = depth + 1;
    return { kind: 'tuple', items, range: { start: this.startOf(lp), end } };
  }
}

/**
 * The AST of an error-free file within the nesting limits, or undefined where `parse` must take
 * the chevrotain path. With `reuse`, statements of the previous version are taken over where
 * the text is shared (and those after the change are moved in place).
 */
export function fastParse(text: string, reuse?: Reuse): A.CnnFile | undefined {
  const tokens = scan(text);
  if (!tokens) return undefined;
  try {
    return new Parser(text, tokens, reuse).file();
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  }
}
