import {
  CstParser,
  EOF,
  tokenMatcher,
  type CstNode,
  type DSLMethodOptsWithErr,
  type IOrAlt,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from 'chevrotain';
import * as T from './lexer';
import { quoteToken } from './tables';

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

/** The parts of chevrotain's recovery (its Recoverable trait) that CnnParser replaces. */
interface Recovery {
  tryInRepetitionRecovery(grammarRule: (...args: unknown[]) => void, args: unknown[], lookAhead: () => boolean, expected: TokenType): void;
  findReSyncTokenType(): TokenType;
  flattenFollowSet(): TokenType[];
  getFollowsForInRuleRecovery(type: TokenType, idxInRule: number): TokenType[];
  LA(howMuch: number): IToken;
  currIdx: number;
  RULE_STACK: number[];
  RULE_STACK_IDX: number;
  RULE_OCCURRENCE_STACK: number[];
  RULE_OCCURRENCE_STACK_IDX: number;
  CST_STACK: CstNode[];
}

const chevrotainRecovery = CstParser.prototype as unknown as Recovery;

/** A repetition that recovery re-enters: the same MANY (say) of the same rule invocation. */
interface Reentry {
  rule: (...args: unknown[]) => void;
  args: unknown[];
  ruleIdx: number;
  node: CstNode;
  /** Set when the repetition's next re-entry is due. */
  pending?: unknown[];
}

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
    super(T.allTokens, { recoveryEnabled: true, nodeLocationTracking: 'onlyOffset', maxLookahead: 3, errorMessageProvider: messages });
    this.performSelfAnalysis();
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
    const self = this as unknown as Recovery;
    const node = self.CST_STACK[self.CST_STACK.length - 1];
    const active = this.reentry;
    if (
      active &&
      active.rule === grammarRule &&
      active.ruleIdx === self.RULE_STACK_IDX &&
      active.node === node &&
      active.args.length === args.length &&
      active.args.every((a, i) => a === args[i])
    ) {
      chevrotainRecovery.tryInRepetitionRecovery.call(this, (...again: unknown[]) => (active.pending = again), args, lookAhead, expectedType);
      return;
    }
    const mine: Reentry = { rule: grammarRule, args, ruleIdx: self.RULE_STACK_IDX, node };
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
    const self = this as unknown as Recovery;
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
    const self = this as unknown as Recovery;
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
  begin(tokens: IToken[]): void {
    this.input = tokens;
    this.resyncScans.clear();
    this.reentry = undefined;
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
  parser.begin(tokens);
  // Every syntax error is an exception to chevrotain, and capturing its stack trace was most of
  // an error's cost; none of them leaves the parser.
  const traces = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const cst = parser.file();
    return { cst, errors: parser.errors };
  } finally {
    Error.stackTraceLimit = traces;
  }
}

export { EOF };
