import { EmbeddedActionsParser, isRecognitionException, tokenMatcher, type IToken, type TokenType } from 'chevrotain';
import * as T from '../lexer';
import type { LineIndex } from '../range';
import { TreeBuilder } from './build';
import { attach, extend, type Build, type ExprItems, type GroupParts, type Parts } from './parts';

/** The parts of chevrotain's recovery (its Recoverable trait) and state that RecoveringParser replaces or reads. */
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

/**
 * An EmbeddedActionsParser whose rules gather their parts (parts.ts) and have them built into
 * the AST (build.ts) where they end, normally or by recovery, and whose recovery is bounded:
 * no stack level per error, no scan to the end of the file per error, no grammar walk per
 * error. parser.ts holds the grammar.
 */
export abstract class RecoveringParser extends EmbeddedActionsParser {
  readonly tree = new TreeBuilder();

  /** Per rule on the stack (by RULE_STACK_IDX): its parts, and how to build them. */
  private frames: Parts<unknown>[] = [];
  private builders: Build[] = [];

  // ----- gathering -----

  protected get depth(): number {
    return (this as unknown as Internals).RULE_STACK_IDX;
  }

  /** A rule starts gathering `p`; recovery that ends it early builds what it has. */
  protected open<P extends Parts<unknown>>(p: P, build: (p: P) => void): P {
    if (!this.RECORDING_PHASE) {
      this.frames[this.depth] = p;
      this.builders[this.depth] = build as Build;
    }
    return p;
  }

  /** The parts of the rule being parsed (a throwaway while chevrotain records the grammar). */
  protected top<P extends Parts<unknown>>(): P {
    return (this.RECORDING_PHASE ? this.sink : this.frames[this.depth]) as P;
  }

  private readonly sink = { s: NaN, e: NaN, v: undefined, items: [], args: [], statements: [] };

  /** What a rule returns, normally or from recovery: its parts, built. */
  protected close<P extends Parts<unknown>>(p: P): P {
    if (!this.RECORDING_PHASE) (this.builders[this.depth] as (p: P) => void).call(this.tree, p);
    return p;
  }

  /** Each rule reads back its own parts, whatever their type. */
  protected recovered = (): any => this.close(this.frames[this.depth]);

  /** A token the rule read, into its span. */
  protected tok(p: Parts<unknown>, t: IToken): IToken {
    if (!this.RECORDING_PHASE) extend(p, t.startOffset, t.endOffset!);
    return t;
  }

  /** A rule the rule called, into its span. */
  protected sub<C extends Parts<unknown>>(p: Parts<unknown>, c: C): C {
    if (!this.RECORDING_PHASE) extend(p, c.s, c.e);
    return c;
  }

  /**
   * The separator a MANY_SEP or AT_LEAST_ONE_SEP has just read before an item: chevrotain
   * reads it itself, but it belongs to the rule's span (`f(1, 2,` ends at the comma).
   */
  protected separator(p: Parts<unknown>): void {
    if (this.RECORDING_PHASE) return;
    const prev = this.LA(0);
    if (prev.tokenType === T.Comma) extend(p, prev.startOffset, prev.endOffset!);
  }

  protected item(t: IToken): void {
    if (this.RECORDING_PHASE) return;
    const p = this.top<Parts<unknown> & ExprItems>();
    extend(p, t.startOffset, t.endOffset!);
    p.items.push(t);
  }

  protected binary(t: IToken): void {
    if (this.RECORDING_PHASE) return;
    const p = this.top<Parts<unknown> & ExprItems>();
    extend(p, t.startOffset, t.endOffset!);
    p.items.push({ op: t });
  }

  protected groupItem(g: GroupParts): void {
    if (this.RECORDING_PHASE) return;
    const p = this.top<Parts<unknown> & ExprItems>();
    extend(p, g.s, g.e);
    p.items.push(g);
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
      this.builders[at].call(this.tree, child as never);
      attach(this.frames[this.depth] as Record<string, unknown> & Parts<unknown>, ruleName, child);
    }
    return chevrotainRecovery.subruleInternalError.call(this, e, options, ruleName);
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
    let follows = RecoveringParser.follows.get(key);
    if (!follows) {
      follows = chevrotainRecovery.getFollowsForInRuleRecovery.call(this, type, idxInRule);
      // Places are few (rules × occurrences × nesting); the bound only guards memory.
      if (RecoveringParser.follows.size > 10_000) RecoveringParser.follows.clear();
      RecoveringParser.follows.set(key, follows);
    }
    return follows;
  }

  /** Starts a parse of `tokens`. */
  begin(tokens: IToken[], lines: LineIndex): void {
    this.input = tokens;
    this.tree.begin(lines);
    this.resyncScans.clear();
    this.reentry = undefined;
  }

  /** Lets go of the last text's tree and tokens. */
  finish(): void {
    this.frames.length = 0;
    this.input = [];
  }
}
