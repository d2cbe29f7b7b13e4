import type { Range } from './range';

/** A name with where it was written. */
export interface Name {
  text: string;
  range: Range;
}

export type Expr =
  | { kind: 'number'; value: number; text: string; range: Range }
  | { kind: 'bool'; value: boolean; range: Range }
  | { kind: 'name'; name: string; range: Range }
  | { kind: 'dims'; values: number[]; text: string; range: Range }
  | { kind: 'tuple'; items: Expr[]; range: Range }
  | { kind: 'unary'; op: '-' | '+' | '!'; operand: Expr; range: Range }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; range: Range }
  /** What recovery leaves where an expression was expected but none could be read. */
  | { kind: 'missing'; range: Range };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export interface Arg {
  /** Absent for a positional argument. */
  name?: Name;
  value: Expr;
  range: Range;
}

/**
 * A label: a name or a keyword (`conv1:`, `block:`), `_` (anonymous: no name, no number), or
 * quoted (`"block1-0":`, `"denselayer{i+1}":`) for what a name cannot spell.
 */
export interface Label extends Name {
  /**
   * A quoted label's pieces in order: its literal texts (none empty) and its `{expr}`
   * interpolations, `"block{s}-{i}"` being `['block', s, '-', i]`; absent for an unquoted one.
   * `text` is what the quotes hold, as written (`block{s}-{i}`).
   */
  quoted?: (string | Expr)[];
}

/** A label as written, without its colon: `conv1`, `"block{s}-{i}"`. */
export function labelSource(label: Label): string {
  return label.quoted ? `"${label.text}"` : label.text;
}

/** `_:`, the anonymous label; a quoted `"_"` is a name like any other. */
export function isAnonymous(label: Label | undefined): boolean {
  return label !== undefined && label.quoted === undefined && label.text === '_';
}

interface StatementBase {
  label?: Label;
  /** From the label (if any) to the end of the statement. */
  range: Range;
  /** The keyword or the layer/block name. */
  keyword: Name;
}

/** A layer (`conv 64 k=3`) or a block call (`Down(32)`): which one is decided by the name. */
export interface CallStatement extends StatementBase {
  kind: 'call';
  args: Arg[];
  /** True when the arguments were written in parentheses right after the name. */
  parenthesized: boolean;
  /** Range of the parenthesised argument list, when there is one. */
  argsRange?: Range;
}

export interface Body {
  statements: Statement[];
  /** From `{` to `}`. */
  range: Range;
}

export interface RepeatStatement extends StatementBase {
  kind: 'repeat';
  count: Expr;
  /** `repeat N as i`: the name bound to the iteration, 0 to N-1, in the body. */
  index?: Name;
  body: Body;
}

export interface ResidualStatement extends StatementBase {
  kind: 'residual';
  body: Body;
  shortcut?: { keyword: Name; body: Body };
}

export interface BranchDef {
  label?: Label;
  keyword: Name;
  body: Body;
  range: Range;
}

export interface MergeStatement extends StatementBase {
  kind: 'add' | 'concat' | 'mul';
  branches: BranchDef[];
  body: Body;
}

export interface AuxStatement extends StatementBase {
  kind: 'aux';
  body: Body;
}

export interface IfStatement extends StatementBase {
  kind: 'if';
  condition: Expr;
  then: Body;
  else?: { keyword: Name; body: Body | IfStatement };
}

/** Extension: `{ ... }` groups statements, usually under a label, to shape parameter names. */
export interface GroupStatement extends StatementBase {
  kind: 'group';
  body: Body;
}

export type Statement =
  | CallStatement
  | RepeatStatement
  | ResidualStatement
  | MergeStatement
  | AuxStatement
  | IfStatement
  | GroupStatement;

export interface Param {
  name: Name;
  default?: Expr;
  range: Range;
}

export interface NetworkDef {
  kind: 'network';
  name: Name;
  body: Body;
  range: Range;
}

export interface BlockDef {
  kind: 'block';
  name: Name;
  params: Param[];
  /** From `(` to `)`, when written. */
  paramsRange?: Range;
  body: Body;
  range: Range;
}

export type Definition = NetworkDef | BlockDef;

export interface CnnFile {
  definitions: Definition[];
}

/**
 * The bodies a statement writes, in source order: a `residual`'s body then its shortcut, a
 * merge's braces then each branch, an `if`'s then and a plain `else`. An `else if` is not a
 * body but a statement of its own: `elseIf` gives it. Every walk over the statement tree is
 * built on these two, so a new composition is one case here.
 */
export function childBodies(s: Statement): readonly Body[] {
  switch (s.kind) {
    case 'call':
      return NO_BODIES;
    case 'repeat':
    case 'aux':
    case 'group':
      return [s.body];
    case 'residual':
      return s.shortcut ? [s.body, s.shortcut.body] : [s.body];
    case 'add':
    case 'concat':
    case 'mul': {
      const out = [s.body];
      for (const b of s.branches) out.push(b.body);
      return out;
    }
    case 'if': {
      const alt = s.else?.body;
      return alt && !('kind' in alt) ? [s.then, alt] : [s.then];
    }
  }
}

const NO_BODIES: readonly Body[] = Object.freeze([]);

/** The `if` of an `else if`, which counts as a statement nested in the first `if`. */
export function elseIf(s: Statement): IfStatement | undefined {
  if (s.kind !== 'if') return undefined;
  const alt = s.else?.body;
  return alt && 'kind' in alt ? alt : undefined;
}

/** The statements directly inside a statement, in source order (an `else if` is one of them). */
export function childStatements(s: Statement): Statement[] {
  const out: Statement[] = [];
  for (const b of childBodies(s)) for (const c of b.statements) out.push(c);
  const alt = elseIf(s);
  if (alt) out.push(alt);
  return out;
}

/** Every statement of `stmts` at every depth, depth first in source order; an `else if` is one. */
export function collectStatements(stmts: readonly Statement[], out: Statement[] = []): Statement[] {
  for (const s of stmts) {
    out.push(s);
    if (s.kind === 'call') continue;
    for (const b of childBodies(s)) collectStatements(b.statements, out);
    const alt = elseIf(s);
    if (alt) collectStatements([alt], out);
  }
  return out;
}
