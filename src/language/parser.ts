import type { IOrAlt, IRecognitionException, IToken } from 'chevrotain';
import type { Diagnostic } from './diagnostics';
import type * as A from './ast';
import { messages } from './chevrotain/messages';
import {
  newArg,
  newArgList,
  newBody,
  newBranch,
  newCompound,
  newDefinition,
  newEnd,
  newExpr,
  newFile,
  newGroup,
  newLabel,
  newParam,
  newStatement,
  type ArgParts,
  type BodyParts,
  type CompoundParts,
  type FileParts,
  type Parts,
  type StatementParts,
} from './chevrotain/parts';
import { RecoveringParser } from './chevrotain/recovering-parser';
import * as T from './lexer';
import type { LineIndex } from './range';

/**
 * The grammar of LANGUAGE.md as one chevrotain parser, the reference for both parsers: it
 * parses every file with an error, with recovery on, and builds the AST as it goes (chevrotain's
 * "embedded actions"; docs/parsers.md says why not a CST and a visitor).
 *
 * Recovery leaves a rule half done: each rule gathers its parts (tokens, the results of the
 * rules it called, its span) in one object as it reads them, and turns them into its AST node
 * at its end, or where recovery ends it early. So a half-typed file still gives a tree for
 * everything that could be read; every part may be missing, and a token may be one recovery
 * inserted (no position): the builders tolerate both. In chevrotain/: parts.ts holds what
 * each rule gathers, build.ts turns that into the AST, recovering-parser.ts the gathering and
 * chevrotain's recovery made bounded, messages.ts the error messages.
 */

class CnnParser extends RecoveringParser {
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

  public file = this.RULE(
    'file',
    () => {
      const p = this.open(newFile(), this.tree.buildFile);
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
      const p = this.open(newEnd(), this.tree.buildNothing);
      this.OR([{ ALT: () => this.tok(p, this.CONSUME(T.Newline)) }, { ALT: () => this.tok(p, this.CONSUME(T.Semicolon)) }]);
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private network = this.RULE(
    'network',
    () => {
      const p = this.open(newDefinition(), this.tree.buildNetwork);
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
      const p = this.open(newDefinition(), this.tree.buildBlock);
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
      const p = this.open(newParam(), this.tree.buildParam);
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
      const p = this.open(newBody(), this.tree.buildBody);
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

  /** A name, any keyword (`block:`) or a number (`0:`), or quoted, with `{expr}` interpolations (`"block{s}-{i}":`). */
  private label = this.RULE(
    'label',
    () => {
      const p = this.open(newLabel(), this.tree.buildNothing);
      this.OR([
        { ALT: () => (p.name = this.tok(p, this.CONSUME(T.LabelName))) },
        // `0:`: torchvision's Sequential children are numbers.
        { ALT: () => (p.name = this.tok(p, this.CONSUME(T.NumberLit))) },
        { ALT: () => p.strings.push(this.tok(p, this.CONSUME(T.QuotedLabel))) },
        {
          ALT: () => {
            p.strings.push(this.tok(p, this.CONSUME(T.StringStart)));
            p.exprs.push(this.sub(p, this.SUBRULE(this.expr)));
            this.MANY(() => {
              p.strings.push(this.tok(p, this.CONSUME(T.StringMid)));
              p.exprs.push(this.sub(p, this.SUBRULE2(this.expr)));
            });
            p.strings.push(this.tok(p, this.CONSUME(T.StringEnd)));
          },
        },
      ]);
      this.tok(p, this.CONSUME(T.Colon));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private statement = this.RULE(
    'statement',
    () => {
      const p = this.open(newStatement(), this.tree.buildStatement);
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

  private repeatStatement = this.RULE(
    'repeatStatement',
    () => {
      const p = this.open(newCompound(), this.tree.buildRepeat);
      p.kw = this.tok(p, this.CONSUME(T.Repeat));
      p.exprs.push(this.sub(p, this.SUBRULE(this.expr)));
      this.OPTION(() => {
        this.tok(p, this.CONSUME(T.As));
        p.index = this.tok(p, this.CONSUME(T.Ident));
      });
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private residualStatement = this.RULE(
    'residualStatement',
    () => {
      const p = this.open(newCompound(), this.tree.buildResidual);
      p.kw = this.tok(p, this.CONSUME(T.Residual));
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      // `shortcut:` after the body labels the next statement.
      this.OPTION({
        GATE: () => this.LA(2).tokenType !== T.Colon,
        DEF: () => {
          p.second = this.tok(p, this.CONSUME(T.Shortcut));
          p.bodies.push(this.sub(p, this.SUBRULE2(this.body)));
        },
      });
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private mergeStatement = this.RULE(
    'mergeStatement',
    () => {
      const p = this.open(newCompound(), this.tree.buildMerge);
      this.OR([
        { ALT: () => (p.kw = this.tok(p, this.CONSUME(T.Add))) },
        { ALT: () => (p.kw = this.tok(p, this.CONSUME(T.Concat))) },
        { ALT: () => (p.kw = this.tok(p, this.CONSUME(T.Mul))) },
      ]);
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
      const p = this.open(newBranch(), this.tree.buildBranch);
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
      const p = this.open(newCompound(), this.tree.buildAux);
      p.kw = this.tok(p, this.CONSUME(T.Aux));
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private ifStatement = this.RULE(
    'ifStatement',
    (): CompoundParts => {
      const p = this.open(newCompound(), this.tree.buildIf);
      p.kw = this.tok(p, this.CONSUME(T.If));
      p.exprs.push(this.sub(p, this.SUBRULE(this.expr)));
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      // `else:` after the body labels the next statement.
      this.OPTION({
        GATE: () => this.LA(2).tokenType !== T.Colon,
        DEF: () => {
          p.second = this.tok(p, this.CONSUME(T.Else));
          this.OR([
            { ALT: () => p.bodies.push(this.sub(p, this.SUBRULE2(this.body))) },
            { ALT: () => (p.elseIf = this.sub(p, this.SUBRULE(this.ifStatement))) },
          ]);
        },
      });
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private groupStatement = this.RULE(
    'groupStatement',
    () => {
      const p = this.open(newCompound(), this.tree.buildGroupStatement);
      p.bodies.push(this.sub(p, this.SUBRULE(this.body)));
      return this.close(p);
    },
    { recoveryValueFunc: this.recovered },
  );

  private argList = this.RULE(
    'argList',
    () => {
      const p = this.open(newArgList(), this.tree.buildNothing);
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
      const p = this.open(newArg(), this.tree.buildArg);
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
      const p = this.open(newExpr(), this.tree.buildExpr);
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
      const p = this.open(newGroup(), this.tree.buildGroup);
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

  private inner(c: Parts<A.Statement>): void {
    if (this.RECORDING_PHASE) return;
    const s = this.top<StatementParts>();
    s.inner = this.sub(s, c);
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
  // Every syntax error is an exception to chevrotain, and capturing its stack trace was most of
  // an error's cost; none of them leaves the parser.
  const traces = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return run(tokens, lines);
  } catch {
    // A fault of the parser's own: parse again with stack traces, for a report that says where.
    Error.stackTraceLimit = traces;
    return run(tokens, lines);
  } finally {
    Error.stackTraceLimit = traces;
  }
}

function run(tokens: IToken[], lines: LineIndex): TokensParseResult {
  parser.begin(tokens, lines);
  try {
    const file = (parser.file() as FileParts).v ?? { definitions: [] };
    return { file, errors: parser.errors, diagnostics: parser.tree.diagnostics };
  } finally {
    parser.finish();
  }
}
