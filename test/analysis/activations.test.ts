/** The analysis of issue 12's activation kinds: figures, receptive fields and argument errors at their positions. */
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { describeLayer } from '../../src/layers';
import { errors, layer, net, only, where } from '../helpers';

/** The figures of `x: stmt` after `input shape`. */
function one(shape: string, stmt: string) {
  const a = analyzeText(`network T {\n input ${shape}\n x: ${stmt}\n}`);
  expect(errors(a)).toEqual([]);
  return layer(only(a), 'x');
}

describe('activation figures', () => {
  it('count their operations per element: one per function, one more for the product with x', () => {
    const perElement: [string, number][] = [
      ['relu6', 1],
      ['hardsigmoid', 1],
      ['hardswish', 2],
      ['silu', 2],
      ['swish', 2],
      ['gelu', 2],
      ['gelu approximate=tanh', 2],
      ['identity', 0],
    ];
    for (const [stmt, ops] of perElement) {
      const { info } = one('4x5x6', stmt);
      expect([info.shape, info.params, info.buffers, info.macs, info.ops], stmt).toEqual([[4, 5, 6], 0, 0, 0, ops * 120]);
      expect(info.activationBytes, stmt).toBe(120 * 4);
    }
    expect(one('10', 'hardswish').info.ops).toBe(20);
  });

  it('pass the receptive field through (pointwise), and have none on a flat tensor', () => {
    for (const stmt of ['relu6', 'hardsigmoid', 'hardswish', 'silu', 'gelu approximate=tanh', 'identity']) {
      const n = only(net(` input 3x16x16\n c: conv 4 k=5 s=2 p=2\n a: ${stmt}\n d: conv 4 k=3`));
      const conv = layer(n, 'c').info.rf;
      expect(layer(n, 'a').info.rf, stmt).toEqual(conv);
      expect(layer(n, 'a').info.ownField, stmt).toEqual({ size: [1, 1], stride: [1, 1], padding: [0, 0] });
      // The next layer composes with the conv's field as if the activation were not there.
      expect(layer(n, 'd').info.rf, stmt).toEqual({ size: [9, 9], stride: [2, 2], padding: [2, 2] });
      expect(one('12', stmt).info.rf, stmt).toBeNull();
    }
  });

  it('build their attributes: swish is silu, gelu is exact unless approximate=tanh', () => {
    expect(one('4', 'swish').node.attrs).toEqual({ kind: 'silu' });
    expect(one('4', 'gelu').node.attrs).toEqual({ kind: 'gelu', approximate: 'none' });
    expect(one('4', 'gelu approximate=none').node.attrs).toEqual({ kind: 'gelu', approximate: 'none' });
    const tanh = one('4', 'gelu approximate=tanh').node.attrs;
    expect(tanh).toEqual({ kind: 'gelu', approximate: 'tanh' });
    expect([describeLayer(tanh), describeLayer(one('4', 'gelu').node.attrs), describeLayer(one('4', 'relu6').node.attrs)]).toEqual(['gelu tanh', 'gelu', 'relu6']);
  });
});

describe('activation argument errors', () => {
  function rows(stmt: string) {
    const text = `network T {\n input 4x8x8\n ${stmt}\n}\n`;
    return { text, ds: analyzeText(text).diagnostics.map((d) => ({ d, ...where(text, d) })) };
  }

  it('a misspelt choice is an error at the word, with the guess as a fix', () => {
    const { ds } = rows('gelu approximate=tahn');
    expect(ds.map((r) => [r.at, r.text, r.d.code, r.d.message])).toEqual([['3:19', 'tahn', 'argument-value', "'approximate' is one of none, tanh (did you mean 'tanh'?)"]]);
    expect(ds[0].d.fixes?.[0].edits[0].newText).toBe('tanh');
  });

  it('a choice takes only its bare words: not a number, not a block parameter', () => {
    expect(rows('gelu approximate=1').ds.map((r) => [r.at, r.text, r.d.message])).toEqual([['3:19', '1', "'approximate' is one of none, tanh"]]);
    const a = analyzeText('network T {\n input 4\n G(1)\n}\nblock G(m) {\n gelu approximate=m\n}\n');
    expect(errors(a).map((d) => d.message)).toContain("'approximate' is one of none, tanh");
  });

  it('the new activations take no positional arguments, and gelu names its one', () => {
    expect(rows('relu6 6').ds.map((r) => [r.at, r.text, r.d.code, r.d.message])).toEqual([['3:8', '6', 'too-many-arguments', 'relu6 takes no positional arguments']]);
    expect(rows('gelu tanh').ds.map((r) => [r.at, r.text, r.d.message])).toEqual([['3:7', 'tanh', 'gelu takes no positional arguments; name them: approximate']]);
    expect(rows('hardswish slope=2').ds.map((r) => [r.at, r.text, r.d.code, r.d.message])).toEqual([['3:12', 'slope', 'unknown-argument', 'hardswish takes no arguments']]);
  });
});
