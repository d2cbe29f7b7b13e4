import {
  EmbeddedActionsParser,
  EOF,
  isRecognitionException,
  tokenMatcher,
  type IOrAlt,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from 'chevrotain';
import type { Diagnostic } from '../diagnostics';
import type * as A from './ast';
import * as T from './lexer';
import type { LineIndex, Position, Range } from './range';
import { EXPR_DEPTH_MESSAGE, MAX_EXPR_DEPTH, PRECEDENCE, quoteToken } from './tables';

/**
 * The grammar of LANGUAGE.md as one chevrotain parser, the reference for both parsers: it
 * parses every file with an error, with recovery on, and builds the AST as it goes (chevrotain's
 * "embedded actions"; docs/parsers.md says why not a CST and a visitor).
 *
 * Recovery leaves a rule half done: each rule gathers its parts (tokens, the results of the
 * rules it called, its span) in one object as it reads them, and turns them into its AST node
 * at its end, or where recovery ends it early. So a half-typed file still gives a tree for
 * everything that could be read; every part may be missing, and a token may be one recovery
 * inserted (no position): the builders tolerate both.
 */

// ----- messages -----

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
  [T.BinaryOp, 'an operator'],
]);

function expected(type: TokenType): string {
  return TOKEN_TEXT.get(type) ?? `'${String(type.PATTERN).slice(1, -1)}'`;
}

function found(tok: IToken | undefined): string {
  if (!tok || tok.tokenType === EOF || !tok.image || Number.isNaN(tok.startOffset)) return 'the end of the file';
  if (tok.tokenType === T.Newline) return 'the end of the line';
  return quoteToken(tok.image);
}

/** Our messages, built where chevrotain finds each error (it passes them through unchanged). */
const messages: IParserErrorMessageProvider = {
  // Expecting the end of the input is being handed text after the last definition.
  buildMismatchTokenMessage: ({ expected: type, actual }) =>
    type === EOF ? `unexpected ${found(actual)}` : `expected ${expected(type)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `unexpected ${found(firstRedundant)}: only 'network' and 'block' definitions may stand at the top level`,
  // Only the alternatives of an operand are tried in `expr` and `arg` (expressionParts).
  buildNoViableAltMessage: ({ actual, ruleName }) =>
    ruleName === 'expr' || ruleName === 'arg' ? `expected a value but found ${found(actual[0])}` : `unexpected ${found(actual[0])}`,
  buildEarlyExitMessage: ({ actual }) => `expected a value but found ${found(actual[0])}`,
};

// ----- what rules gather -----

/**
 * What a rule has read so far: its span (chevrotain's node location: the first token with a
 * position starts it, the one that ends last ends it; NaN while there is none) and, once
 * built, its result `v`.
 */
interface Parts<V> {
  s: number;
  e: number;
  v: V | undefined;
}

interface FileParts extends Parts<A.CnnFile> {
  defs: Parts<A.Definition>[];
}
interface DefinitionParts extends Parts<A.Definition> {
  kw?: IToken;
  name?: IToken;
  lp?: IToken;
  rp?: IToken;
  params: Parts<A.Param>[];
  body?: Parts<A.Body>;
}
interface ParamParts extends Parts<A.Param> {
  name?: IToken;
  eq?: IToken;
  expr?: ExprParts;
}
interface BodyParts extends Parts<A.Body> {
  lb?: IToken;
  statements: Parts<A.Statement | undefined>[];
}
interface LabelParts extends Parts<undefined> {
  name?: IToken;
}
interface StatementParts extends Parts<A.Statement | undefined> {
  label?: LabelParts;
  inner?: Parts<A.Statement>;
  name?: IToken;
  argList?: ArgListParts;
  args: ArgParts[];
}
interface CompoundParts extends Parts<A.Statement> {
  kw?: IToken;
  exprs: ExprParts[];
  bodies: Parts<A.Body>[];
  /** `shortcut` or `else`. */
  second?: IToken;
  lb?: IToken;
  rb?: IToken;
  branches: Parts<A.BranchDef>[];
  elseIf?: Parts<A.Statement>;
}
interface BranchParts extends Parts<A.BranchDef> {
  label?: LabelParts;
  kw?: IToken;
  body?: Parts<A.Body>;
}
interface ArgListParts extends Parts<undefined> {
  args: ArgParts[];
}
/** A binary operator among an expression's items (a `-` may also be a prefix). */
interface BinaryItem {
  op: IToken;
}
type ExprItem = IToken | GroupParts | BinaryItem;
interface ExprItems {
  /** Prefixes, operands and operators in source order. */
  items: ExprItem[];
  /** Depth of the built expression (tables.ts). */
  d: number;
}
interface ExprParts extends Parts<A.Expr>, ExprItems {}
interface ArgParts extends Parts<A.Arg>, ExprItems {
  name?: IToken;
  eq?: IToken;
}
interface GroupParts extends Parts<A.Expr> {
  exprs: ExprParts[];
  d: number;
}

type Build = (p: never) => void;

// Each rule's parts with every field in place from the start: one shape per rule keeps the
// parse's hot paths monomorphic.
const NONE = undefined;
const newFile = (): FileParts => ({ s: NaN, e: NaN, v: NONE, defs: [] });
const newEnd = (): Parts<undefined> => ({ s: NaN, e: NaN, v: NONE });
const newLabel = (): LabelParts => ({ s: NaN, e: NaN, v: NONE, name: NONE });
const newDefinition = (): DefinitionParts => ({ s: NaN, e: NaN, v: NONE, kw: NONE, name: NONE, lp: NONE, rp: NONE, params: [], body: NONE });
const newParam = (): ParamParts => ({ s: NaN, e: NaN, v: NONE, name: NONE, eq: NONE, expr: NONE });
const newBody = (): BodyParts => ({ s: NaN, e: NaN, v: NONE, lb: NONE, statements: [] });
const newStatement = (): StatementParts => ({ s: NaN, e: NaN, v: NONE, label: NONE, inner: NONE, name: NONE, argList: NONE, args: [] });
const newCompound = (): CompoundParts => ({
  s: NaN,
  e: NaN,
  v: NONE,
  kw: NONE,
  exprs: [],
  bodies: [],
  second: NONE,
  lb: NONE,
  rb: NONE,
  branches: [],
  elseIf: NONE,
});
const newBranch = (): BranchParts => ({ s: NaN, e: NaN, v: NONE, label: NONE, kw: NONE, body: NONE });
const newArgList = (): ArgListParts => ({ s: NaN, e: NaN, v: NONE, args: [] });
const newArg = (): ArgParts => ({ s: NaN, e: NaN, v: NONE, name: NONE, eq: NONE, items: [], d: 1 });
const newExpr = (): ExprParts => ({ s: NaN, e: NaN, v: NONE, items: [], d: 1 });
const newGroup = (): GroupParts => ({ s: NaN, e: NaN, v: NONE, exprs: [], d: 1 });

/** chevrotain's rule for a node's location, for one more token or child. */
function extend(p: Parts<unknown>, start: number, end: number): void {
  if (Number.isNaN(p.s)) {
    p.s = start;
    p.e = end;
  } else if (p.e < end) p.e = end;
}

function isBinary(item: ExprItem): item is BinaryItem {
  return 'op' in item;
}

function isGroup(item: ExprItem): item is GroupParts {
  return 'exprs' in item;
}

// ----- chevrotain internals the parser replaces or reads -----

/** The parts of chevrotain's recovery (its Recoverable trait) and state that CnnParser uses. */
interface Internals {
  invokeRuleCatch(e: unknown, resyncEnabled: boolean, recoveryValueFunc: (e: unknown) => unknown): unknown;
  subruleInternalError(e: unknown, options: unknown, ruleName: string): never;
  tryInRepetitionRecovery(grammarRule: (...args: unknown[]) => void, args: unknown[], lookAhead: () => boolean, expected: TokenType): void;
  flattenFollowSet(): TokenType[];
  getFollowsForInRuleRecovery(type: TokenType, idxInRule: number): TokenType[];
  LA(howMuch: number): IToken;
  currIdx: number;
  RULE_STACK: number[];
  RULE_STACK_IDX: number;
  RULE_OCCURRENCE_STACK: number[];
  RULE_OCCURRENCE_STACK_IDX: number;
}

const chevrotainRecovery = EmbeddedActionsParser.prototype as unknown as Internals;

/** A repetition that recovery re-enters: the same MANY (say) of the same rule invocation. */
interface Reentry {
  rule: (...args: unknown[]) => void;
  args: unknown[];
  ruleIdx: number;
  frame: unknown;
  /** Set when the repetition's next re-entry is due. */
  pending?: unknown[];
}

class CnnParser extends EmbeddedActionsParser {
  /** The text's lines, for the positions of the tree. */
  lines!: LineIndex;
  /** Expressions past MAX_EXPR_DEPTH (the lexer reports the other limits). */
  diagnostics: Diagnostic[] = [];

  /** Per rule on the stack (by RULE_STACK_IDX): its parts, and how to build them. */
  private frames: Parts<unknown>[] = [];
  private builders: Build[] = [];

  // Hot rules reuse their alternatives: building them on every call dominated long parses.
  // Those closures take the rule's parts from `frames`, not from the call that made them.
  private bodyAlts?: IOrAlt<unknown>[];
  private statementAlts?: IOrAlt<unknown>[];
  private labelOption?: () => void;
  private argNameOption?: () => void;
  private prefixMany?: () => void;
  private argMany?: () => void;
  private binaryMany?: () => void;
  private prefixAlts?: IOrAlt<unknown>[];
  private prefixAlts2?: IOrAlt<unknown>[];
  private operandAlts?: IOrAlt<unknown>[];
  private operandAlts2?: IOrAlt<unknown>[];

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: messages });
    this.performSelfAnalysis();
  }

  // ----- gathering -----

  private get depth(): number {
    return (this as unknown as Internals).RULE_STACK_IDX;
  }

  /** A rule starts gathering `p`; recovery that ends it early builds what it has. */
  private open<P extends Parts<unknown>>(p: P, build: (p: P) => void): P {
    if (!this.RECORDING_PHASE) {
      this.frames[this.depth] = p;
      this.builders[this.depth] = build as Build;
    }
    return p;
  }

  /** The parts of the rule being parsed (a throwaway while chevrotain records the grammar). */
  private top<P extends Parts<unknown>>(): P {
    return (this.RECORDING_PHASE ? this.sink : this.frames[this.depth]) as P;
  }

  private readonly sink = { s: NaN, e: NaN, v: NONE, items: [], args: [], statements: [] };

  /** What a rule returns, normally or from recovery: its parts, built. */
  private close<P extends Parts<unknown>>(p: P): P {
    if (!this.RECORDING_PHASE) (this.builders[this.depth] as (p: P) => void).call(this, p);
    return p;
  }

  /** Each rule reads back its own parts, whatever their type. */
  private recovered = (): any => this.close(this.frames[this.depth]);

  /** A token the rule read, into its span. */
  private tok(p: Parts<unknown>, t: IToken): IToken {
    if (!this.RECORDING_PHASE) extend(p, t.startOffset, t.endOffset!);
    return t;
  }

  /** A rule the rule called, into its span. */
  private sub<C extends Parts<unknown>>(p: Parts<unknown>, c: C): C {
    if (!this.RECORDING_PHASE) extend(p, c.s, c.e);
    return c;
  }

  /**
   * The separator a MANY_SEP or AT_LEAST_ONE_SEP has just read before an item: chevrotain
   * reads it itself, but it belongs to the rule's span (`f(1, 2,` ends at the comma).
   */
  private separator(p: Parts<unknown>): void {
    if (this.RECORDING_PHASE) return;
    const prev = this.LA(0);
    if (prev.tokenType === T.Comma) extend(p, prev.startOffset, prev.endOffset!);
  }

  private item(t: IToken): void {
    if (this.RECORDING_PHASE) return;
    const p = this.top<Parts<unknown> & ExprItems>();
    extend(p, t.startOffset, t.endOffset!);
    p.items.push(t);
  }

  private binary(t: IToken): void {
    if (this.RECORDING_PHASE) return;
    const p = this.top<Parts<unknown> & ExprItems>();
    extend(p, t.startOffset, t.endOffset!);
    p.items.push({ op: t });
  }

  private groupItem(g: GroupParts): void {
    if (this.RECORDING_PHASE) return;
    const p = this.top<Parts<unknown> & ExprItems>();
    extend(p, g.s, g.e);
    p.items.push(g);
  }

  // ----- the grammar -----

  public file = this.RULE(
    'file',
    () => {
      const p = this.open(newFile(), this.buildFile);
      this.MANY(() => {
        this.OR([
          { ALT: () => p.defs.push(this.sub(p, this.SUBRULE(this.network))) },
          { ALT: () => p.defs.push(this.sub(p, this.SUBRULE(this.block))) },
          { ALT: () => this.sub(p, this.SUBRULE(this.end)) },
        ]);
      });
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private end = this.RULE(
    'end',
    () => {
      const p = this.open(newEnd(), this.buildNothing);
      this.OR([{ ALT: () => this.tok(p, this.CONSUME(T.Newline)) }, { ALT: () => this.tok(p, this.CONSUME(T.Semicolon)) }]);
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private network = this.RULE(
    'network',
    () => {
      const p = this.open(newDefinition(), this.buildNetwork);
      p.kw = this.tok(p, this.CONSUME(T.Network));
      p.name = this.tok(p, this.CONSUME(T.Ident));
      p.body = this.sub(p, this.SUBRULE(this.body));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private block = this.RULE(
    'block',
    () => {
      const p = this.open(newDefinition(), this.buildBlock);
      p.kw = this.tok(p, this.CONSUME(T.Block));
      p.name = this.tok(p, this.CONSUME(T.Ident));
      this.OPTION(() => {
        p.lp = this.tok(p, this.CONSUME(T.LParen));
        this.MANY_SEP({
          SEP: T.Comma,
          DEF: () => {
            this.separator(p);
            p.params.push(this.sub(p, this.SUBRULE(this.param)));
          },
        });
        p.rp = this.tok(p, this.CONSUME(T.RParen));
      });
      p.body = this.sub(p, this.SUBRULE(this.body));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private param = this.RULE(
    'param',
    () => {
      const p = this.open(newParam(), this.buildParam);
      p.name = this.tok(p, this.CONSUME(T.Ident));
      this.OPTION(() => {
        p.eq = this.tok(p, this.CONSUME(T.Equals));
        p.expr = this.sub(p, this.SUBRULE(this.expr));
      });
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private body = this.RULE(
    'body',
    () => {
      const p = this.open(newBody(), this.buildBody);
      p.lb = this.tok(p, this.CONSUME(T.LBrace));
      this.MANY(() => {
        this.OR(
          (this.bodyAlts ??= [
            { ALT: () => this.tok(this.top(), this.CONSUME(T.Newline)) },
            { ALT: () => this.tok(this.top(), this.CONSUME(T.Semicolon)) },
            {
              ALT: () => {
                const s = this.SUBRULE(this.statement);
                const b = this.top<BodyParts>();
                if (!this.RECORDING_PHASE) b.statements.push(this.sub(b, s));
              },
            },
          ]),
        );
      });
      this.tok(p, this.CONSUME(T.RBrace));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private label = this.RULE(
    'label',
    () => {
      const p = this.open(newLabel(), this.buildNothing);
      p.name = this.tok(p, this.CONSUME(T.Ident));
      this.tok(p, this.CONSUME(T.Colon));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private statement = this.RULE(
    'statement',
    () => {
      const p = this.open(newStatement(), this.buildStatement);
      this.OPTION(
        (this.labelOption ??= () => {
          const s = this.top<StatementParts>();
          s.label = this.sub(s, this.SUBRULE(this.label));
        }),
      );
      this.OR(
        (this.statementAlts ??= [
          { ALT: () => this.inner(this.SUBRULE(this.repeatStatement)) },
          { ALT: () => this.inner(this.SUBRULE(this.residualStatement)) },
          { ALT: () => this.inner(this.SUBRULE(this.mergeStatement)) },
          { ALT: () => this.inner(this.SUBRULE(this.auxStatement)) },
          { ALT: () => this.inner(this.SUBRULE(this.ifStatement)) },
          { ALT: () => this.inner(this.SUBRULE(this.groupStatement)) },
          // A layer or block call, inlined: one rule call per statement keeps long files cheap.
          {
            ALT: () => {
              const s = this.top<StatementParts>();
              s.name = this.tok(s, this.CONSUME(T.Ident));
              this.OPTION2(() => {
                const st = this.top<StatementParts>();
                st.argList = this.sub(st, this.SUBRULE(this.argList));
              });
              this.MANY(
                (this.argMany ??= () => {
                  this.OPTION3(() => this.tok(this.top(), this.CONSUME(T.Comma)));
                  const a = this.SUBRULE(this.arg);
                  const st = this.top<StatementParts>();
                  if (!this.RECORDING_PHASE) st.args.push(this.sub(st, a));
                }),
              );
            },
          },
        ]),
      );
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private inner(c: Parts<A.Statement>): void {
    if (this.RECORDING_PHASE) return;
    const s = this.top<StatementParts>();
    s.inner = this.sub(s, c);
  }

  private repeatStatement = this.RULE(
    'repeatStatement',
    () => {
      const p = this.open(newCompound(), this.buildRepeat);
      p.kw = this.tok(p, this.CONSUME(T.Repeat));
      p.exprs.push(this.sub(p, this.SUBRULE(this.expr)));
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private residualStatement = this.RULE(
    'residualStatement',
    () => {
      const p = this.open(newCompound(), this.buildResidual);
      p.kw = this.tok(p, this.CONSUME(T.Residual));
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      this.OPTION(() => {
        p.second = this.tok(p, this.CONSUME(T.Shortcut));
        p.bodies.push(this.sub(p, this.SUBRULE2(this.body)));
      });
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private mergeStatement = this.RULE(
    'mergeStatement',
    () => {
      const p = this.open(newCompound(), this.buildMerge);
      this.OR([{ ALT: () => (p.kw = this.tok(p, this.CONSUME(T.Add))) }, { ALT: () => (p.kw = this.tok(p, this.CONSUME(T.Concat))) }]);
      p.lb = this.tok(p, this.CONSUME(T.LBrace));
      this.MANY(() => {
        this.OR2([{ ALT: () => this.sub(p, this.SUBRULE(this.end)) }, { ALT: () => p.branches.push(this.sub(p, this.SUBRULE(this.branch))) }]);
      });
      p.rb = this.tok(p, this.CONSUME(T.RBrace));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private branch = this.RULE(
    'branch',
    () => {
      const p = this.open(newBranch(), this.buildBranch);
      this.OPTION(() => (p.label = this.sub(p, this.SUBRULE(this.label))));
      p.kw = this.tok(p, this.CONSUME(T.Branch));
      p.body = this.sub(p, this.SUBRULE(this.body));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private auxStatement = this.RULE(
    'auxStatement',
    () => {
      const p = this.open(newCompound(), this.buildAux);
      p.kw = this.tok(p, this.CONSUME(T.Aux));
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private ifStatement = this.RULE(
    'ifStatement',
    (): CompoundParts => {
      const p = this.open(newCompound(), this.buildIf);
      p.kw = this.tok(p, this.CONSUME(T.If));
      p.exprs.push(this.sub(p, this.SUBRULE(this.expr)));
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      this.OPTION(() => {
        p.second = this.tok(p, this.CONSUME(T.Else));
        this.OR([
          { ALT: () => p.bodies.push(this.sub(p, this.SUBRULE2(this.body))) },
          { ALT: () => (p.elseIf = this.sub(p, this.SUBRULE(this.ifStatement))) },
        ]);
      });
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private groupStatement = this.RULE(
    'groupStatement',
    () => {
      const p = this.open(newCompound(), this.buildGroupStatement);
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private argList = this.RULE(
    'argList',
    () => {
      const p = this.open(newArgList(), this.buildNothing);
      this.tok(p, this.CONSUME(T.LParen));
      this.MANY_SEP({
        SEP: T.Comma,
        DEF: () => {
          this.separator(p);
          p.args.push(this.sub(p, this.SUBRULE(this.arg)));
        },
      });
      this.tok(p, this.CONSUME(T.RParen));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  /** `name=` (optional) and the value's expression, gathered in the same parts. */
  private arg = this.RULE(
    'arg',
    () => {
      const p = this.open(newArg(), this.buildArg);
      this.OPTION(
        (this.argNameOption ??= () => {
          const a = this.top<ArgParts>();
          a.name = this.tok(a, this.CONSUME3(T.Ident));
          a.eq = this.tok(a, this.CONSUME(T.Equals));
        }),
      );
      this.expressionParts();
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  /**
   * Prefixes, operands and operators in one flat rule: the builder applies precedence. One
   * rule call per expression keeps a long file's parse cheap.
   */
  public expr = this.RULE(
    'expr',
    () => {
      const p = this.open(newExpr(), this.buildExpr);
      this.expressionParts();
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private expressionParts(): void {
    this.MANY(
      (this.prefixMany ??= () =>
        this.OR(
          (this.prefixAlts ??= [{ ALT: () => this.item(this.CONSUME(T.Bang)) }, { ALT: () => this.item(this.CONSUME(T.AdditiveOp)) }]),
        )),
    );
    this.OR2(
      (this.operandAlts ??= [
        { ALT: () => this.item(this.CONSUME(T.NumberLit)) },
        { ALT: () => this.item(this.CONSUME(T.Dims)) },
        { ALT: () => this.item(this.CONSUME(T.True)) },
        { ALT: () => this.item(this.CONSUME(T.False)) },
        { ALT: () => this.item(this.CONSUME(T.Ident)) },
        { ALT: () => this.groupItem(this.SUBRULE(this.group)) },
      ]),
    );
    this.MANY2(
      (this.binaryMany ??= () => {
        this.binary(this.CONSUME(T.BinaryOp));
        this.MANY3(() =>
          this.OR3(
            (this.prefixAlts2 ??= [{ ALT: () => this.item(this.CONSUME2(T.Bang)) }, { ALT: () => this.item(this.CONSUME2(T.AdditiveOp)) }]),
          ),
        );
        this.OR4(
          (this.operandAlts2 ??= [
            { ALT: () => this.item(this.CONSUME2(T.NumberLit)) },
            { ALT: () => this.item(this.CONSUME2(T.Dims)) },
            { ALT: () => this.item(this.CONSUME2(T.True)) },
            { ALT: () => this.item(this.CONSUME2(T.False)) },
            { ALT: () => this.item(this.CONSUME2(T.Ident)) },
            { ALT: () => this.groupItem(this.SUBRULE2(this.group)) },
          ]),
        );
      }),
    );
  }

  private group = this.RULE(
    'group',
    () => {
      const p = this.open(newGroup(), this.buildGroup);
      this.tok(p, this.CONSUME(T.LParen));
      this.AT_LEAST_ONE_SEP({
        SEP: T.Comma,
        DEF: () => {
          this.separator(p);
          p.exprs.push(this.sub(p, this.SUBRULE(this.expr)));
        },
      });
      this.tok(p, this.CONSUME(T.RParen));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

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

  // ----- builders: parts to AST -----

  private buildNothing(): void {}

  private buildFile(p: FileParts): void {
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

  private buildNetwork(p: DefinitionParts): void {
    p.v = { kind: 'network', ...this.definitionHead(p) };
  }

  private buildBlock(p: DefinitionParts): void {
    const { name, body, range } = this.definitionHead(p);
    const params: A.Param[] = [];
    for (const q of p.params) if (q.v) params.push(q.v);
    const lp = p.lp ? this.tokenRange(p.lp, name.range) : undefined;
    const paramsRange = lp ? { start: lp.start, end: this.tokenRange(p.rp, lp).end } : undefined;
    p.v = { kind: 'block', name, params, paramsRange, body, range };
  }

  private buildParam(p: ParamParts): void {
    const name = this.name(p.name, this.origin());
    p.v = { name, default: p.eq ? this.exprOf(p.expr, name.range) : undefined, range: this.spanRange(p, name.range) };
  }

  private buildBody(p: BodyParts): void {
    const statements: A.Statement[] = [];
    for (const s of p.statements) if (s.v) statements.push(s.v);
    p.v = { statements, range: this.spanRange(p, this.tokenRange(p.lb, this.origin())) };
  }

  private bodyOf(p: Parts<A.Body> | undefined, fallback: Range): A.Body {
    return p?.v ?? { statements: [], range: fallback };
  }

  private buildStatement(p: StatementParts): void {
    const label = p.label ? this.name(p.label.name, this.origin()) : undefined;
    const stmt = p.inner ? p.inner.v : this.callFrom(p);
    if (!stmt) return;
    stmt.label = label?.text ? label : undefined;
    // A call's parts are this rule's own, and so is its range already.
    if (p.inner) stmt.range = this.spanRange(p, stmt.range);
    p.v = stmt;
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

  private buildRepeat(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    p.v = {
      kind: 'repeat',
      keyword,
      count: this.exprOf(p.exprs[0], keyword.range),
      body: this.bodyOf(p.bodies[0], keyword.range),
      range: this.spanRange(p, keyword.range),
    };
  }

  private buildResidual(p: CompoundParts): void {
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

  private buildMerge(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    const lb = this.tokenRange(p.lb, keyword.range);
    const rb = this.tokenRange(p.rb, lb);
    const branches: A.BranchDef[] = [];
    for (const b of p.branches) if (b.v) branches.push(b.v);
    p.v = {
      kind: keyword.text === 'concat' ? 'concat' : 'add',
      keyword,
      branches,
      body: { statements: [], range: { start: lb.start, end: rb.end } },
      range: this.spanRange(p, keyword.range),
    };
  }

  private buildBranch(p: BranchParts): void {
    const keyword = this.name(p.kw, this.origin());
    const label = p.label ? this.name(p.label.name, keyword.range) : undefined;
    p.v = {
      keyword,
      label: label?.text ? label : undefined,
      body: this.bodyOf(p.body, keyword.range),
      range: this.spanRange(p, keyword.range),
    };
  }

  private buildAux(p: CompoundParts): void {
    const keyword = this.name(p.kw, this.origin());
    p.v = { kind: 'aux', keyword, body: this.bodyOf(p.bodies[0], keyword.range), range: this.spanRange(p, keyword.range) };
  }

  private buildIf(p: CompoundParts): void {
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

  private buildGroupStatement(p: CompoundParts): void {
    const body = this.bodyOf(p.bodies[0], this.spanRange(p, this.origin()));
    const brace = { start: body.range.start, end: this.pos(body.range.start.offset + 1) };
    p.v = { kind: 'group', keyword: { text: '{', range: brace }, body, range: this.spanRange(p, body.range) };
  }

  private buildArg(p: ArgParts): void {
    const range = this.spanRange(p, this.origin());
    const name = p.name && p.eq ? this.name(p.name, range) : undefined;
    const value = this.withinLimit(this.flatExpr(p, p.eq ? p.eq.startOffset + 1 : range.start.offset, range), p.d);
    p.v = { name, value, range };
  }

  private buildExpr(p: ExprParts): void {
    const range = this.spanRange(p, this.origin());
    p.v = this.flatExpr(p, range.start.offset, range);
  }

  /** `( e )` is e itself; `(e1, e2)` a tuple, one level deeper than its deepest item. */
  private buildGroup(p: GroupParts): void {
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
    if (type === T.Ident) return { kind: 'name', name: tok.image, range: this.tokenRange(tok, this.origin()) };
    return undefined;
  }

  // ----- rules that fail -----

  /**
   * A rule that fails and cannot re-sync hands its error up; with a CST, chevrotain still adds
   * what the rule had read to the caller's node (its `partialCstResult`), which keeps the
   * definitions and statements a half-typed file has. Here, likewise: the rule marks the error
   * with its depth, and the caller, seeing it come out of the call, builds the rule's parts and
   * adds them where the call's result would have gone.
   */
  invokeRuleCatch(e: unknown, resyncEnabled: boolean, recoveryValueFunc: (e: unknown) => unknown): unknown {
    try {
      return chevrotainRecovery.invokeRuleCatch.call(this, e, resyncEnabled, recoveryValueFunc);
    } catch (thrown) {
      if (isRecognitionException(thrown as Error)) (thrown as { failedAt?: number }).failedAt = this.depth;
      throw thrown;
    }
  }

  subruleInternalError(e: unknown, options: unknown, ruleName: string): never {
    const failed = e as { failedAt?: number };
    const at = this.depth + 1;
    if (failed && failed.failedAt === at) {
      failed.failedAt = undefined;
      const child = this.frames[at];
      this.builders[at].call(this, child as never);
      this.attach(this.frames[this.depth] as Record<string, unknown> & Parts<unknown>, ruleName, child);
    }
    return chevrotainRecovery.subruleInternalError.call(this, e, options, ruleName);
  }

  /** Where each rule's result goes in its caller's parts, as the rules above put it. */
  private attach(to: Record<string, unknown> & Parts<unknown>, rule: string, child: Parts<unknown>): void {
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

  // ----- bounded recovery -----

  private reentry?: Reentry;

  /**
   * chevrotain recovers inside a repetition (the statements of a body, say) by skipping to
   * where the repetition can go on and calling it again from the end of itself: one stack
   * level per error, so a few thousand bad lines overflowed the stack. The call is the last
   * thing that repetition does, so it can wait: the re-entry is handed down to the call that
   * started the recovery, which makes it, in a loop, once the repetition has returned.
   */
  tryInRepetitionRecovery(grammarRule: (...args: unknown[]) => void, args: unknown[], lookAhead: () => boolean, expectedType: TokenType): void {
    const ruleIdx = this.depth;
    const frame = this.frames[ruleIdx];
    const active = this.reentry;
    if (
      active &&
      active.rule === grammarRule &&
      active.ruleIdx === ruleIdx &&
      active.frame === frame &&
      active.args.length === args.length &&
      active.args.every((a, i) => a === args[i])
    ) {
      chevrotainRecovery.tryInRepetitionRecovery.call(this, (...again: unknown[]) => (active.pending = again), args, lookAhead, expectedType);
      return;
    }
    const mine: Reentry = { rule: grammarRule, args, ruleIdx, frame };
    this.reentry = mine;
    try {
      chevrotainRecovery.tryInRepetitionRecovery.call(this, (...again: unknown[]) => (mine.pending = again), args, lookAhead, expectedType);
      while (mine.pending) {
        const again = mine.pending;
        mine.pending = undefined;
        grammarRule.apply(this, again);
      }
    } finally {
      this.reentry = active;
    }
  }

  /** Per rule stack: where the last scan for a re-sync token started, and what it found where. */
  private resyncScans = new Map<string, { from: number; at: number; type: TokenType }>();

  /**
   * The first token ahead that some rule on the stack can continue with. chevrotain scans for
   * it at every error, and where none is near (a `(` that is never closed keeps every newline
   * after it from ending a statement) every scan ran to the end of the file: quadratic. A scan
   * from a later start, with the same rules on the stack, ends where the last one ended, if it
   * starts before that.
   */
  findReSyncTokenType(): TokenType {
    const self = this as unknown as Internals;
    const key = this.ruleStackKey();
    const from = self.currIdx;
    const last = this.resyncScans.get(key);
    if (last && last.from <= from && from < last.at) return last.type;
    const follows = self.flattenFollowSet();
    for (let k = 1; ; k++) {
      const tok = self.LA(k);
      const type = follows.find((f) => tokenMatcher(tok, f));
      // EOF is always among them, and LA gives EOF past the end: the scan ends.
      if (type) {
        this.resyncScans.set(key, { from, at: from + k, type });
        return type;
      }
    }
  }

  /** The rules being parsed, each with its occurrence in its caller: where the parse is. */
  private ruleStackKey(): string {
    const self = this as unknown as Internals;
    let key = '';
    for (let i = 0; i <= self.RULE_STACK_IDX; i++) key += `${self.RULE_STACK[i]}.`;
    for (let i = 0; i <= self.RULE_OCCURRENCE_STACK_IDX; i++) key += `${self.RULE_OCCURRENCE_STACK[i]},`;
    return key;
  }

  /** What may follow a token at a place in the grammar, by the place: the grammar never changes. */
  private static follows = new Map<string, TokenType[]>();

  /**
   * The tokens that may follow `type` where the parse is, which single-token recovery needs at
   * every error: chevrotain walks the grammar for it each time, the largest cost of an error
   * after the exception's stack trace.
   */
  getFollowsForInRuleRecovery(type: TokenType, idxInRule: number): TokenType[] {
    const key = `${this.ruleStackKey()}${type.tokenTypeIdx}.${idxInRule}`;
    let follows = CnnParser.follows.get(key);
    if (!follows) {
      follows = chevrotainRecovery.getFollowsForInRuleRecovery.call(this, type, idxInRule);
      // Places are few (rules × occurrences × nesting); the bound only guards memory.
      if (CnnParser.follows.size > 10_000) CnnParser.follows.clear();
      CnnParser.follows.set(key, follows);
    }
    return follows;
  }

  /** Starts a parse of `tokens`. */
  begin(tokens: IToken[], lines: LineIndex): void {
    this.input = tokens;
    this.lines = lines;
    this.diagnostics = [];
    this.zero = undefined;
    this.recent.fill(undefined);
    this.resyncScans.clear();
    this.reentry = undefined;
  }

  /** Lets go of the last text's tree and tokens. */
  finish(): void {
    this.frames.length = 0;
    this.input = [];
  }
}

/** The one parser instance: building one costs far more than a parse. */
const parser = new CnnParser();

export interface TokensParseResult {
  file: A.CnnFile;
  /** chevrotain's syntax errors, with our messages. */
  errors: IRecognitionException[];
  /** Errors only a tree shows: an expression nested past MAX_EXPR_DEPTH. */
  diagnostics: Diagnostic[];
}

/** The AST of a text from its tokens (`lex`), with recovery. */
export function parseTokens(tokens: IToken[], lines: LineIndex): TokensParseResult {
  parser.begin(tokens, lines);
  // Every syntax error is an exception to chevrotain, and capturing its stack trace was most of
  // an error's cost; none of them leaves the parser.
  const traces = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const file = (parser.file() as FileParts).v ?? { definitions: [] };
    return { file, errors: parser.errors, diagnostics: parser.diagnostics };
  } finally {
    Error.stackTraceLimit = traces;
    parser.finish();
  }
}
