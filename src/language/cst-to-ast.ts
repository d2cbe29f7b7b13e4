import type { CstNode, IToken } from 'chevrotain';
import type { Diagnostic } from '../diagnostics';
import type * as A from './ast';
import { parser } from './parser';
import type { LineIndex, Position, Range } from './range';
import { EXPR_DEPTH_MESSAGE, MAX_EXPR_DEPTH, PRECEDENCE } from './tables';

type Ctx = Record<string, (CstNode | IToken)[] | undefined>;

const BaseVisitor = parser.getBaseCstVisitorConstructor();

const NONE: never[] = [];

const EXPRESSION_TOKENS = ['NumberLit', 'Dims', 'True', 'False', 'Ident', 'Bang', 'AdditiveOp', 'BinaryOp'];

const STATEMENT_KINDS = [
  'repeatStatement',
  'residualStatement',
  'mergeStatement',
  'auxStatement',
  'ifStatement',
  'groupStatement',
];

function isNode(x: CstNode | IToken | undefined): x is CstNode {
  return !!x && 'children' in x;
}

/**
 * Turns the CST into the AST. Recovery leaves nodes with missing children and tokens without
 * positions; every accessor here tolerates both, so a half-typed file still gives a tree.
 */
class AstBuilder extends BaseVisitor {
  lines!: LineIndex;
  /** Expressions past MAX_EXPR_DEPTH, reported here (the lexer reports the other limits). */
  diagnostics: Diagnostic[] = [];
  /** Depth of the expression last built, as tables.ts counts it. */
  private exprDepth = 0;
  /** Parentheses around the expression being built: its depth is checked outside them. */
  private groups = 0;

  constructor() {
    super();
    this.validateVisitor();
  }

  // ----- positions -----

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

  /** Positions of another text are not to be shared. */
  forget(): void {
    this.recent.fill(undefined);
  }

  private tokenRange(tok: IToken | undefined, fallback: Range): Range {
    if (!tok || Number.isNaN(tok.startOffset) || tok.isInsertedInRecovery) return fallback;
    return { start: this.pos(tok.startOffset), end: this.pos((tok.endOffset ?? tok.startOffset) + 1) };
  }

  private nodeRange(node: CstNode | undefined, fallback: Range): Range {
    const loc = node?.location;
    if (!loc || Number.isNaN(loc.startOffset)) return fallback;
    const end = loc.endOffset === undefined || Number.isNaN(loc.endOffset) ? loc.startOffset : loc.endOffset + 1;
    return { start: this.pos(loc.startOffset), end: this.pos(Math.max(end, loc.startOffset)) };
  }

  private name(tok: IToken | undefined, fallback: Range): A.Name {
    const usable = tok && !tok.isInsertedInRecovery && !Number.isNaN(tok.startOffset);
    return { text: usable ? tok.image : '', range: this.tokenRange(tok, fallback) };
  }

  // A CST key holds only tokens or only nodes, so no filtering is needed.
  private tokens(ctx: Ctx, key: string): IToken[] {
    return (ctx[key] ?? NONE) as IToken[];
  }

  private nodes(ctx: Ctx, key: string): CstNode[] {
    return (ctx[key] ?? NONE) as CstNode[];
  }

  // ----- definitions -----

  file(ctx: Ctx): A.CnnFile {
    const all = [...this.nodes(ctx, 'network'), ...this.nodes(ctx, 'block')].sort(
      (a, b) => (a.location?.startOffset ?? 0) - (b.location?.startOffset ?? 0),
    );
    return { definitions: all.map((n) => this.visit(n, n) as A.Definition) };
  }

  network(ctx: Ctx, node?: CstNode): A.NetworkDef {
    return this.definitionHead(ctx, 'network', node) as A.NetworkDef;
  }

  block(ctx: Ctx): A.BlockDef {
    return this.definitionHead(ctx, 'block') as A.BlockDef;
  }

  private definitionHead(ctx: Ctx, kind: 'network' | 'block', _node?: CstNode): A.Definition {
    const kw = this.tokens(ctx, kind === 'network' ? 'Network' : 'Block')[0];
    const kwRange = this.tokenRange(kw, this.lines.range(0, 0));
    const name = this.name(this.tokens(ctx, 'Ident')[0], kwRange);
    const body = this.bodyOf(this.nodes(ctx, 'body')[0], name.range);
    const range: Range = { start: kwRange.start, end: body.range.end };
    if (kind === 'network') return { kind, name, body, range };
    const lp = this.tokens(ctx, 'LParen')[0];
    const rp = this.tokens(ctx, 'RParen')[0];
    const params = this.nodes(ctx, 'param').map((p) => this.visit(p, p) as A.Param);
    const paramsRange = lp
      ? { start: this.tokenRange(lp, name.range).start, end: this.tokenRange(rp, this.tokenRange(lp, name.range)).end }
      : undefined;
    return { kind, name, params, paramsRange, body, range };
  }

  param(ctx: Ctx, node?: CstNode): A.Param {
    const name = this.name(this.tokens(ctx, 'Ident')[0], this.lines.range(0, 0));
    const e = this.nodes(ctx, 'expr')[0];
    return {
      name,
      default: this.tokens(ctx, 'Equals').length ? this.exprOf(e, name.range) : undefined,
      range: this.nodeRange(node, name.range),
    };
  }

  body(ctx: Ctx, node?: CstNode): A.Body {
    const fallback = this.tokenRange(this.tokens(ctx, 'LBrace')[0], this.lines.range(0, 0));
    const statements = this.nodes(ctx, 'statement')
      .map((s) => this.visit(s, s) as A.Statement | undefined)
      .filter((s): s is A.Statement => !!s);
    return { statements, range: this.nodeRange(node, fallback) };
  }

  private bodyOf(node: CstNode | undefined, fallback: Range): A.Body {
    if (!node) return { statements: [], range: fallback };
    return this.visit(node, node) as A.Body;
  }

  // ----- statements -----

  statement(ctx: Ctx, node?: CstNode): A.Statement | undefined {
    const labelNode = this.nodes(ctx, 'label')[0];
    const label = labelNode ? this.name(this.tokens(labelNode.children as Ctx, 'Ident')[0], this.lines.range(0, 0)) : undefined;
    let inner: CstNode | undefined;
    for (const key of STATEMENT_KINDS) {
      const found = ctx[key]?.[0];
      if (found && isNode(found)) {
        inner = found;
        break;
      }
    }
    const stmt = inner ? (this.visit(inner, inner) as A.Statement | undefined) : this.callFrom(ctx, node);
    if (!stmt) return undefined;
    stmt.label = label?.text ? label : undefined;
    // A call's parts are this node's own, and so is its range already.
    if (inner) stmt.range = this.nodeRange(node, stmt.range);
    return stmt;
  }

  label(): undefined {
    return undefined;
  }

  end(): undefined {
    return undefined;
  }

  repeatStatement(ctx: Ctx, node?: CstNode): A.RepeatStatement {
    const keyword = this.name(this.tokens(ctx, 'Repeat')[0], this.lines.range(0, 0));
    return {
      kind: 'repeat',
      keyword,
      count: this.exprOf(this.nodes(ctx, 'expr')[0], keyword.range),
      body: this.bodyOf(this.nodes(ctx, 'body')[0], keyword.range),
      range: this.nodeRange(node, keyword.range),
    };
  }

  residualStatement(ctx: Ctx, node?: CstNode): A.ResidualStatement {
    const keyword = this.name(this.tokens(ctx, 'Residual')[0], this.lines.range(0, 0));
    const bodies = this.nodes(ctx, 'body');
    const sc = this.tokens(ctx, 'Shortcut')[0];
    const scName = sc ? this.name(sc, keyword.range) : undefined;
    return {
      kind: 'residual',
      keyword,
      body: this.bodyOf(bodies[0], keyword.range),
      shortcut: scName ? { keyword: scName, body: this.bodyOf(bodies[1], scName.range) } : undefined,
      range: this.nodeRange(node, keyword.range),
    };
  }

  mergeStatement(ctx: Ctx, node?: CstNode): A.MergeStatement {
    const tok = this.tokens(ctx, 'Add')[0] ?? this.tokens(ctx, 'Concat')[0];
    const keyword = this.name(tok, this.lines.range(0, 0));
    const lb = this.tokenRange(this.tokens(ctx, 'LBrace')[0], keyword.range);
    const rb = this.tokenRange(this.tokens(ctx, 'RBrace')[0], lb);
    return {
      kind: keyword.text === 'concat' ? 'concat' : 'add',
      keyword,
      branches: this.nodes(ctx, 'branch').map((b) => this.visit(b, b) as A.BranchDef),
      body: { statements: [], range: { start: lb.start, end: rb.end } },
      range: this.nodeRange(node, keyword.range),
    };
  }

  branch(ctx: Ctx, node?: CstNode): A.BranchDef {
    const keyword = this.name(this.tokens(ctx, 'Branch')[0], this.lines.range(0, 0));
    const labelNode = this.nodes(ctx, 'label')[0];
    const label = labelNode ? this.name(this.tokens(labelNode.children as Ctx, 'Ident')[0], keyword.range) : undefined;
    return {
      keyword,
      label: label?.text ? label : undefined,
      body: this.bodyOf(this.nodes(ctx, 'body')[0], keyword.range),
      range: this.nodeRange(node, keyword.range),
    };
  }

  auxStatement(ctx: Ctx, node?: CstNode): A.AuxStatement {
    const keyword = this.name(this.tokens(ctx, 'Aux')[0], this.lines.range(0, 0));
    return { kind: 'aux', keyword, body: this.bodyOf(this.nodes(ctx, 'body')[0], keyword.range), range: this.nodeRange(node, keyword.range) };
  }

  ifStatement(ctx: Ctx, node?: CstNode): A.IfStatement {
    const keyword = this.name(this.tokens(ctx, 'If')[0], this.lines.range(0, 0));
    const bodies = this.nodes(ctx, 'body');
    const elseTok = this.tokens(ctx, 'Else')[0];
    const nested = this.nodes(ctx, 'ifStatement')[0];
    let elsePart: A.IfStatement['else'];
    if (elseTok) {
      const elseKw = this.name(elseTok, keyword.range);
      elsePart = {
        keyword: elseKw,
        body: nested ? (this.visit(nested, nested) as A.IfStatement) : this.bodyOf(bodies[1], elseKw.range),
      };
    }
    return {
      kind: 'if',
      keyword,
      condition: this.exprOf(this.nodes(ctx, 'expr')[0], keyword.range),
      then: this.bodyOf(bodies[0], keyword.range),
      else: elsePart,
      range: this.nodeRange(node, keyword.range),
    };
  }

  groupStatement(ctx: Ctx, node?: CstNode): A.GroupStatement {
    const bodyNode = this.nodes(ctx, 'body')[0];
    const body = this.bodyOf(bodyNode, this.nodeRange(node, this.lines.range(0, 0)));
    const brace = { start: body.range.start, end: this.pos(body.range.start.offset + 1) };
    return { kind: 'group', keyword: { text: '{', range: brace }, body, range: this.nodeRange(node, body.range) };
  }

  /** The statement rule holds a call's parts itself (no node of their own). */
  private callFrom(ctx: Ctx, node?: CstNode): A.CallStatement | undefined {
    const tok = this.tokens(ctx, 'Ident')[0];
    if (!tok || tok.isInsertedInRecovery) return undefined;
    const keyword = this.name(tok, this.lines.range(0, 0));
    const listNode = this.nodes(ctx, 'argList')[0];
    const args: A.Arg[] = [];
    if (listNode) for (const a of this.nodes(listNode.children as Ctx, 'arg')) args.push(this.visit(a, a) as A.Arg);
    for (const a of this.nodes(ctx, 'arg')) args.push(this.visit(a, a) as A.Arg);
    return {
      kind: 'call',
      keyword,
      args,
      parenthesized: !!listNode,
      argsRange: listNode ? this.nodeRange(listNode, keyword.range) : undefined,
      range: this.nodeRange(node, keyword.range),
    };
  }

  argList(): undefined {
    return undefined;
  }

  arg(ctx: Ctx, node?: CstNode): A.Arg {
    const range = this.nodeRange(node, this.lines.range(0, 0));
    const eq = this.tokens(ctx, 'Equals')[0];
    // With `name=`, the first Ident is the name; the value's names follow the '='.
    const nameTok = eq ? this.tokens(ctx, 'Ident').find((t) => t.startOffset < eq.startOffset) : undefined;
    const name = nameTok ? this.name(nameTok, range) : undefined;
    const value = this.withinLimit(this.flatExpr(ctx, eq ? eq.startOffset + 1 : range.start.offset, range, nameTok));
    return { name, value, range };
  }

  // ----- expressions -----

  private exprOf(node: CstNode | undefined, fallback: Range): A.Expr {
    if (!node) {
      this.exprDepth = 1;
      return { kind: 'missing', range: { start: fallback.end, end: fallback.end } };
    }
    const e = this.visit(node, node) as A.Expr | undefined;
    if (!e) {
      this.exprDepth = 1;
      return { kind: 'missing', range: this.nodeRange(node, fallback) };
    }
    return this.withinLimit(e);
  }

  /**
   * A whole expression past MAX_EXPR_DEPTH becomes a `missing` one with an error, so that no
   * later walk over it (evaluation, the cache's keys, the server) recurses that deep.
   */
  private withinLimit(e: A.Expr): A.Expr {
    if (this.groups > 0 || this.exprDepth <= MAX_EXPR_DEPTH) return e;
    this.diagnostics.push({ code: 'syntax', severity: 'error', range: e.range, message: EXPR_DEPTH_MESSAGE });
    return { kind: 'missing', range: e.range };
  }

  /**
   * The parser keeps an expression's prefixes, operands and operators flat: put them back in
   * source order, apply prefixes to their operand, then climb precedence over the operators.
   */
  expr(ctx: Ctx, node?: CstNode): A.Expr {
    const range = this.nodeRange(node, this.lines.range(0, 0));
    return this.flatExpr(ctx, range.start.offset, range);
  }

  /**
   * The expression whose parts `ctx` holds, which spans from `start` to the end of `outer`
   * (the value of `k=3` starts after the `=`).
   */
  private flatExpr(ctx: Ctx, start: number, outer: Range, exclude?: IToken): A.Expr {
    // Most values are one token (`64`, `k`, `3x3`, `true`): no ordering needed.
    let single: IToken | undefined;
    let count = this.nodes(ctx, 'group').length;
    for (const key of EXPRESSION_TOKENS) {
      const toks = ctx[key] as IToken[] | undefined;
      if (!toks) continue;
      for (const tok of toks) {
        if (tok === exclude) continue;
        count++;
        single = tok;
      }
    }
    this.exprDepth = 1;
    if (count === 1 && single && single.tokenType.name !== 'BinaryOp' && !single.isInsertedInRecovery) {
      const a = this.atom(single);
      if (a) return a;
    }
    const whole: Range = start === outer.start.offset ? outer : { start: this.pos(start), end: outer.end };
    const items: { offset: number; tok?: IToken; group?: CstNode; binary?: boolean }[] = [];
    for (const key of EXPRESSION_TOKENS) {
      for (const tok of this.tokens(ctx, key)) {
        if (tok !== exclude && !tok.isInsertedInRecovery && !Number.isNaN(tok.startOffset)) items.push({ offset: tok.startOffset, tok, binary: key === 'BinaryOp' });
      }
    }
    for (const g of this.nodes(ctx, 'group')) items.push({ offset: g.location?.startOffset ?? Number.NaN, group: g });
    items.sort((x, y) => x.offset - y.offset);
    const operands: A.Expr[] = [];
    /** The depth of each operand. */
    const depths: number[] = [];
    const ops: A.BinaryOp[] = [];
    let prefixes: IToken[] = [];
    for (const it of items) {
      if (it.binary) {
        if (operands.length === ops.length) {
          operands.push({ kind: 'missing', range: this.tokenRange(it.tok, whole) });
          depths.push(1);
        }
        ops.push(it.tok!.image as A.BinaryOp);
        continue;
      }
      const prefix = it.tok && (it.tok.image === '!' || it.tok.image === '-' || it.tok.image === '+') && it.tok.tokenType.name !== 'NumberLit';
      if (prefix) {
        prefixes.push(it.tok!);
        continue;
      }
      let e: A.Expr;
      let depth = 1;
      if (it.group) {
        e = this.visit(it.group, it.group) as A.Expr;
        depth = this.exprDepth;
      } else e = this.atom(it.tok!) ?? { kind: 'missing', range: whole };
      for (const p of prefixes.reverse()) {
        e = { kind: 'unary', op: p.image as '-' | '+' | '!', operand: e, range: { start: this.pos(p.startOffset), end: e.range.end } };
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
    this.exprDepth = depth;
    return e;
  }

  private atom(tok: IToken): A.Expr | undefined {
    const range = this.tokenRange(tok, this.lines.range(0, 0));
    switch (tok.tokenType.name) {
      case 'NumberLit':
        return { kind: 'number', value: Number(tok.image), text: tok.image, range };
      case 'Dims':
        return { kind: 'dims', values: tok.image.split(/[xX×]/).map(Number), text: tok.image, range };
      case 'True':
        return { kind: 'bool', value: true, range };
      case 'False':
        return { kind: 'bool', value: false, range };
      case 'Ident':
        return { kind: 'name', name: tok.image, range };
      default:
        return undefined;
    }
  }

  /** `( e )` is e itself; `(e1, e2)` a tuple. */
  group(ctx: Ctx, node?: CstNode): A.Expr {
    const range = this.nodeRange(node, this.lines.range(0, 0));
    this.groups++;
    let depth = 1;
    const items = this.nodes(ctx, 'expr').map((e) => {
      const item = this.exprOf(e, range);
      depth = Math.max(depth, this.exprDepth);
      return item;
    });
    this.groups--;
    this.exprDepth = items.length > 1 ? depth + 1 : depth;
    if (items.length === 1) return items[0];
    if (items.length > 1) return { kind: 'tuple', items, range };
    return { kind: 'missing', range };
  }
}

const builder = new AstBuilder();

/** The AST, and the errors only a tree shows (an expression nested past MAX_EXPR_DEPTH). */
export function cstToAst(cst: CstNode, lines: LineIndex): { file: A.CnnFile; diagnostics: Diagnostic[] } {
  builder.lines = lines;
  builder.forget();
  builder.diagnostics = [];
  const file = builder.visit(cst, cst) as A.CnnFile;
  return { file, diagnostics: builder.diagnostics };
}
