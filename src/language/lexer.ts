import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Ident });
}

export const Network = keyword('network');
export const Block = keyword('block');
export const Repeat = keyword('repeat');
export const Residual = keyword('residual');
export const Shortcut = keyword('shortcut');
export const Add = keyword('add');
export const Concat = keyword('concat');
export const Branch = keyword('branch');
export const Aux = keyword('aux');
export const If = keyword('if');
export const Else = keyword('else');
export const True = keyword('true');
export const False = keyword('false');

export const KEYWORDS = [Network, Block, Repeat, Residual, Shortcut, Add, Concat, Branch, Aux, If, Else, True, False];
export const KEYWORD_NAMES = new Set(KEYWORDS.map((t) => String(t.PATTERN).slice(1, -1)));

/** `3x224x224`: integer literals only (the spec's `AxB`); `(e1, e2)` is the form for expressions. */
export const Dims = createToken({ name: 'Dims', pattern: /\d+(?:[xX×]\d+)+/ });
export const NumberLit = createToken({ name: 'NumberLit', pattern: /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/ });

export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  line_breaks: true,
  group: Lexer.SKIPPED,
});
/** An unterminated block comment runs to the end of the file; the parser reports it. */
export const OpenBlockComment = createToken({ name: 'OpenBlockComment', pattern: /\/\*[\s\S]*/, line_breaks: true });

export const Newline = createToken({ name: 'Newline', pattern: /\r?\n/, line_breaks: true });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\f]+/, group: Lexer.SKIPPED });

export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });

/** Every binary operator; the visitor applies precedence, which keeps the CST small. */
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
  ...KEYWORDS,
  Ident,
];

const lexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: true });

export interface LexResult {
  tokens: IToken[];
  errors: { offset: number; length: number; message: string }[];
  /** Offsets where an unterminated block comment starts. */
  openComments: IToken[];
}

/**
 * Tokenises and applies the statement-end rules: a newline inside `( )` is not a statement end,
 * and a newline may precede `shortcut`, `else` or a `branch` without ending anything.
 */
export function lex(text: string): LexResult {
  const result = lexer.tokenize(text);
  const tokens: IToken[] = [];
  const openComments: IToken[] = [];
  let depth = 0;
  for (const tok of result.tokens) {
    // 'onlyOffset' tracking leaves out the end, which costs less to derive than to track.
    tok.endOffset = tok.startOffset + tok.image.length - 1;
    const type = tok.tokenType;
    if (type === OpenBlockComment) {
      openComments.push(tok);
      continue;
    }
    if (type === LParen) depth++;
    else if (type === RParen) depth = Math.max(0, depth - 1);
    else if (type === LBrace || type === RBrace) depth = 0;
    if (type === Newline) {
      if (depth > 0) continue;
      const prev = tokens[tokens.length - 1];
      // Runs of newlines carry no more meaning than one.
      if (prev && prev.tokenType === Newline) continue;
    }
    if (type === Shortcut || type === Else) {
      while (tokens.length && tokens[tokens.length - 1].tokenType === Newline) tokens.pop();
    }
    tokens.push(tok);
  }
  return {
    tokens,
    openComments,
    errors: result.errors.map((e) => ({ offset: e.offset, length: e.length, message: e.message })),
  };
}
