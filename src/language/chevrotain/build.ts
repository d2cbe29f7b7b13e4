import type { IToken } from 'chevrotain';
import type { Diagnostic } from '../diagnostics';
import type * as A from '../ast';
import * as T from '../lexer';
import type { LineIndex, Position, Range } from '../range';
import { EXPR_DEPTH_MESSAGE, MAX_EXPR_DEPTH, PRECEDENCE, quotedLiteral } from '../tables';
import {
  isBinary,
  isGroup,
  type ArgParts,
  type BodyParts,
  type BranchParts,
  type CompoundParts,
  type DefinitionParts,
  type ExprItems,
  type ExprParts,
  type FileParts,
  type GroupParts,
  type LabelParts,
  type ParamParts,
  type Parts,
  type StatementParts,
} from './parts';

/**
 * Turns each rule's parts into its AST node, as the rule ends (or recovery ends it): the
 * positions, the fallbacks where recovery left a part out, precedence, and the expression
 * depth limit. One instance, for one text at a time.
 */
export class TreeBuilder {
  /** The text's lines, for the positions of the tree. */
  lines!: LineIndex;
  /** Expressions past MAX_EXPR_DEPTH (the lexer reports the other limits). */
  diagnostics: Diagnostic[] = [];

  /** Starts on a text. */
  begin(lines: LineIndex): void {
    this.lines = lines;
    this.diagnostics = [];
    this.zero = undefined;
    this.recent.fill(undefined);
  }


  /** The last positions made, a ring of four. */
  private readonly recent: (Position | undefined)[] = [undefined, undefined, undefined, undefined];
  private next = 0;

  /**
   * The position at an offset. A node starts where its first part does and ends where its
   * last part does: those asked for in a row share one object, as the fast parser's do, which
   * spares the garbage collector much of a long file's tree.
   */
  private pos(offset: number): Position {
    const r = this.recent;
    for (let i = 0; i < 4; i++) {
      const p = r[i];
      if (p !== undefined && p.offset === offset) return p;
    }
    const p = this.lines.positionAt(offset);
    r[this.next] = p;
    this.next = (this.next + 1) & 3;
    return p;
  }

  private zero?: Range;

  /** Where a node with no position of its own is put (recovery's inserted tokens have none). */
  private origin(): Range {
    return (this.zero ??= this.lines.range(0, 0));
  }

  private tokenRange(tok: IToken | undefined, fallback: Range): Range {
    if (!tok || Number.isNaN(tok.startOffset) || tok.isInsertedInRecovery) return fallback;
    return { start: this.pos(tok.startOffset), end: this.pos(tok.endOffset! + 1) };
  }

  private spanRange(p: Parts<unknown> | undefined, fallback: Range): Range {
    if (!p || Number.isNaN(p.s)) return fallback;
    const end = Number.isNaN(p.e) ? p.s : p.e + 1;
    return { start: this.pos(p.s), end: this.pos(Math.max(end, p.s)) };
  }

  private name(tok: IToken | undefined, fallback: Range): A.Name {
    const usable = tok && !tok.isInsertedInRecovery && !Number.isNaN(tok.startOffset);
    return { text: usable ? tok.image : '', range: this.tokenRange(tok, fallback) };
  }

  // ----- parts to AST -----

  buildNothing(): void {}

  buildFile(p: FileParts): void {
    const definitions: A.Definition[] = [];
    for (const d of p.defs) if (d.v) definitions.push(d.v);
    p.v = { definitions };
  }

  private definitionHead(p: DefinitionParts): { name: A.Name; body: A.Body; range: Range } {
    const kwRange = this.tokenRange(p.kw, this.origin());
    const name = this.name(p.name, kwRange);
    const body = this.bodyOf(p.body, name.range);
    return { name, body, range: { start: kwRange.start, end: body.range.end } };
  }

  buildNetwork(p: DefinitionParts): void {
    p.v = { kind: 'network', ...this.definitionHead(p) };
  }

  buildBlock(p: DefinitionParts): void {
    const { name, body, range } = this.definitionHead(p);
    const params: A.Param[] = [];
    for (const q of p.params) if (q.v) params.push(q.v);
    const lp = p.lp ? this.tokenRange(p.lp, name.range) : undefined;
    const paramsRange = lp ? { start: lp.start, end: this.tokenRange(p.rp, lp).end } : undefined;
    p.v = { kind: 'block', name, params, paramsRange, body, range };
  }

  buildParam(p: ParamParts): void {
    const name = this.name(p.name, this.origin());
    p.v = { name, default: p.eq ? this.exprOf(p.expr, name.range) : undefined, range: this.spanRange(p, name.range) };
  }

  buildBody(p: BodyParts): void {
    const statements: A.Statement[] = [];
    for (const s of p.statements) if (s.v) statements.push(s.v);
    p.v = { statements, range: this.spanRange(p, this.tokenRange(p.lb, this.origin())) };
  }

  private bodyOf(p: Parts<A.Body> | undefined, fallback: Range): A.Body {
    return p?.v ?? { statements: [], range: fallback };
  }

  buildStatement(p: StatementParts): void {
    const label = this.labelOf(p.label);
    const stmt = p.inner ? p.inner.v : this.callFrom(p);
    if (!stmt) return;
    stmt.label = label;
    // A call's parts are this rule's own, and so is its range already.
    if (p.inner) stmt.range = this.spanRange(p, stmt.range);
    p.v = stmt;
  }

  /** A label as read; undefined where recovery left none (or an empty name). */
  private labelOf(p: LabelParts | undefined): A.Label | undefined {
    if (!p) return undefined;
    if (p.name) {
      const name = this.name(p.name, this.origin());
      return name.text ? name : undefined;
    }
    const strings = p.strings.filter((t) => !t.isInsertedInRecovery && !Number.isNaN(t.startOffset));
    if (!strings.length) return undefined;
    const start = strings[0].startOffset;
    const lastTok = strings[strings.length - 1];
    const end = lastTok.endOffset! + 1;
    const closed = lastTok.tokenType === T.QuotedLabel || lastTok.tokenType === T.StringEnd;
    const range = { start: this.pos(start), end: this.pos(end) };
    const quoted: (string | A.Expr)[] = [];
    strings.forEach((t, i) => {
      const literal = quotedLiteral(t.image);
      if (literal) quoted.push(literal);
      if (i < strings.length - 1 || !closed) {
        const e = p.exprs[i];
        if (e) quoted.push(this.exprOf(e, range));
      }
    });
    return { text: this.lines.text.slice(start + 1, closed ? end - 1 : end), range, quoted };
  }

  private callFrom(p: StatementParts): A.CallStatement | undefined {
    const tok = p.name;
    if (!tok || tok.isInsertedInRecovery) return undefined;
    const keyword = this.name(tok, this.origin());
    const args: A.Arg[] = [];
    if (p.argList) for (const a of p.argList.args) if (a.v) args.push(a.v);
    for (const a of p.args) if (a.v) args.push(a.v);
    return {
      kind: 'call',
      keyword,
      args,
      parenthesized: !!p.argList,
      argsRange: p.argList ? this.spanRange(p.argList, keyword.range) : undefined,
      range: this.spanRange(p, keyword.range),
    };
  }

  buildRepeat(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    p.v = {
      kind: 'repeat',
      keyword,
      count: this.exprOf(p.exprs[0], keyword.range),
      index: p.index && !p.index.isInsertedInRecovery ? this.name(p.index, keyword.range) : undefined,
      body: this.bodyOf(p.bodies[0], keyword.range),
      range: this.spanRange(p, keyword.range),
    };
  }

  buildResidual(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    const sc = p.second ? this.name(p.second, keyword.range) : undefined;
    p.v = {
      kind: 'residual',
      keyword,
      body: this.bodyOf(p.bodies[0], keyword.range),
      shortcut: sc ? { keyword: sc, body: this.bodyOf(p.bodies[1], sc.range) } : undefined,
      range: this.spanRange(p, keyword.range),
    };
  }

  buildMerge(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    const lb = this.tokenRange(p.lb, keyword.range);
    const rb = this.tokenRange(p.rb, lb);
    const branches: A.BranchDef[] = [];
    for (const b of p.branches) if (b.v) branches.push(b.v);
    p.v = {
      kind: keyword.text === 'concat' ? 'concat' : keyword.text === 'mul' ? 'mul' : 'add',
      keyword,
      branches,
      body: { statements: [], range: { start: lb.start, end: rb.end } },
      range: this.spanRange(p, keyword.range),
    };
  }

  buildBranch(p: BranchParts): void {
    const keyword = this.name(p.kw, this.origin());
    p.v = {
      keyword,
      label: this.labelOf(p.label),
      body: this.bodyOf(p.body, keyword.range),
      range: this.spanRange(p, keyword.range),
    };
  }

  buildAux(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    p.v = { kind: 'aux', keyword, body: this.bodyOf(p.bodies[0], keyword.range), range: this.spanRange(p, keyword.range) };
  }

  buildIf(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    let elsePart: A.IfStatement['else'];
    if (p.second) {
      const elseKw = this.name(p.second, keyword.range);
      elsePart = { keyword: elseKw, body: (p.elseIf?.v as A.IfStatement | undefined) ?? this.bodyOf(p.bodies[1], elseKw.range) };
    }
    p.v = {
      kind: 'if',
      keyword,
      condition: this.exprOf(p.exprs[0], keyword.range),
      then: this.bodyOf(p.bodies[0], keyword.range),
      else: elsePart,
      range: this.spanRange(p, keyword.range),
    };
  }

  buildGroupStatement(p: CompoundParts): void {
    const body = this.bodyOf(p.bodies[0], this.spanRange(p, this.origin()));
    const brace = { start: body.range.start, end: this.pos(body.range.start.offset + 1) };
    p.v = { kind: 'group', keyword: { text: '{', range: brace }, body, range: this.spanRange(p, body.range) };
  }

  buildArg(p: ArgParts): void {
    const range = this.spanRange(p, this.origin());
    const name = p.name && p.eq ? this.name(p.name, range) : undefined;
    const value = this.withinLimit(this.flatExpr(p, p.eq ? p.eq.startOffset + 1 : range.start.offset, range), p.d);
    p.v = { name, value, range };
  }

  buildExpr(p: ExprParts): void {
    const range = this.spanRange(p, this.origin());
    p.v = this.flatExpr(p, range.start.offset, range);
  }

  /** `( e )` is e itself; `(e1, e2)` a tuple, one level deeper than its deepest item. */
  buildGroup(p: GroupParts): void {
    const range = this.spanRange(p, this.origin());
    const items: A.Expr[] = [];
    let depth = 1;
    for (const e of p.exprs) {
      items.push(this.exprOf(e, range, false));
      depth = Math.max(depth, e.v ? e.d : 1);
    }
    p.d = items.length > 1 ? depth + 1 : depth;
    p.v = items.length === 1 ? items[0] : items.length > 1 ? { kind: 'tuple', items, range } : { kind: 'missing', range };
  }

  // ----- expressions -----

  /** A whole expression (a parameter's default, a count, a condition), checked for depth. */
  private exprOf(p: ExprParts | undefined, fallback: Range, whole = true): A.Expr {
    if (!p?.v) return { kind: 'missing', range: { start: fallback.end, end: fallback.end } };
    return whole ? this.withinLimit(p.v, p.d) : p.v;
  }

  /**
   * A whole expression past MAX_EXPR_DEPTH becomes a `missing` one with an error, so that no
   * later walk over it (evaluation, the cache's keys, the server) recurses that deep.
   */
  private withinLimit(e: A.Expr, depth: number): A.Expr {
    if (depth <= MAX_EXPR_DEPTH) return e;
    this.diagnostics.push({ code: 'syntax', severity: 'error', range: e.range, message: EXPR_DEPTH_MESSAGE });
    return { kind: 'missing', range: e.range };
  }

  /**
   * The expression whose items `p` holds, which spans from `start` to the end of `outer` (the
   * value of `k=3` starts after the `=`): prefixes applied to their operand, then precedence
   * climbing over the operators. Sets `p.d` to its depth.
   */
  private flatExpr(p: ExprItems, start: number, outer: Range): A.Expr {
    const items = p.items;
    p.d = 1;
    // Most values are one token (`64`, `k`, `3x3`, `true`).
    if (items.length === 1) {
      const only = items[0];
      if (!isBinary(only) && !isGroup(only) && !only.isInsertedInRecovery) {
        const a = this.atom(only);
        if (a) return a;
      }
    }
    const whole: Range = start === outer.start.offset ? outer : { start: this.pos(start), end: outer.end };
    const operands: A.Expr[] = [];
    /** The depth of each operand. */
    const depths: number[] = [];
    const ops: A.BinaryOp[] = [];
    let prefixes: IToken[] = [];
    for (const it of items) {
      if (isBinary(it)) {
        if (it.op.isInsertedInRecovery || Number.isNaN(it.op.startOffset)) continue;
        if (operands.length === ops.length) {
          operands.push({ kind: 'missing', range: this.tokenRange(it.op, whole) });
          depths.push(1);
        }
        ops.push(it.op.image as A.BinaryOp);
        continue;
      }
      let e: A.Expr;
      let depth = 1;
      if (isGroup(it)) {
        e = it.v ?? { kind: 'missing', range: whole };
        depth = it.d;
      } else {
        if (it.isInsertedInRecovery || Number.isNaN(it.startOffset)) continue;
        if (it.tokenType === T.Bang || it.tokenType === T.AdditiveOp) {
          prefixes.push(it);
          continue;
        }
        e = this.atom(it) ?? { kind: 'missing', range: whole };
      }
      for (let i = prefixes.length - 1; i >= 0; i--) {
        const pre = prefixes[i];
        e = { kind: 'unary', op: pre.image as '-' | '+' | '!', operand: e, range: { start: this.pos(pre.startOffset), end: e.range.end } };
        depth++;
      }
      prefixes = [];
      operands.push(e);
      depths.push(depth);
    }
    if (operands.length === ops.length) {
      operands.push({ kind: 'missing', range: { start: whole.end, end: whole.end } });
      depths.push(1);
    }
    let i = 0;
    let depth = 0;
    // Each call consumes operands[i] as its left side, then operators of at least minPrec; it
    // recurses once per rise in precedence, so at most five deep.
    const climb = (minPrec: number): A.Expr => {
      let left: A.Expr = operands[i] ?? { kind: 'missing', range: whole };
      let leftDepth = depths[i] ?? 1;
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
    p.d = depth;
    return e;
  }

  private atom(tok: IToken): A.Expr | undefined {
    const type = tok.tokenType;
    if (type === T.NumberLit) return { kind: 'number', value: Number(tok.image), text: tok.image, range: this.tokenRange(tok, this.origin()) };
    if (type === T.Dims) return { kind: 'dims', values: tok.image.split(/[xX×]/).map(Number), text: tok.image, range: this.tokenRange(tok, this.origin()) };
    if (type === T.True) return { kind: 'bool', value: true, range: this.tokenRange(tok, this.origin()) };
    if (type === T.False) return { kind: 'bool', value: false, range: this.tokenRange(tok, this.origin()) };
    if (type === T.Ident || type === T.Mul || type === T.As) return { kind: 'name', name: tok.image, range: this.tokenRange(tok, this.origin()) };
    return undefined;
  }
}

