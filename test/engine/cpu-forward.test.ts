import { describe, expect, it } from 'vitest';
import { conv2d } from '../../src/engine/cpu/conv';
import { forwardCpu, lastUses } from '../../src/engine/cpu/forward';
import { inferShapes } from '../../src/engine/shapes';
import { tensor } from '../../src/engine/tensor';
import { buildGraph, expectClose, paramsFor, randomTensor, randomWeights, rng } from './helpers';

const residualNet = () =>
  buildGraph([
    { attrs: { kind: 'input', shape: [2, 5, 5] } },
    { attrs: { kind: 'conv', out: 4, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1, bias: false } },
    { attrs: { kind: 'bn', eps: 1e-5 } },
    { attrs: { kind: 'relu' } },
    { attrs: { kind: 'conv', out: 4, kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, bias: true }, inputs: [0] },
    { attrs: { kind: 'add' }, inputs: [3, 4] },
    { attrs: { kind: 'concat' }, inputs: [5, 0] },
    { attrs: { kind: 'gap' } },
    { attrs: { kind: 'flatten' } },
    { attrs: { kind: 'dropout', p: 0.5 } },
    { attrs: { kind: 'linear', out: 3, bias: true } },
    { attrs: { kind: 'softmax' } },
  ]);

describe('forwardCpu', () => {
  it('derives shapes through every layer', () => {
    expect(inferShapes(residualNet())).toEqual([
      [2, 5, 5], [4, 5, 5], [4, 5, 5], [4, 5, 5], [4, 5, 5], [4, 5, 5], [6, 5, 5], [6, 1, 1], [6], [6], [3], [3],
    ]);
  });

  it('matches the layers composed by hand', () => {
    const g = residualNet();
    const params = paramsFor(g);
    const rand = rng(7);
    const w = randomWeights(params, rand);
    const x = randomTensor([2, 2, 5, 5], rand);
    const all = forwardCpu(g, w, params, x, { keep: 'all' });
    const out = forwardCpu(g, w, params, x);
    expect(out.output.shape).toEqual([2, 3]);
    expect(out.nodes).toBeUndefined();
    expectClose(out.output.data, all.output.data, 0);
    // each softmax row sums to one
    for (let b = 0; b < 2; b++) expect(out.output.data[b * 3] + out.output.data[b * 3 + 1] + out.output.data[b * 3 + 2]).toBeCloseTo(1, 6);
    // the shortcut conv, by hand
    const sc = conv2d(x, w.get('l4.weight')!, w.get('l4.bias')!, { out: 4, kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
    expectClose(all.nodes![4].data, sc.data, 1e-6);
    // the concat's second half is the input itself
    expectClose(all.nodes![6].data.subarray(4 * 25, 6 * 25), x.data.subarray(0, 2 * 25), 0);
  });

  it('last uses: graph outputs live to the end', () => {
    const g = residualNet();
    const last = lastUses(g);
    expect(last[0]).toBe(6);
    expect(last[3]).toBe(5);
    expect(last[11]).toBe(12);
  });

  it('names a missing weight', () => {
    const g = residualNet();
    const params = paramsFor(g);
    const w = randomWeights(params, rng(1));
    w.delete('l2.running_var');
    expect(() => forwardCpu(g, w, params, tensor([1, 2, 5, 5]))).toThrow(/l2\.running_var/);
  });
});
