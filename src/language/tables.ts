/**
 * What both parsers must agree on, in one place: the keywords, the binary operators with their
 * precedence, and the nesting limits. chevrotain's lexer and parser (lexer.ts, parser.ts), its
 * tree builder (chevrotain/build.ts) and the hand-written parser (fast/) all read these tables,
 * so a keyword or an operator added here is one to all of them.
 */
import type { BinaryOp } from './ast';

/** Reserved words. Each is one only as a whole name: `adds` and `if2` are names. */
export const KEYWORD_LIST = [
  'network',
  'block',
  'repeat',
  'residual',
  'shortcut',
  'add',
  'concat',
  'branch',
  'aux',
  'if',
  'else',
  'true',
  'false',
] as const;

export type Keyword = (typeof KEYWORD_LIST)[number];

export const KEYWORD_NAMES: ReadonlySet<string> = new Set(KEYWORD_LIST);

/** The longest keyword: a longer name cannot be one, which spares the scanner a lookup. */
export const LONGEST_KEYWORD = Math.max(...KEYWORD_LIST.map((k) => k.length));

/** Binding strength of each binary operator (higher binds tighter); all are left-associative. */
export const PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
};

/** An operator's text to the operator, for the parsers that read it from the source. */
export const BINARY_OPS: ReadonlyMap<string, BinaryOp> = new Map(Object.keys(PRECEDENCE).map((op) => [op, op as BinaryOp]));

/**
 * Limits that keep every recursive walk over the tree (both parsers, the tree builder, the
 * expansion, the analysis, the cache's keys, the server) far from the stack's end, whatever the
 * input. Real networks nest a handful deep; past a limit the file has a positioned error.
 *
 * Block depth: a network's or block's body is at depth 1, every `{` opens one more level, and
 * each `else if` of a chain counts one more (it is an `if` nested in the one before it).
 */
export const MAX_BLOCK_DEPTH = 100;

/**
 * Expression depth, counted two ways, each with this limit: parentheses open at once (since the
 * last brace), and the depth of the expression's tree, where every operator, prefix and tuple
 * is one level (so `a + b + c` is 3 deep: operators of one precedence chain to the left).
 */
export const MAX_EXPR_DEPTH = 100;

export const BLOCK_DEPTH_MESSAGE = `blocks nested more than ${MAX_BLOCK_DEPTH} deep`;
export const EXPR_DEPTH_MESSAGE = `expression nested more than ${MAX_EXPR_DEPTH} deep`;

/**
 * Syntax errors reported per file: past this a file is not being edited but pasted or generated
 * wrongly, and more messages only slow the editor. The parse goes on to the end regardless.
 */
export const MAX_SYNTAX_ERRORS = 100;

/** A token as it appears in a message: long ones cut, so that a message stays one short line. */
export function quoteToken(image: string): string {
  return image.length > 40 ? `'${image.slice(0, 32)}…' (${image.length} characters)` : `'${image}'`;
}

/** The text of a quoted label's piece (`"a{`, `}-{`, `}"` or `"abc"`) without its quote and braces. */
export function quotedLiteral(image: string): string {
  const last = image.charCodeAt(image.length - 1);
  return image.slice(1, image.length > 1 && (last === 34 || last === 123) ? -1 : image.length);
}
