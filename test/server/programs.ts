/**
 * Seeded random .cnn programs and edits, for the tests that compare the server against a
 * fresh analysis: blocks calling blocks, compositions, labels, one-line sequences, and edits
 * that break and mend the text.
 */
import { mulberry32 } from '../../src/engine/weights/init';

export interface Rng {
  next(): number;
  pick<T>(xs: readonly T[]): T;
  int(lo: number, hi: number): number;
}

export function rng(seed: number): Rng {
  const r = mulberry32(seed);
  return {
    next: r,
    pick: (xs) => xs[Math.floor(r() * xs.length)],
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
  };
}

const BLOCKS = ['A', 'B', 'C'];

function layerLine(r: Rng, params: string[]): string {
  const c = params.length && r.next() < 0.5 ? r.pick(params) : r.pick(['4', '8', '16']);
  return r.pick([`conv ${c} k=${r.pick(['1', '3'])} p=${r.pick(['0', '1', 'same'])}`, 'bn', 'relu', 'maxpool k=2', `conv ${c} k=3 s=2 p=1`, `x: conv ${c} k=1`, 'bn; relu', 'dropout 0.1']);
}

function body(r: Rng, params: string[], depth: number, self: number): string {
  const out: string[] = [];
  for (let i = 0, n = r.int(1, 4); i < n; i++) {
    const x = r.next();
    if (x < 0.45 || depth > 1) out.push(layerLine(r, params));
    else if (x < 0.6 && self < 2) out.push(`${BLOCKS[self + 1 + Math.floor(r.next() * (2 - self))]}(${r.pick(['4', '8', params[0] ?? '2'])})`);
    else if (x < 0.7) out.push(`residual { ${body(r, params, depth + 1, self)} }`);
    else if (x < 0.78) out.push(`repeat ${r.pick(['0', '1', '2'])} { ${body(r, params, depth + 1, self)} }`);
    else if (x < 0.85) out.push(`concat { branch { ${body(r, params, depth + 1, self)} } branch { relu } }`);
    else if (x < 0.92) out.push(`aux { gap; flatten; linear ${r.pick(['2', '3'])} }`);
    else out.push(`if ${params.length ? `${r.pick(params)} > 4` : 'true'} { relu } else { ${body(r, params, depth + 1, self)} }`);
  }
  return out.join(r.next() < 0.2 ? '; ' : '\n  ');
}

export function program(r: Rng): string {
  const blocks = BLOCKS.map((b, i) => `block ${b}(c, s=1) {\n  ${body(r, ['c', 's'], 0, i)}\n}`);
  const calls = Array.from({ length: r.int(2, 6) }, () => r.pick([`A(${r.pick(['4', '8'])})`, 'repeat 2 { B(4) }', 'C(8)', 'relu', 'A(c=8, s=2)', 'stage: { conv 8 k=3 p=1; relu }']));
  return `network N {\n  input 3x${r.pick(['16x16', '32x32', '8x8'])}\n  ${calls.join('\n  ')}\n}\n${blocks.join('\n')}\n`;
}

export interface Change {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  text: string;
}

/** LSP position → offset in `text`, as LSP counts (UTF-16 code units; a line ends at '\n'). */
export function offsetAt(text: string, p: { line: number; character: number }): number {
  let o = 0;
  for (let l = 0; l < p.line; l++) {
    const nl = text.indexOf('\n', o);
    if (nl < 0) return text.length;
    o = nl + 1;
  }
  const nl = text.indexOf('\n', o);
  return Math.min(o + p.character, nl < 0 ? text.length : nl);
}

export function positionAt(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, character: offset - start };
}

const SNIPPETS = ['relu', '\n  bn', ' k=5', '{', '}', '(', ')', 'conv 4 k=3', '\n  A(4)\n', ';', ' // c', 'x: ', '16', 'repeat 2 { relu }', '\n', '=', 'Z', '/*', '*/'];

/** One random edit of `text` as an LSP change (a range of it replaced), and the text after it. */
export function randomChange(r: Rng, text: string): { change: Change; text: string } {
  const a = r.int(0, text.length);
  const x = r.next();
  const b = x < 0.4 ? a : Math.min(text.length, a + r.int(1, x < 0.8 ? 6 : 40));
  const insert = x < 0.25 ? '' : r.pick(SNIPPETS);
  const change = { range: { start: positionAt(text, a), end: positionAt(text, b) }, text: insert };
  return { change, text: text.slice(0, a) + insert + text.slice(b) };
}
