import { createToken, createTokenInstance, Lexer, type IToken, type TokenType } from 'chevrotain';
import { BLOCK_DEPTH_MESSAGE, EXPR_DEPTH_MESSAGE, KEYWORD_LIST, MAX_BLOCK_DEPTH, MAX_EXPR_DEPTH, type Keyword } from './tables';

export { KEYWORD_NAMES } from './tables';

/** What may label a statement unquoted: a name or any keyword (`block:`, `add:`), before a ':'. */
export const LabelName = createToken({ name: 'LabelName', pattern: Lexer.NA });

export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [LabelName] });

const KEYWORD_TOKENS = Object.fromEntries(
  KEYWORD_LIST.map((word) => [word, createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Ident, categories: [LabelName] })]),
) as Record<Keyword, TokenType>;

export const Network = KEYWORD_TOKENS.network;
export const Block = KEYWORD_TOKENS.block;
export const Repeat = KEYWORD_TOKENS.repeat;
export const Residual = KEYWORD_TOKENS.residual;
export const Shortcut = KEYWORD_TOKENS.shortcut;
export const Add = KEYWORD_TOKENS.add;
export const Concat = KEYWORD_TOKENS.concat;
export const Branch = KEYWORD_TOKENS.branch;
export const Aux = KEYWORD_TOKENS.aux;
export const If = KEYWORD_TOKENS.if;
export const Else = KEYWORD_TOKENS.else;
export const True = KEYWORD_TOKENS.true;
export const False = KEYWORD_TOKENS.false;

export const KEYWORDS: TokenType[] = KEYWORD_LIST.map((k) => KEYWORD_TOKENS[k]);

/**
 * `mul` starts a merge only before its brace (`mul { branch ... }`); anywhere else it is a name,
 * so files that called a block, a parameter or a label `mul` keep working. Being of the Ident
 * category, it is accepted wherever a name is.
 */
export const Mul = createToken({ name: 'Mul', pattern: /mul/, longer_alt: Ident, categories: [Ident] });

/** `as` binds a repeat's index (`repeat 6 as i`) only after the count; anywhere else it is a name, as `mul` is. */
export const As = createToken({ name: 'As', pattern: /as/, longer_alt: Ident, categories: [Ident] });

/**
 * A quoted label on one line, `"block1-0"`. One with `{expr}` interpolations, `"block{s}-{i}"`,
 * is split by `lex` into StringStart (`"block{`), the expression's tokens, StringMid (`}-{`),
 * and StringEnd (`}"`): the lexer's regular patterns cannot tell an interpolation's `}` from a
 * body's, but the quotes bound it.
 */
export const QuotedLabel = createToken({ name: 'QuotedLabel', pattern: /"[^"\r\n]*"/ });
/** A quote with no closing one on its line; `lex` reports it. */
export const OpenQuote = createToken({ name: 'OpenQuote', pattern: /"[^"\r\n]*/ });
export const StringStart = createToken({ name: 'StringStart', pattern: Lexer.NA });
export const StringMid = createToken({ name: 'StringMid', pattern: Lexer.NA });
export const StringEnd = createToken({ name: 'StringEnd', pattern: Lexer.NA });

/** `3x224x224`: integer literals only (the spec's `AxB`); `(e1, e2)` is the form for expressions. */
export const Dims = createToken({ name: 'Dims', pattern: /\d+(?:[xX×]\d+)+/ });
export const NumberLit = createToken({ name: 'NumberLit', pattern: /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/ });

// `\r\n`, `\n` and a lone `\r` all end a line, as in LSP (and in range.ts's LineIndex).
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\r\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  line_breaks: true,
  group: Lexer.SKIPPED,
});
/** An unterminated block comment runs to the end of the file; the parser reports it. */
export const OpenBlockComment = createToken({ name: 'OpenBlockComment', pattern: /\/\*[\s\S]*/, line_breaks: true });

export const Newline = createToken({ name: 'Newline', pattern: /\r\n?|\n/, line_breaks: true });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\f]+/, group: Lexer.SKIPPED });

export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });

/** Every binary operator; the tree builder applies precedence, which keeps the grammar flat. */
export const BinaryOp = createToken({ name: 'BinaryOp', pattern: Lexer.NA });
export const OrOr = createToken({ name: 'OrOr', pattern: /\|\|/, categories: BinaryOp });
export const AndAnd = createToken({ name: 'AndAnd', categories: BinaryOp, pattern: /&&/ });
export const CompareOp = createToken({ name: 'CompareOp', categories: BinaryOp, pattern: /==|!=|<=|>=|<|>/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const Bang = createToken({ name: 'Bang', pattern: /!/ });
export const AdditiveOp = createToken({ name: 'AdditiveOp', categories: BinaryOp, pattern: /[+-]/ });
export const MultiplicativeOp = createToken({ name: 'MultiplicativeOp', categories: BinaryOp, pattern: /[*/%]/ });

export const allTokens: TokenType[] = [
  WhiteSpace,
  BlockComment,
  OpenBlockComment,
  LineComment,
  Newline,
  Semicolon,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Comma,
  Colon,
  OrOr,
  AndAnd,
  CompareOp,
  Equals,
  Bang,
  AdditiveOp,
  MultiplicativeOp,
  BinaryOp,
  Dims,
  NumberLit,
  QuotedLabel,
  OpenQuote,
  StringStart,
  StringMid,
  StringEnd,
  ...KEYWORDS,
  Mul,
  As,
  Ident,
  LabelName,
];

const lexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: true });

export interface LexError {
  offset: number;
  length: number;
  message: string;
  /** Ours, said as it is (a malformed quoted label); else the characters are unexpected. */
  own?: boolean;
}

export interface LexResult {
  tokens: IToken[];
  /** Characters no token starts with. */
  errors: LexError[];
  /** Offsets where an unterminated block comment starts. */
  openComments: IToken[];
  /** Quotes not closed on their line. */
  openQuotes: IToken[];
  /** Nesting past MAX_BLOCK_DEPTH or MAX_EXPR_DEPTH, one error where it starts. */
  limits: LexError[];
  /**
   * Where tokens were left out for a limit, from the opening token to the closing one kept
   * (end exclusive): a syntax error there is the limit's doing and is not reported again.
   */
  cut: { start: number; end: number }[];
}

/** What `lex` is leaving out while it is past a limit. */
type Skip =
  /** The inside of a `{ }` opened too deep; `nest` counts braces opened inside it. */
  | { kind: 'brace'; nest: number; start: number }
  /** The inside of a `( )` opened too deep. */
  | { kind: 'paren'; nest: number; start: number }
  /** The rest of an `else if` chain grown too deep, up to the end of the `if` statement. */
  | { kind: 'chain'; nest: number; start: number; closed: boolean; newline?: IToken };

/**
 * Tokenises and applies the statement-end rules: a newline inside `( )` is not a statement end,
 * and a newline may precede `shortcut`, `else` or a `branch` without ending anything.
 *
 * It also applies the nesting limits (tables.ts), for chevrotain's parser: that parser and its
 * error recovery recurse once per level, so the tokens past a limit are left out (the braces or
 * parentheses that open and close the region stay) and the limit is reported once, where it is
 * passed. The hand-written parser gives up at the same limits.
 */
export function lex(text: string): LexResult {
  const result = lexer.tokenize(text);
  const errors: LexError[] = result.errors.map((e) => ({ offset: e.offset, length: e.length, message: e.message }));
  const raw = text.includes('"') ? splitQuoted(result.tokens, errors) : result.tokens;
  const tokens: IToken[] = [];
  const openComments: IToken[] = [];
  const openQuotes: IToken[] = [];
  const limits: LexError[] = [];
  const cut: { start: number; end: number }[] = [];
  /** `(` open since the last brace. */
  let parens = 0;
  let braces = 0;
  /** Per open brace level: the `else if` links of the `if` statement going on at that level. */
  const chain: number[] = [0];
  /** The sum of `chain`: each link nests what follows it one level deeper. */
  let links = 0;
  /** The last token kept closed a brace: an `else` may continue the `if` at this level. */
  let afterClose = false;
  let skip: Skip | undefined;

  const keep = (tok: IToken): void => {
    const type = tok.tokenType;
    if (type === Newline) {
      if (parens > 0) return;
      const prev = tokens[tokens.length - 1];
      // Runs of newlines carry no more meaning than one.
      if (prev && prev.tokenType === Newline) return;
    }
    if (type === Shortcut || type === Else) {
      while (tokens.length && tokens[tokens.length - 1].tokenType === Newline) tokens.pop();
    }
    tokens.push(tok);
  };

  const endSkip = (end: number): void => {
    cut.push({ start: skip!.start, end });
    skip = undefined;
  };

  for (let i = 0; i < raw.length; i++) {
    const tok = raw[i];
    // 'onlyOffset' tracking leaves out the end, which costs less to derive than to track.
    tok.endOffset = tok.startOffset + tok.image.length - 1;
    const type = tok.tokenType;
    if (type === OpenBlockComment) {
      openComments.push(tok);
      continue;
    }
    if (type === OpenQuote) {
      openQuotes.push(tok);
      continue;
    }
    if (skip) {
      if (skip.kind === 'brace') {
        if (type === LBrace) skip.nest++;
        else if (type === RBrace && skip.nest-- === 0) endSkip(tok.startOffset + 1);
        if (skip) continue;
      } else if (skip.kind === 'paren') {
        if (type === LBrace || type === RBrace) endSkip(tok.startOffset);
        else if (type === LParen) skip.nest++;
        else if (type === RParen && skip.nest-- === 0) endSkip(tok.startOffset + 1);
        if (skip) continue;
      } else {
        if (skip.closed) {
          if (type === Newline) {
            skip.newline ??= tok;
            continue;
          }
          skip.closed = false;
          if (type !== Else) {
            const newline = skip.newline;
            endSkip(tok.startOffset);
            if (newline) keep(newline);
          }
        }
        if (skip) {
          if (type === LBrace) skip.nest++;
          else if (type === RBrace) {
            if (skip.nest === 0) endSkip(tok.startOffset);
            else if (--skip.nest === 0) skip.closed = true;
          }
          if (skip) continue;
        }
      }
    }
    if (afterClose && type !== Newline) {
      afterClose = false;
      if (type !== Else) {
        links -= chain[braces];
        chain[braces] = 0;
      } else if (raw[i + 1]?.tokenType === If) {
        // The body of this `else if` is two levels below the `}` before it: one for the link.
        if (braces + links + 2 > MAX_BLOCK_DEPTH) {
          const at = raw[i + 1];
          limits.push({ offset: at.startOffset, length: at.image.length, message: BLOCK_DEPTH_MESSAGE });
          skip = { kind: 'chain', nest: 0, start: tok.startOffset, closed: false };
          continue;
        }
        chain[braces]++;
        links++;
      }
    }
    if (type === LBrace) {
      parens = 0;
      braces++;
      chain[braces] = 0;
      if (braces + links > MAX_BLOCK_DEPTH) {
        limits.push({ offset: tok.startOffset, length: 1, message: BLOCK_DEPTH_MESSAGE });
        skip = { kind: 'brace', nest: 0, start: tok.startOffset };
      }
    } else if (type === RBrace) {
      parens = 0;
      if (braces > 0) {
        links -= chain[braces];
        chain[braces] = 0;
        braces--;
      }
      afterClose = true;
    } else if (type === LParen) {
      parens++;
      if (parens > MAX_EXPR_DEPTH) {
        limits.push({ offset: tok.startOffset, length: 1, message: EXPR_DEPTH_MESSAGE });
        skip = { kind: 'paren', nest: 0, start: tok.startOffset };
        tokens.push(tok);
        // `( )` is no expression: a stand-in keeps the parser from recovering (and reporting)
        // past the `)`; marked as recovery's, it becomes a missing value in the tree.
        const stand = createTokenInstance(NumberLit, '', tok.startOffset + 1, tok.startOffset, NaN, NaN, NaN, NaN);
        stand.isInsertedInRecovery = true;
        tokens.push(stand);
        continue;
      }
    } else if (type === RParen) {
      parens = Math.max(0, parens - 1);
    }
    keep(tok);
  }
  if (skip) endSkip(text.length);
  return { tokens, openComments, openQuotes, limits, cut, errors };
}

/**
 * The tokens with each quoted label that holds `{` or `}` split into its pieces and the tokens
 * of its interpolated expressions. A malformed one (a brace without its pair, a comment inside
 * `{ }`) stays one token, with a lex error.
 */
function splitQuoted(raw: IToken[], errors: LexError[]): IToken[] {
  let out: IToken[] | undefined;
  for (let i = 0; i < raw.length; i++) {
    const tok = raw[i];
    if (tok.tokenType !== QuotedLabel || !/[{}]/.test(tok.image)) {
      out?.push(tok);
      continue;
    }
    out ??= raw.slice(0, i);
    const pieces = quotedPieces(tok.image);
    if (typeof pieces === 'object' && 'problem' in pieces) {
      errors.push({ offset: tok.startOffset + pieces.at, length: pieces.length, message: pieces.problem, own: true });
      out.push(tok);
      continue;
    }
    const at = tok.startOffset;
    for (let k = 0; k < pieces.length; k++) {
      const [from, to] = pieces[k];
      const type = k === 0 ? StringStart : k === pieces.length - 1 ? StringEnd : StringMid;
      out.push(createTokenInstance(type, tok.image.slice(from, to), at + from, at + to - 1, NaN, NaN, NaN, NaN));
      if (k === pieces.length - 1) break;
      const inner = tok.image.slice(to, pieces[k + 1][0]);
      const sub = lexer.tokenize(inner);
      for (const e of sub.errors) errors.push({ offset: at + to + e.offset, length: e.length, message: e.message });
      for (const t of sub.tokens) {
        t.startOffset += at + to;
        out.push(t);
      }
    }
  }
  return out ?? raw;
}

/**
 * The literal pieces of a quoted label's image, as [start, end) pairs: `"a{`, `}-{`, `}"`,
 * what lies between two pieces being an interpolation; or where the label is malformed.
 */
function quotedPieces(image: string): [number, number][] | { problem: string; at: number; length: number } {
  const pieces: [number, number][] = [];
  let from = 0;
  let i = 1;
  for (;;) {
    while (i < image.length - 1 && image[i] !== '{' && image[i] !== '}') i++;
    if (i === image.length - 1) break;
    if (image[i] === '}') return { problem: "a '}' with no '{' before it: a quoted label holds text and {expressions}, not braces", at: i, length: 1 };
    pieces.push([from, i + 1]);
    const open = i;
    i++;
    while (i < image.length - 1 && image[i] !== '{' && image[i] !== '}') i++;
    if (image[i] === '{') return { problem: "a label's {expression} cannot hold another '{'", at: i, length: 1 };
    if (image[i] !== '}') return { problem: "this '{' is never closed: add '}' after its expression", at: open, length: 1 };
    const inner = image.slice(open + 1, i);
    const comment = inner.search(/\/\/|\/\*/);
    if (comment >= 0) return { problem: "a label's {expression} holds no comments", at: open + 1 + comment, length: 2 };
    from = i;
    i++;
  }
  pieces.push([from, image.length]);
  return pieces;
}
