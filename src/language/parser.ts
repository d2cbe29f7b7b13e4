import { CstParser, EOF, type CstNode, type DSLMethodOptsWithErr, type IOrAlt, type IRecognitionException, type IToken } from 'chevrotain';
import * as T from './lexer';

/**
 * The grammar of LANGUAGE.md as one chevrotain parser. It builds a CST with recovery on, so a
 * half-typed file still gives a tree for everything that can be read; `cst-to-ast.ts` turns
 * that tree into the AST.
 */
class CnnParser extends CstParser {
  // Hot rules reuse their alternatives: building them on every call dominated long parses.
  private bodyAlts?: IOrAlt<unknown>[];
  private statementAlts?: IOrAlt<unknown>[];
  private labelOption?: DSLMethodOptsWithErr<unknown>;
  private argNameOption?: DSLMethodOptsWithErr<unknown>;
  private prefixMany?: () => void;
  private argMany?: () => void;
  private binaryMany?: () => void;
  private prefixAlts?: IOrAlt<unknown>[];
  private prefixAlts2?: IOrAlt<unknown>[];
  private operandAlts?: IOrAlt<unknown>[];
  private operandAlts2?: IOrAlt<unknown>[];

  /**
   * chevrotain makes each node's `children` with `Object.create(null)`: a dictionary-mode object
   * that is slow to build and to collect, and it dominated long parses. Our child keys are rule
   * and token names, none of which an ordinary object's prototype has, so `{}` is safe.
   */
  cstInvocationStateUpdate(fullRuleName: string): void {
    const internals = this as unknown as { setInitialNodeLocation(node: CstNode): void; CST_STACK: CstNode[] };
    const node = { name: fullRuleName, children: {} } as CstNode;
    internals.setInitialNodeLocation(node);
    internals.CST_STACK.push(node);
  }

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, nodeLocationTracking: 'onlyOffset', maxLookahead: 3 });
    this.performSelfAnalysis();
  }

  public file = this.RULE('file', () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.network) },
        { ALT: () => this.SUBRULE(this.block) },
        { ALT: () => this.SUBRULE(this.end) },
      ]);
    });
  });

  private end = this.RULE('end', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Newline) }, { ALT: () => this.CONSUME(T.Semicolon) }]);
  });

  private network = this.RULE('network', () => {
    this.CONSUME(T.Network);
    this.CONSUME(T.Ident);
    this.SUBRULE(this.body);
  });

  private block = this.RULE('block', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
      this.CONSUME(T.RParen);
    });
    this.SUBRULE(this.body);
  });

  private param = this.RULE('param', () => {
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expr);
    });
  });

  private body = this.RULE('body', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR(
        (this.bodyAlts ??= [
          { ALT: () => this.CONSUME(T.Newline) },
          { ALT: () => this.CONSUME(T.Semicolon) },
          { ALT: () => this.SUBRULE(this.statement) },
        ]),
      );
    });
    this.CONSUME(T.RBrace);
  });

  private label = this.RULE('label', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
  });

  private statement = this.RULE('statement', () => {
    this.OPTION((this.labelOption ??= { DEF: () => this.SUBRULE(this.label) }));
    this.OR(
      (this.statementAlts ??= [
        { ALT: () => this.SUBRULE(this.repeatStatement) },
        { ALT: () => this.SUBRULE(this.residualStatement) },
        { ALT: () => this.SUBRULE(this.mergeStatement) },
        { ALT: () => this.SUBRULE(this.auxStatement) },
        { ALT: () => this.SUBRULE(this.ifStatement) },
        { ALT: () => this.SUBRULE(this.groupStatement) },
        // A layer or block call, inlined: one CST node per statement keeps long files cheap.
        {
          ALT: () => {
            this.CONSUME(T.Ident);
            this.OPTION2(() => this.SUBRULE(this.argList));
            this.MANY(
              (this.argMany ??= () => {
                this.OPTION3(() => this.CONSUME(T.Comma));
                this.SUBRULE(this.arg);
              }),
            );
          },
        },
      ]),
    );
  });

  private repeatStatement = this.RULE('repeatStatement', () => {
    this.CONSUME(T.Repeat);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
  });

  private residualStatement = this.RULE('residualStatement', () => {
    this.CONSUME(T.Residual);
    this.SUBRULE(this.body);
    this.OPTION(() => {
      this.CONSUME(T.Shortcut);
      this.SUBRULE2(this.body);
    });
  });

  private mergeStatement = this.RULE('mergeStatement', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Add) }, { ALT: () => this.CONSUME(T.Concat) }]);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR2([{ ALT: () => this.SUBRULE(this.end) }, { ALT: () => this.SUBRULE(this.branch) }]);
    });
    this.CONSUME(T.RBrace);
  });

  private branch = this.RULE('branch', () => {
    this.OPTION(() => this.SUBRULE(this.label));
    this.CONSUME(T.Branch);
    this.SUBRULE(this.body);
  });

  private auxStatement = this.RULE('auxStatement', () => {
    this.CONSUME(T.Aux);
    this.SUBRULE(this.body);
  });

  private ifStatement = this.RULE('ifStatement', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.OR([
        { ALT: () => this.SUBRULE2(this.body) },
        { ALT: () => this.SUBRULE(this.ifStatement) },
      ]);
    });
  });

  private groupStatement = this.RULE('groupStatement', () => {
    this.SUBRULE(this.body);
  });

  private argList = this.RULE('argList', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
    this.CONSUME(T.RParen);
  });

  /** `name=` (optional) and the value's expression, flat in the same node. */
  private arg = this.RULE('arg', () => {
    this.OPTION(
      (this.argNameOption ??= {
        DEF: () => {
          this.CONSUME3(T.Ident);
          this.CONSUME(T.Equals);
        },
      }),
    );
    this.expressionParts();
  });

  /**
   * Prefixes, operands and operators in one flat rule: the visitor orders them by offset and
   * applies precedence. One CST node per expression keeps a long file's parse cheap.
   */
  public expr = this.RULE('expr', () => this.expressionParts());

  private expressionParts(): void {
    this.MANY(
      (this.prefixMany ??= () =>
        this.OR((this.prefixAlts ??= [{ ALT: () => this.CONSUME(T.Bang) }, { ALT: () => this.CONSUME(T.AdditiveOp) }]))),
    );
    this.OR2(
      (this.operandAlts ??= [
        { ALT: () => this.CONSUME(T.NumberLit) },
        { ALT: () => this.CONSUME(T.Dims) },
        { ALT: () => this.CONSUME(T.True) },
        { ALT: () => this.CONSUME(T.False) },
        { ALT: () => this.CONSUME(T.Ident) },
        { ALT: () => this.SUBRULE(this.group) },
      ]),
    );
    this.MANY2(
      (this.binaryMany ??= () => {
        this.CONSUME(T.BinaryOp);
        this.MANY3(() =>
          this.OR3((this.prefixAlts2 ??= [{ ALT: () => this.CONSUME2(T.Bang) }, { ALT: () => this.CONSUME2(T.AdditiveOp) }])),
        );
        this.OR4(
          (this.operandAlts2 ??= [
            { ALT: () => this.CONSUME2(T.NumberLit) },
            { ALT: () => this.CONSUME2(T.Dims) },
            { ALT: () => this.CONSUME2(T.True) },
            { ALT: () => this.CONSUME2(T.False) },
            { ALT: () => this.CONSUME2(T.Ident) },
            { ALT: () => this.SUBRULE2(this.group) },
          ]),
        );
      }),
    );
  }

  private group = this.RULE('group', () => {
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
    this.CONSUME(T.RParen);
  });
}

/** The one parser instance: building one costs far more than a parse. */
export const parser = new CnnParser();

export interface CstParseResult {
  cst: CstNode;
  errors: IRecognitionException[];
}

export function parseTokens(tokens: IToken[]): CstParseResult {
  parser.input = tokens;
  const cst = parser.file();
  return { cst, errors: parser.errors };
}

export { EOF };
