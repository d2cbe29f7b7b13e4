import type { IToken } from 'chevrotain';
import type * as A from '../ast';

// What each rule of the chevrotain parser gathers while it reads (parser.ts), and where a
// rule's result goes in its caller's parts.

/**
 * What a rule has read so far: its span (chevrotain's node location: the first token with a
 * position starts it, the one that ends last ends it; NaN while there is none) and, once
 * built, its result `v`.
 */
export interface Parts<V> {
  s: number;
  e: number;
  v: V | undefined;
}

export interface FileParts extends Parts<A.CnnFile> {
  defs: Parts<A.Definition>[];
}
export interface DefinitionParts extends Parts<A.Definition> {
  kw?: IToken;
  name?: IToken;
  lp?: IToken;
  rp?: IToken;
  params: Parts<A.Param>[];
  body?: Parts<A.Body>;
}
export interface ParamParts extends Parts<A.Param> {
  name?: IToken;
  eq?: IToken;
  expr?: ExprParts;
}
export interface BodyParts extends Parts<A.Body> {
  lb?: IToken;
  statements: Parts<A.Statement | undefined>[];
}
export interface LabelParts extends Parts<undefined> {
  /** A name or keyword. */
  name?: IToken;
  /** A quoted label's pieces: one QuotedLabel, or StringStart, StringMid..., StringEnd. */
  strings: IToken[];
  /** The interpolations between those pieces. */
  exprs: ExprParts[];
}
export interface StatementParts extends Parts<A.Statement | undefined> {
  label?: LabelParts;
  inner?: Parts<A.Statement>;
  name?: IToken;
  argList?: ArgListParts;
  args: ArgParts[];
}
export interface CompoundParts extends Parts<A.Statement> {
  kw?: IToken;
  exprs: ExprParts[];
  bodies: Parts<A.Body>[];
  /** `shortcut` or `else`. */
  second?: IToken;
  /** A repeat's index, after `as`. */
  index?: IToken;
  lb?: IToken;
  rb?: IToken;
  branches: Parts<A.BranchDef>[];
  elseIf?: Parts<A.Statement>;
}
export interface BranchParts extends Parts<A.BranchDef> {
  label?: LabelParts;
  kw?: IToken;
  body?: Parts<A.Body>;
}
export interface ArgListParts extends Parts<undefined> {
  args: ArgParts[];
}
/** A binary operator among an expression's items (a `-` may also be a prefix). */
export interface BinaryItem {
  op: IToken;
}
export type ExprItem = IToken | GroupParts | BinaryItem;
export interface ExprItems {
  /** Prefixes, operands and operators in source order. */
  items: ExprItem[];
  /** Depth of the built expression (tables.ts). */
  d: number;
}
export interface ExprParts extends Parts<A.Expr>, ExprItems {}
export interface ArgParts extends Parts<A.Arg>, ExprItems {
  name?: IToken;
  eq?: IToken;
}
export interface GroupParts extends Parts<A.Expr> {
  exprs: ExprParts[];
  d: number;
}

/** Turns a rule's parts into its result (`v`). */
export type Build = (p: never) => void;

// Each rule's parts with every field in place from the start: one shape per rule keeps the
// parse's hot paths monomorphic.
const NONE = undefined;
export const newFile = (): FileParts => ({ s: NaN, e: NaN, v: NONE, defs: [] });
export const newEnd = (): Parts<undefined> => ({ s: NaN, e: NaN, v: NONE });
export const newLabel = (): LabelParts => ({ s: NaN, e: NaN, v: NONE, name: NONE, strings: [], exprs: [] });
export const newDefinition = (): DefinitionParts => ({ s: NaN, e: NaN, v: NONE, kw: NONE, name: NONE, lp: NONE, rp: NONE, params: [], body: NONE });
export const newParam = (): ParamParts => ({ s: NaN, e: NaN, v: NONE, name: NONE, eq: NONE, expr: NONE });
export const newBody = (): BodyParts => ({ s: NaN, e: NaN, v: NONE, lb: NONE, statements: [] });
export const newStatement = (): StatementParts => ({ s: NaN, e: NaN, v: NONE, label: NONE, inner: NONE, name: NONE, argList: NONE, args: [] });
export const newCompound = (): CompoundParts => ({
  s: NaN,
  e: NaN,
  v: NONE,
  kw: NONE,
  exprs: [],
  bodies: [],
  second: NONE,
  index: NONE,
  lb: NONE,
  rb: NONE,
  branches: [],
  elseIf: NONE,
});
export const newBranch = (): BranchParts => ({ s: NaN, e: NaN, v: NONE, label: NONE, kw: NONE, body: NONE });
export const newArgList = (): ArgListParts => ({ s: NaN, e: NaN, v: NONE, args: [] });
export const newArg = (): ArgParts => ({ s: NaN, e: NaN, v: NONE, name: NONE, eq: NONE, items: [], d: 1 });
export const newExpr = (): ExprParts => ({ s: NaN, e: NaN, v: NONE, items: [], d: 1 });
export const newGroup = (): GroupParts => ({ s: NaN, e: NaN, v: NONE, exprs: [], d: 1 });

/** chevrotain's rule for a node's location, for one more token or child. */
export function extend(p: Parts<unknown>, start: number, end: number): void {
  if (Number.isNaN(p.s)) {
    p.s = start;
    p.e = end;
  } else if (p.e < end) p.e = end;
}

export function isBinary(item: ExprItem): item is BinaryItem {
  return 'op' in item;
}

export function isGroup(item: ExprItem): item is GroupParts {
  return 'exprs' in item;
}

/** Where a rule's result goes in its caller's parts, as the grammar's rules put it (parser.ts). */
export function attach(to: Record<string, unknown> & Parts<unknown>, rule: string, child: Parts<unknown>): void {
  extend(to, child.s, child.e);
  const push = (key: string): void => void (to[key] as Parts<unknown>[]).push(child);
  switch (rule) {
    case 'network':
    case 'block':
      return push('defs');
    case 'end':
      return;
    case 'param':
      return push('params');
    case 'statement':
      return push('statements');
    case 'arg':
      return push('args');
    case 'branch':
      return push('branches');
    case 'group':
      return push('items');
    case 'label':
    case 'argList':
      to[rule] = child;
      return;
    case 'body':
      if (to.bodies) push('bodies');
      else to.body = child;
      return;
    case 'expr':
      if (to.exprs) push('exprs');
      else to.expr = child;
      return;
    case 'ifStatement':
      // In an `if`, the `if` of its `else if`; in a statement, the statement.
      if (to.bodies) to.elseIf = child;
      else to.inner = child;
      return;
    default:
      to.inner = child;
  }
}
