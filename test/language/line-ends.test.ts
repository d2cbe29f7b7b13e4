/**
 * `\r\n`, `\n` and a lone `\r` all end a line, in both parsers and in LineIndex, as LSP counts
 * lines (issue 10): every example rewritten to CR-only and to CRLF gives the same tree, the same
 * diagnostics at the same lines and characters, and positions that agree with LSP's own
 * TextDocument.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { chevrotainParse, parse } from '../../src/language';
import { fastParse } from '../../src/language/fast/parser';
import { lex, Newline } from '../../src/language/lexer';
import { LineIndex } from '../../src/language/range';

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

const files = [...cnnFiles(join(root, 'examples')), ...cnnFiles(join(root, 'test/grammar/cases'))].map((f) => readFileSync(f, 'utf8').replace(/\r\n?/g, '\n'));

/** Files with errors too: a line comment at the end of a line must not swallow the next. */
const broken = [
  'network A {\n  input 3x8x8 // c\n  conv 4 k=\n  relu )\n  bn\n}\n',
  'network A { // open\n  input 3x8x8\n  conv 4 k=3 /* a\n b */ relu\n',
  'block B(c) {\n  conv c k=3 p=1 // x\n  if c > 2 { relu }\n  else { tanh }\n}\nnetwork N {\n  input 3x8x8\n  B(4)\n  @\n}',
];

/** A tree with offsets left out: CRLF moves them, lines and characters must not move. */
function withoutOffsets(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === 'offset' ? undefined : v)));
}

function where(ds: readonly { range: { start: { line: number; character: number } }; message: string; code: string }[]): string[] {
  return ds.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.code} ${d.message}`);
}

describe('line ends', () => {
  it('gives every example, CR-only and CRLF, the tree and diagnostics it has with LF', () => {
    let fast = 0;
    for (const lf of [...files, ...broken]) {
      const cr = lf.replace(/\n/g, '\r');
      const crlf = lf.replace(/\n/g, '\r\n');
      const want = parse(lf);
      // CR-only keeps every offset: the trees are equal, positions and all.
      expect(parse(cr).file).toStrictEqual(want.file);
      expect(chevrotainParse(cr).file).toStrictEqual(chevrotainParse(lf).file);
      expect(withoutOffsets(parse(crlf).file)).toStrictEqual(withoutOffsets(want.file));
      expect(where(parse(cr).diagnostics)).toEqual(where(want.diagnostics));
      expect(where(parse(crlf).diagnostics)).toEqual(where(want.diagnostics));
      // The fast parser takes the same files in every form.
      const took = fastParse(lf) !== undefined;
      expect(fastParse(cr) !== undefined).toBe(took);
      expect(fastParse(crlf) !== undefined).toBe(took);
      if (took) fast++;
      const a = analyzeText(lf);
      expect(where(analyzeText(cr).diagnostics)).toEqual(where(a.diagnostics));
      expect(where(analyzeText(crlf).diagnostics)).toEqual(where(a.diagnostics));
    }
    expect(fast).toBeGreaterThan(5);
  });

  it('ends a line comment at a lone CR', () => {
    const text = 'network A {\r  input 3x8x8 // note\r  conv 4 k=3\r}\r';
    const r = parse(text);
    expect(r.diagnostics).toEqual([]);
    const net = r.file.definitions[0];
    expect(net.body.statements.map((s) => s.keyword.text)).toEqual(['input', 'conv']);
    expect(net.body.statements[1].keyword.range.start).toMatchObject({ line: 2, character: 2 });
    expect(lex(text).tokens.filter((t) => t.tokenType === Newline).map((t) => t.image)).toEqual(['\r', '\r', '\r', '\r']);
  });

  it('counts lines as LSP does, in mixed line ends', () => {
    const text = 'a\rb\nc\r\nd\r\re\n\r\nf\r';
    const doc = TextDocument.create('file:///x.cnn', 'cnn', 1, text);
    const lines = new LineIndex(text);
    expect(lines.lineCount).toBe(doc.lineCount);
    for (let o = 0; o <= text.length; o++) {
      // Between the CR and the LF of a CRLF, LSP has no position; both put it at the line's end.
      if (text[o - 1] === '\r' && text[o] === '\n') continue;
      const p = lines.positionAt(o);
      expect({ line: p.line, character: p.character }, `offset ${o}`).toEqual(doc.positionAt(o));
      expect(lines.offsetAt(p.line, p.character)).toBe(doc.offsetAt(p));
    }
    // A character past a line's end is the line's end, as LSP reads it.
    expect(lines.offsetAt(2, 99)).toBe(doc.offsetAt({ line: 2, character: 99 }));
    expect(lines.offsetAt(0, 99)).toBe(1);
  });
});
