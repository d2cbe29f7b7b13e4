/**
 * The hand-written parser (src/language/fast/) must give exactly chevrotain's AST for
 * every file chevrotain reads without an error, and give up on every file it does not.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chevrotainParse, IncrementalParser, parse } from '../../src/language';
import { fastParse } from '../../src/language/fast/parser';
import { mulberry32 } from '../../src/engine/weights/init';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function cnnFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...cnnFiles(p));
    else if (name.endsWith('.cnn')) out.push(p);
  }
  return out;
}

/** Both parsers agree: the same AST where chevrotain finds no error, and a fall-back where it does. */
function agree(text: string): boolean {
  const slow = chevrotainParse(text);
  const fast = fastParse(text);
  if (slow.diagnostics.length) {
    expect(fast, `the fast parser accepted a file with errors:\n${text}`).toBeUndefined();
    return false;
  }
  expect(fast, `the fast parser gave up on a valid file:\n${text}`).toBeDefined();
  expect(fast).toStrictEqual(slow.file);
  return true;
}

const SPEC = `network Tiny {
  input 3x32x32
  stem: conv 16 k=(3, 3) p=same
  residual { conv 16 k=3 p=1; bn } shortcut { conv 16 k=1 }
  add { branch { relu } b2: branch { tanh } }
  concat {
    branch { conv 8 k=1 }

    branch { conv 8 k=3 p=1 }
  }
  aux { gap; flatten; linear 10 }
  if 2 > 1 && !false { relu } else if x { tanh } else { sigmoid }
  g: { relu }
  Down(c=32) 1, (2, 3)
  conv (-c / 2 + 1) -(1) k=1x7 p=(0,\n 3)
  r: repeat n * 2 - 1 { relu }
  se: mul { branch { } branch { gap; conv 4 k=1; sigmoid } }
  mul(mul=2) mul
  block: { relu }
  add: conv 4 k=1; branch: relu
  "block1-0": relu; "0": tanh; _: relu; 0: relu; 12 : { 1: tanh }
  r2: repeat 3 as i { "layer{i + 1}": conv 4 k=1; "a{i}-{(i * 2)}": relu; "{-i}": bn }
  concat { _: branch { } branch: branch { relu } "b{1}": branch { } }
  residual { relu }
  shortcut: relu
  if x { relu }
  else: tanh
  repeat as as as { }
}
block Down(c, s=2) { conv c k=3 s=s p=1; repeat 2 { relu } }
block mul(mul) { conv mul k=1 }
block Empty() { }
block NoParens { relu }`;

describe('fast parser', () => {
  it('gives chevrotain\'s AST for every example and test file', () => {
    const files = [...cnnFiles(join(root, 'examples')), ...cnnFiles(join(root, 'test/grammar/cases'))];
    expect(files.length).toBeGreaterThan(5);
    let valid = 0;
    for (const f of files) if (agree(readFileSync(f, 'utf8'))) valid++;
    expect(valid).toBeGreaterThan(5);
    expect(agree(SPEC)).toBe(true);
  });

  it('agrees on every prefix of a file that uses the whole grammar', () => {
    let valid = 0;
    for (let i = 0; i <= SPEC.length; i++) if (agree(SPEC.slice(0, i))) valid++;
    expect(valid).toBeGreaterThan(3);
  });

  it('agrees on random programs and on random edits of them', () => {
    const rand = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const SEP = [' ', ' ', '  ', '\t', '\n', '\n', ';', '; ', '\n\n', ' // note\n', ' /* a\n b */ ', '\r\n', '\n  '];
    const NAMES = ['conv', 'bn', 'relu', 'c', 'k', 'p', 's', 'x', 'Blk', 'same', 'mid_2', 'networks', 'if2', 'adds'];
    const sep = () => pick(SEP);
    const inline = () => pick([' ', '', ' ', '  ', ' /* c */ ']);
    const depthCap = 3;
    const operand = (d: number): string => {
      const r = rand();
      if (r < 0.3) return pick(['1', '64', '0.5', '1e-5', '.5', '2.', '3E+2', '7']);
      if (r < 0.4) return pick(['3x3', '1x7', '3×224×224', '2X2']);
      if (r < 0.5) return pick(['true', 'false']);
      if (r < 0.8 || d >= depthCap) return pick(NAMES);
      const n = rand() < 0.6 ? 1 : 2 + Math.floor(rand() * 2);
      return `(${Array.from({ length: n }, () => expr(d + 1)).join(`,${pick([' ', '', '\n'])}`)})`;
    };
    const prefix = () => (rand() < 0.15 ? pick(['-', '+', '!', '- ', '!-']) : '');
    const expr = (d: number): string => {
      let s = prefix() + operand(d);
      while (rand() < 0.3) s += `${inline()}${pick(['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '&&', '||'])}${inline()}${prefix()}${operand(d)}`;
      return s;
    };
    const arg = (d: number) => (rand() < 0.4 ? `${pick(NAMES)}${pick(['=', ' = ', '='])}${expr(d)}` : expr(d));
    const LABELS = [...NAMES, 'block', 'add', 'branch', 'shortcut', 'else', 'true', 'repeat', '_', '"b1-0"', '"0"', '0', '17', '""', '"l{x}"', '"{x + 1}-{ (2) }y"', '"a{-x}"'];
    const label = () => (rand() < 0.15 ? `${pick(LABELS)}${pick([':', ' :', ': '])}` : '');
    const body = (d: number): string => {
      const n = Math.floor(rand() * 4);
      return `{${sep()}${Array.from({ length: n }, () => statement(d + 1)).join(sep())}${sep()}}`;
    };
    const statement = (d: number): string => {
      const r = rand();
      const l = label();
      if (r < 0.55 || d >= depthCap) {
        let s = pick(NAMES);
        if (rand() < 0.3) s += `(${Array.from({ length: Math.floor(rand() * 3) }, () => arg(d)).join(', ')})`;
        const n = Math.floor(rand() * 4);
        for (let i = 0; i < n; i++) s += `${rand() < 0.2 ? ',' : ''} ${arg(d)}`;
        return l + s;
      }
      if (r < 0.62) return `${l}repeat ${expr(d)} ${rand() < 0.3 ? `as ${pick(NAMES)} ` : ''}${body(d)}`;
      if (r < 0.7) return `${l}residual ${body(d)}${rand() < 0.6 ? `${pick([' ', '\n', '\n\n'])}shortcut ${body(d)}` : ''}`;
      if (r < 0.78) {
        const n = 1 + Math.floor(rand() * 3);
        const branches = Array.from({ length: n }, () => `${label()}branch ${body(d)}`);
        return `${l}${pick(['add', 'concat'])} {${sep()}${branches.join(sep())}${sep()}}`;
      }
      if (r < 0.84) return `${l}aux ${body(d)}`;
      if (r < 0.93) {
        let s = `${l}if ${expr(d)} ${body(d)}`;
        while (rand() < 0.4) s += `${pick([' ', '\n'])}else ${rand() < 0.5 ? `if ${expr(d)} ` : ''}${body(d)}`;
        return s;
      }
      return `${l}${body(d)}`;
    };
    const program = (): string => {
      const defs: string[] = [];
      const n = 1 + Math.floor(rand() * 3);
      for (let i = 0; i < n; i++) {
        if (rand() < 0.5) defs.push(`network ${pick(['A', 'Net', 'N2'])} ${body(0)}`);
        else {
          const params = Array.from({ length: Math.floor(rand() * 3) }, () => (rand() < 0.5 ? pick(NAMES) : `${pick(NAMES)}=${expr(1)}`));
          defs.push(`block ${pick(['B', 'Down', 'Blk'])}${rand() < 0.8 ? `(${params.join(', ')})` : ''} ${body(0)}`);
        }
      }
      return defs.join(pick(['\n', '\n\n', ' ', ';\n']));
    };
    const JUNK = ['#', '|', '&', '@', '(', ')', '{', '}', ',', '=', ':', '\n', ';', 'shortcut', 'else', 'branch', '.', '×', 'x', '3', '-', '/*', '//', ' ', 'é', '"', 'as', 'block'];
    let valid = 0;
    let invalid = 0;
    for (let n = 0; n < 600; n++) {
      let text = program();
      if (n % 2 === 1) {
        for (let e = 1 + Math.floor(rand() * 2); e > 0; e--) {
          const at = Math.floor(rand() * (text.length + 1));
          const del = rand() < 0.5 ? Math.floor(rand() * 3) : 0;
          text = text.slice(0, at) + (rand() < 0.7 ? pick(JUNK) : '') + text.slice(at + del);
        }
      }
      if (agree(text)) valid++;
      else invalid++;
    }
    // Both kinds of file are well represented.
    expect(valid).toBeGreaterThan(150);
    expect(invalid).toBeGreaterThan(100);
  });

  it('lexes the tokens of a fast-parsed file on demand, as chevrotain does', () => {
    const text = 'network A {\n  input 3x8x8 // c\n  conv 4 k=3\n}\n';
    const fast = parse(text);
    const slow = chevrotainParse(text);
    expect(fast.diagnostics).toEqual([]);
    expect(fast.tokens.map((t) => [t.image, t.startOffset])).toEqual(slow.tokens.map((t) => [t.image, t.startOffset]));
    expect(fast.lines.positionAt(20)).toEqual(slow.lines.positionAt(20));
  });
});

describe('incremental parser', () => {
  /** Random edits of a text: characters, tokens and lines typed, deleted and replaced. */
  function edits(text: string, seed: number, count: number): string[] {
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const INSERT = [' ', '\n', 'x', '3', ' 4', 'relu\n  ', '\n  bn', '// c', '{', '}', '(', ')', ',', '=', 'k=3 ', ' residual { relu }', '\n\n', ';', 'shortcut { }', ' else { }', ':'];
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const at = Math.floor(rand() * (text.length + 1));
      const r = rand();
      if (r < 0.4) text = text.slice(0, at) + pick(INSERT) + text.slice(at);
      else if (r < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 6));
      else {
        // Undo-like: back to an earlier version now and then.
        text = out.length && rand() < 0.3 ? pick(out) : text.slice(0, at) + pick(INSERT) + text.slice(at + Math.floor(rand() * 3));
      }
      out.push(text);
    }
    return out;
  }

  it('gives what a fresh parse gives over random edit sequences, taking over the unchanged statements', () => {
    const files = [...cnnFiles(join(root, 'examples')), ...cnnFiles(join(root, 'test/grammar/cases'))].map((f) => readFileSync(f, 'utf8'));
    let reused = 0;
    let checked = 0;
    files.push(SPEC);
    files.forEach((start, i) => {
      const ip = new IncrementalParser();
      for (const text of [start, ...edits(start, 100 + i, 40)]) {
        const got = ip.parse(text);
        const want = parse(text);
        expect(got.diagnostics).toEqual(want.diagnostics);
        expect(got.file).toStrictEqual(want.file);
        checked++;
      }
      reused += ip.reused;
    });
    expect(checked).toBeGreaterThan(350);
    expect(reused).toBeGreaterThan(400);
  });

  it('gives what a fresh parse gives after any one character is replaced, inserted or deleted', () => {
    const text = 'network N {\n  input 3x8x8\n  a: conv 4 k=3\n  residual { relu } shortcut { bn }\n  B(2); relu\n}\nblock B(c) { conv c k=1 }';
    for (let i = 0; i <= text.length; i++) {
      for (const next of [text.slice(0, i) + 'q' + text.slice(i + 1), text.slice(0, i) + '7' + text.slice(i), text.slice(0, i) + text.slice(i + 1)]) {
        const ip = new IncrementalParser();
        ip.parse(text);
        expect(ip.parse(next).file).toStrictEqual(parse(next).file);
      }
    }
  });

  it('moves the statements after an edit: lines, characters and offsets', () => {
    const lines = ['network N {', '  input 3x8x8'];
    for (let i = 0; i < 200; i++) lines.push(i % 2 ? '  relu' : '  conv 4 k=3 p=(1, 1) bias=false');
    lines.push('}');
    let text = lines.join('\n');
    const ip = new IncrementalParser();
    ip.parse(text);
    const before = ip.reused;
    // Type a character on a middle line, then a new line, then delete both.
    for (const next of [
      text.replace('  relu\n  conv', '  relux\n  conv'),
      text.replace('  relu\n  conv', '  relux\n\n  conv'),
      text,
    ]) {
      text = next;
      expect(ip.parse(text).file).toStrictEqual(chevrotainParse(text).file);
    }
    // Nearly all of the 200 statements, three times.
    expect(ip.reused - before).toBeGreaterThan(3 * 195);
  });

  it('takes each statement over once where the text moves by exactly one statement', () => {
    const text = 'network N {\n  input 3x8x8\n  relu\n  relu\n  relu\n  bn\n  relu\n}';
    for (const next of [
      // A line as long as the statements after it: each moves to where the next one was.
      text.replace('  relu\n', '  tanh\n  relu\n'),
      text.replace('  relu\n', '  relu\n  relu\n'),
      text.replace('  input 3x8x8\n', '  input 3x8x8\n  relu\n'),
      text.replace('  relu\n  relu\n', '  relu\n'),
      text.replace('relu\n  bn', 'relu;relu\n  bn'),
    ]) {
      const ip = new IncrementalParser();
      ip.parse(text);
      expect(ip.parse(next).file).toStrictEqual(parse(next).file);
    }
  });
});
