import * as A from '../ast';
import type { Position, Range } from '../range';
import type { Scanned } from './scanner';

/**
 * Incremental parsing: the statements of the previous version of a text that lie wholly in the
 * text both versions share (before the first change, or after the last) are taken over rather
 * than parsed again, and those after the change are moved in place.
 */
export interface Reuse {
  /** The previous version's statements at every depth, in source order. */
  statements: A.Statement[];
  /** Their start offsets, read before any of them moves. */
  starts: number[];
  /**
   * The block depth each sat at (tables.ts): one taken over at another depth could pass the
   * limit, so it is taken over only at its own.
   */
  depths: number[];
  /** Length of the text both versions start with. */
  prefix: number;
  /** Where the text both versions end with starts, in the old text. */
  oldSuffix: number;
  /** New offset minus old offset in that shared end. */
  delta: number;
  /** Next candidate in `statements`: a parse only moves forward. */
  cursor: number;
  /** Statements taken over (a counter for tests and logs). */
  reused: number;
}

/** What the previous version of a text offers to the parse of the next one. */
export function reuseFrom(file: A.CnnFile, oldText: string, text: string): Reuse {
  const max = Math.min(oldText.length, text.length);
  let p = 0;
  while (p < max && oldText.charCodeAt(p) === text.charCodeAt(p)) p++;
  let q = 0;
  while (q < max - p && oldText.charCodeAt(oldText.length - 1 - q) === text.charCodeAt(text.length - 1 - q)) q++;
  const statements: A.Statement[] = [];
  const depths: number[] = [];
  for (const d of file.definitions) withDepths(d.body.statements, 1, statements, depths);
  const starts = statements.map((s) => s.range.start.offset);
  return { statements, starts, depths, prefix: p, oldSuffix: oldText.length - q, delta: text.length - oldText.length, cursor: 0, reused: 0 };
}

/** `collectStatements`, with the depth of the body each statement is in (an `else if` one more). */
function withDepths(stmts: readonly A.Statement[], depth: number, out: A.Statement[], depths: number[]): void {
  for (const s of stmts) {
    out.push(s);
    depths.push(depth);
    if (s.kind === 'call') continue;
    // A branch's body is inside the braces of its merge: two levels down, as braces count.
    if (s.kind === 'add' || s.kind === 'concat' || s.kind === 'mul') for (const b of s.branches) withDepths(b.body.statements, depth + 2, out, depths);
    else for (const b of A.childBodies(s)) withDepths(b.statements, depth + 1, out, depths);
    const alt = A.elseIf(s);
    if (alt) withDepths([alt], depth + 1, out, depths);
  }
}

/**
 * The previous version's statement that starts at token `t` of the new text, if it lies in
 * text both versions share and so do the two tokens after it (which decided where it ends),
 * and it sat at the same block depth. One in the shared end is moved by the change in length
 * and lines, in place: the old tree is not used again. Returns the index of the token after
 * it in `next`, or undefined where the statement must be parsed.
 */
export function takeOver(r: Reuse, tokens: Scanned, t: number, depth: number): { statement: A.Statement; next: number } | undefined {
  const { starts, ends, lines, lineStarts } = tokens;
  const o = starts[t];
  const inPrefix = o < r.prefix;
  const old = inPrefix ? o : o - r.delta;
  if (!inPrefix && old < r.oldSuffix) return undefined;
  const list = r.statements;
  // Old offsets as they were: statements taken over have moved (and their inner ones with them).
  while (r.cursor < list.length && r.starts[r.cursor] < old) r.cursor++;
  if (r.cursor >= list.length || r.starts[r.cursor] !== old || r.depths[r.cursor] !== depth) return undefined;
  const s = list[r.cursor];
  const end = s.range.end.offset + (inPrefix ? 0 : r.delta);
  // The first token after the statement.
  let lo = t + 1;
  let hi = tokens.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] < end) lo = mid + 1;
    else hi = mid;
  }
  const next = lo;
  if (next > 0 && ends[next - 1] !== end) return undefined;
  if (inPrefix) {
    if (next + 1 > tokens.n || ends[next + 1] > r.prefix) return undefined;
  } else {
    const dLine = lines[t] - s.range.start.line;
    if (o - lineStarts[t] !== s.range.start.character) return undefined;
    if (r.delta !== 0 || dLine !== 0) {
      // Positions are shared between a node and its parts: mark each as moved (a negative
      // character) so that it moves once, then clear the marks.
      eachPosition(s, (p) => {
        if (p.character >= 0) {
          p.offset += r.delta;
          p.line += dLine;
          p.character = -1 - p.character;
        }
      });
      eachPosition(s, (p) => {
        if (p.character < 0) p.character = -1 - p.character;
      });
    }
  }
  r.reused++;
  r.cursor++;
  return { statement: s, next };
}

function rangePositions(r: Range | undefined, f: (p: Position) => void): void {
  if (!r) return;
  f(r.start);
  f(r.end);
}

function exprPositions(e: A.Expr, f: (p: Position) => void): void {
  rangePositions(e.range, f);
  switch (e.kind) {
    case 'tuple':
      for (const i of e.items) exprPositions(i, f);
      break;
    case 'unary':
      exprPositions(e.operand, f);
      break;
    case 'binary':
      exprPositions(e.left, f);
      exprPositions(e.right, f);
      break;
    default:
      break;
  }
}

function labelPositions(l: A.Label | undefined, f: (p: Position) => void): void {
  if (!l) return;
  rangePositions(l.range, f);
  if (l.quoted) for (const q of l.quoted) if (typeof q !== 'string') exprPositions(q, f);
}

function bodyPositions(b: A.Body, f: (p: Position) => void): void {
  rangePositions(b.range, f);
  for (const s of b.statements) eachPosition(s, f);
}

/** Every position in a statement (shared ones more than once). */
function eachPosition(s: A.Statement, f: (p: Position) => void): void {
  rangePositions(s.range, f);
  rangePositions(s.keyword.range, f);
  labelPositions(s.label, f);
  // What a statement holds besides its bodies; the bodies follow, by the one tree walk.
  switch (s.kind) {
    case 'call':
      rangePositions(s.argsRange, f);
      for (const a of s.args) {
        rangePositions(a.range, f);
        if (a.name) rangePositions(a.name.range, f);
        exprPositions(a.value, f);
      }
      return;
    case 'repeat':
      exprPositions(s.count, f);
      if (s.index) rangePositions(s.index.range, f);
      break;
    case 'residual':
      if (s.shortcut) rangePositions(s.shortcut.keyword.range, f);
      break;
    case 'add':
    case 'concat':
    case 'mul':
      for (const b of s.branches) {
        rangePositions(b.range, f);
        rangePositions(b.keyword.range, f);
        labelPositions(b.label, f);
      }
      break;
    case 'if':
      exprPositions(s.condition, f);
      if (s.else) rangePositions(s.else.keyword.range, f);
      break;
    case 'aux':
    case 'group':
      break;
  }
  for (const b of A.childBodies(s)) bodyPositions(b, f);
  const alt = A.elseIf(s);
  if (alt) eachPosition(alt, f);
}
