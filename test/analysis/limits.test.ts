/**
 * Bounds on what the analysis takes (issue: never crash, never hang, never lie): each case is a
 * file a hostile or careless user could write, generated here where it is large. Each must end
 * in a positioned one-line error (or a correct analysis), quickly, with no exception.
 */
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { MAX_CALL_DEPTH } from '../../src/graph/expand';
import { MAX_DIM, MAX_TENSOR_VALUES } from '../../src/layers/limits';
import { cli, errors, where } from '../helpers';

/** Analyses `text`, asserting it takes under `ms` and throws nothing. */
function timed(text: string, ms = 5000) {
  const t0 = performance.now();
  const a = analyzeText(text);
  const elapsed = performance.now() - t0;
  expect(elapsed, `took ${elapsed.toFixed(0)} ms`).toBeLessThan(ms);
  return a;
}

const one = (body: string) => `network T {\n  input 3x8x8\n  ${body}\n}\n`;

describe('numbers past the limits are positioned errors', () => {
  it('conv 1e308 k=3: the channel count, at the argument', () => {
    const t = one('conv 1e308 k=3');
    const [e] = errors(timed(t));
    expect(e.code).toBe('too-large');
    expect(where(t, e)).toEqual({ at: '3:8', text: '1e308' });
    expect(e.message).toBe(`'out' is 1.00e+308, more than the largest size the analysis takes (${MAX_DIM.toLocaleString('en-US')})`);
  });

  it('p=1000000000: the padding, before 10^21 MACs are counted', () => {
    const t = one('conv 16 k=3 p=1000000000');
    const [e] = errors(timed(t));
    expect(e.code).toBe('too-large');
    expect(where(t, e).text).toBe('1000000000');
  });

  it('an input of 10^20 pixels: the input dimensions', () => {
    const t = 'network T {\n  input 3x10000000000x10000000000\n  conv 8 k=3\n}\n';
    const [e] = errors(timed(t));
    expect(e.code).toBe('too-large');
    expect(where(t, e).at).toBe('2:9');
  });

  it('an input within the sizes whose tensor is too large: at the input statement', () => {
    const t = 'network T {\n  input 3x100000x100000\n  conv 8 k=3\n}\n';
    const a = timed(t);
    const [e] = errors(a);
    expect(e.message).toBe(`the input 3×100000×100000 has 30,000,000,000 values, more than the ${MAX_TENSOR_VALUES.toLocaleString('en-US')} a tensor may hold`);
    expect(where(t, e).at).toBe('2:3');
    expect(a.networks[0].totals.macs).toBe(0);
  });

  it('a layer output too large to hold: at the layer, and nothing after it is counted', () => {
    const t = 'network T {\n  input 3x4096x4096\n  conv 1000000 k=1\n  relu\n}\n';
    const a = timed(t);
    const [e] = errors(a);
    expect(e.code).toBe('too-large');
    expect(where(t, e).at).toBe('3:3');
    expect(a.networks[0].layers[2].shape).toBeNull();
  });

  it('non-finite numbers are refused where a number is expected', () => {
    const t = one('bn eps=1e999');
    const [e] = errors(timed(t));
    expect(e.message).toBe("'eps' needs a finite number, not Infinity");
  });

  it('adaptiveavgpool 1000000000 on 8x8: no 10^9 windows are made', () => {
    const t = one('adaptiveavgpool 1000000000');
    const [e] = errors(timed(t, 2000));
    expect(e.code).toBe('too-large');
  });

  it('the largest adaptive pool the limits allow is analysed without materialising windows', () => {
    const a = timed(one(`adaptiveavgpool 1x${MAX_DIM}`), 5000);
    expect(errors(a)).toEqual([]);
    expect(a.networks[0].output).toEqual([3, 1, MAX_DIM]);
  });
});

describe('work bounded by the input, not the expansion', () => {
  it('repeat 1000 { repeat 1000 { relux } }: one error, guessed once', () => {
    const t = 'network T {\n  input 3x8x8\n  repeat 1000 { repeat 1000 { relux } }\n}\n';
    const es = errors(timed(t));
    // A million statements also reach the expansion limit; the unknown name is reported once.
    expect(es.filter((d) => d.code === 'unknown-layer').map((d) => d.message)).toEqual(["unknown layer or block 'relux'; did you mean 'relu'?"]);
  });

  it('a 10^6-character unknown name: an error, no guess, quickly', () => {
    const name = `x${'y'.repeat(999_999)}`;
    const es = errors(timed(one(name)));
    expect(es).toHaveLength(1);
    expect(es[0].message).toBe(`unknown layer or block '${name}'`);
  });

  it(`a chain of 2,000 block calls: an error where it passes ${MAX_CALL_DEPTH} deep`, () => {
    const blocks = Array.from({ length: 2000 }, (_, i) => `block B${i}() { ${i < 1999 ? `B${i + 1}()` : 'relu'} }`).join('\n');
    const t = `network T {\n  input 3x8x8\n  B0()\n}\n${blocks}\n`;
    const es = errors(timed(t));
    expect(es).toHaveLength(1);
    expect(es[0].code).toBe('expansion-limit');
    expect(where(t, es[0]).text).toBe(`B${MAX_CALL_DEPTH}`);
  });

  it('a file that fans out past the layer limit reports the error, and --json stays small', async () => {
    // 1.3 KB: five nested repeats of 10, each a block call, reach 10^5 layers.
    const t = `network Fan {\n  input 3x8x8\n  repeat 10 { A() }\n}\nblock A() { repeat 10 { B() } }\nblock B() { repeat 10 { C() } }\nblock C() { repeat 10 { D() } }\nblock D() { repeat 11 { relu } }\n`;
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'cnn-limits-')), 'fan.cnn');
    writeFileSync(file, t);
    const t0 = performance.now();
    const r = await cli('analyze', file, '--json');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.networks[0].layers).toEqual([]);
    expect(j.diagnostics.map((d: { message: string }) => d.message)).toEqual(['Fan expands to more than 100,000 layers (or 1,000,000 statements); check repeat counts']);
    expect(r.out.length).toBeLessThan(10_000);
  });
});
