// Seeded mutations of .cnn files for fuzzing the whole pipeline (issue 10):
// test/language/fuzz.test.ts runs a bounded number of them, scripts/fuzz.ts as many as asked.
// Every case is a pure function of (seed, index), so a failure is reproduced from the two.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeText, ExpansionCache } from '../src/analysis';
import type { Diagnostic } from '../src/language/diagnostics';
import { IncrementalParser } from '../src/language';
import { lex } from '../src/language/lexer';

/** The same sequence as src/engine/weights/init's mulberry32, kept here so the script stands alone. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function cnnFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...cnnFiles(p));
    else if (name.endsWith('.cnn')) out.push(p);
  }
  return out.sort();
}

/** The examples and grammar test files under `root`, as texts. */
export function seedTexts(root: string): string[] {
  return [...cnnFiles(join(root, 'examples')), ...cnnFiles(join(root, 'test/grammar/cases'))].map((f) => readFileSync(f, 'utf8'));
}

/** Tokens worth inserting: every keyword, punctuation and operator, and values of each kind. */
const VOCABULARY = [
  'network', 'block', 'repeat', 'residual', 'shortcut', 'add', 'concat', 'branch', 'aux', 'if', 'else', 'true', 'false',
  '{', '}', '(', ')', ',', ':', ';', '=', '\n', '\r', '\r\n', '//', '/*', '*/',
  '+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '&&', '||', '!',
  '0', '1', '3', '64', '0.5', '1e-5', '.5', '1e400', '3x3', '3x224x224', '0x0', '99999999999',
  'conv', 'bn', 'relu', 'linear', 'maxpool', 'input', 'k', 's', 'p', 'same', 'x', 'c', 'Down', 'B',
  'k=', 'p=same', 'k=(1, 2)', 'x:', 'branch {', 'shortcut {', '} else {', 'else if x {',
];

const CHARS = ['@', '#', '$', '`', '~', '?', '^', '|', '&', '\\', '"', "'", '\t', '\f', '\v', '\0', 'é', '×', '\u00a0', '\u2028', '\ud83d\ude00', '\ud800', '\ufeff'];

export interface FuzzCase {
  /** What was done, to tell cases apart in a report. */
  kind: string;
  /** The file mutated. */
  base: string;
  text: string;
}

type Rand = () => number;

function pick<T>(rand: Rand, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)];
}

function int(rand: Rand, n: number): number {
  return Math.floor(rand() * n);
}

/** Token boundaries of a text (whitespace and comments between them stay as they are). */
function tokenSpans(text: string): { start: number; end: number }[] {
  return lex(text).tokens.map((t) => ({ start: t.startOffset, end: t.startOffset + t.image.length }));
}

function mutateTokens(rand: Rand, text: string): string {
  const spans = tokenSpans(text);
  if (!spans.length) return text + pick(rand, VOCABULARY);
  for (let n = 1 + int(rand, 4); n > 0; n--) {
    const t = spans[int(rand, spans.length)];
    const r = rand();
    if (r < 0.35) text = text.slice(0, t.start) + text.slice(t.end);
    else if (r < 0.6) text = text.slice(0, t.end) + ' ' + text.slice(t.start, t.end) + text.slice(t.end);
    else text = text.slice(0, t.start) + pick(rand, VOCABULARY) + ' ' + text.slice(t.start);
    // Offsets after the edit have moved: take fresh ones for the next.
    spans.splice(0, spans.length, ...tokenSpans(text));
    if (!spans.length) break;
  }
  return text;
}

function mutateChars(rand: Rand, text: string): string {
  for (let n = 1 + int(rand, 6); n > 0; n--) {
    const at = int(rand, text.length + 1);
    const r = rand();
    if (r < 0.4) text = text.slice(0, at) + text.slice(at + 1 + int(rand, 3));
    else if (r < 0.7) text = text.slice(0, at) + pick(rand, CHARS) + text.slice(at);
    else text = text.slice(0, at) + text.slice(at, at + 1 + int(rand, 20)) + text.slice(at);
  }
  return text;
}

function randomBytes(rand: Rand, text: string): string {
  const n = 1 + int(rand, 200);
  let junk = '';
  for (let i = 0; i < n; i++) junk += String.fromCharCode(int(rand, 256));
  const at = int(rand, text.length + 1);
  return text.slice(0, at) + junk + text.slice(at);
}

/** A statement or value wrapped deep: braces, repeats, parentheses, prefixes, chains. */
function deepNesting(rand: Rand, text: string): string {
  const n = 50 + int(rand, 250);
  const at = text.indexOf('\n', int(rand, Math.max(1, text.length)));
  const where = at < 0 ? text.length : at + 1;
  const kinds = [
    () => `${'{ '.repeat(n)}relu${' }'.repeat(n)}\n`,
    () => `${'repeat 1 { '.repeat(n)}relu${' }'.repeat(n)}\n`,
    () => `conv ${'('.repeat(n)}4${')'.repeat(n)} k=1\n`,
    () => `conv ${Array(n).fill('1').join(pick(rand, [' + ', '*', ' - ', ' && ', ' < ']))} k=1\n`,
    () => `dropout ${'-'.repeat(n)}1\n`,
    () => `if 1 { relu }${' else if 1 { relu }'.repeat(n)}\n`,
    () => `add { branch { ${'add { branch { '.repeat(n)}relu${' } }'.repeat(n)} } }\n`,
    () => `${'{ '.repeat(n)}\n`,
    () => `conv ${'('.repeat(n)}\n`,
    () => `${'  relu )\n'.repeat(n * 4)}`,
  ];
  return text.slice(0, where) + pick(rand, kinds)() + text.slice(where);
}

function lineEnds(rand: Rand, text: string): string {
  const lf = text.replace(/\r\n?/g, '\n');
  return pick(rand, [lf.replace(/\n/g, '\r'), lf.replace(/\n/g, '\r\n'), lf.replace(/\n/g, () => pick(rand, ['\n', '\r', '\r\n']))]);
}

const MUTATIONS: [string, (rand: Rand, text: string) => string][] = [
  ['tokens', mutateTokens],
  ['tokens', mutateTokens],
  ['chars', mutateChars],
  ['chars', mutateChars],
  ['bytes', randomBytes],
  ['deep', deepNesting],
  ['line ends', (rand, text) => mutateTokens(rand, lineEnds(rand, text))],
  ['truncated', (rand, text) => text.slice(0, int(rand, text.length + 1))],
];

/** Case `index` of the run seeded `seed`: one or two mutations of one of `texts`. */
export function fuzzCase(texts: readonly string[], seed: number, index: number): FuzzCase {
  const rand = mulberry32((seed * 1_000_003 + index) | 0);
  const base = pick(rand, texts);
  let text = base;
  const kinds: string[] = [];
  for (let n = rand() < 0.3 ? 2 : 1; n > 0; n--) {
    const [kind, mutate] = pick(rand, MUTATIONS);
    kinds.push(kind);
    text = mutate(rand, text);
  }
  return { kind: kinds.join('+'), base, text };
}

/** How long one case may take, the pipeline run twice included. */
export const CASE_LIMIT_MS = 5000;

function shown(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => `${d.range.start.offset}-${d.range.end.offset} ${d.code} ${d.message}`);
}

/**
 * What is wrong with how the pipeline takes `text` (nothing, mostly): an exception, an internal
 * error, a diagnostic that is not one positioned line, a case over CASE_LIMIT_MS, or the
 * language server's way (an incremental parse and an expansion cache, after `before`) giving
 * other diagnostics than a fresh analysis.
 */
export function problemsWith(text: string, before: string): string[] {
  const out: string[] = [];
  const t0 = performance.now();
  try {
    const fresh = analyzeText(text);
    for (const d of fresh.diagnostics) {
      if (/internal error|Maximum call stack|\n/.test(d.message)) out.push(`bad message: ${JSON.stringify(d.message.slice(0, 200))}`);
      const { start, end } = d.range;
      if (!(start.offset >= 0 && start.offset <= end.offset && end.offset <= text.length) || start.line < 0 || start.character < 0) {
        out.push(`bad range ${JSON.stringify(d.range)} for ${JSON.stringify(d.message.slice(0, 100))}`);
      }
    }
    const parser = new IncrementalParser();
    const cache = new ExpansionCache();
    analyzeText(before, { parser, cache });
    const served = analyzeText(text, { parser, cache });
    const a = shown(fresh.diagnostics);
    const b = shown(served.diagnostics);
    if (a.join('\n') !== b.join('\n')) out.push(`incremental differs: fresh ${JSON.stringify(a.slice(0, 3))}, served ${JSON.stringify(b.slice(0, 3))}`);
  } catch (e) {
    out.push(`threw ${String((e as Error)?.stack ?? e).split('\n').slice(0, 4).join(' | ')}`);
  }
  const ms = performance.now() - t0;
  if (ms > CASE_LIMIT_MS) out.push(`took ${ms.toFixed(0)} ms`);
  return out;
}
