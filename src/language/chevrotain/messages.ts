import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import * as T from '../lexer';
import { quoteToken } from '../tables';

/** chevrotain's syntax errors in our words: what was expected, in terms a user writes. */

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
export const messages: IParserErrorMessageProvider = {
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
