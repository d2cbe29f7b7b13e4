import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { windowOutput, adaptiveWindows } from '../../src/analysis/layer-math';
import { errors, layer, net, only } from '../helpers';

/** The analysis of one layer statement `stmt` placed after `input shape`, labelled `x`. */
function one(shape: string, stmt: string, dtype?: 'float16') {
  const a = analyzeText(`network T {\n input ${shape}\n x: ${stmt}\n}`, { dtype });
  expect(errors(a)).toEqual([]);
  return layer(only(a), 'x').info;
}

describe('conv', () => {
  it('H\' = ⌊(H + 2P − D(K−1) − 1)/S⌋ + 1, params and MACs', () => {
    const l = one('3x32x32', 'conv 16 k=5 s=2 p=1');
    expect(l.shape).toEqual([16, 15, 15]); // ⌊(32 + 2 − 5)/2⌋ + 1 = 15
    expect(l.params).toBe(16 * 3 * 5 * 5 + 16); // 1,216
    expect(l.macs).toBe(16 * 15 * 15 * (3 * 5 * 5)); // 270,000
    expect(l.ops).toBe(16 * 15 * 15); // bias additions
    expect(l.activationBytes).toBe(16 * 15 * 15 * 4);
    expect(l.ownField).toEqual({ size: [5, 5], stride: [2, 2], padding: [1, 1] });
  });

  it('dilation widens the effective kernel', () => {
    const l = one('1x10x10', 'conv 2 k=3 d=2');
    expect(l.shape).toEqual([2, 6, 6]); // effective kernel 5
    expect(l.params).toBe(2 * 9 + 2);
    expect(l.macs).toBe(2 * 6 * 6 * 9);
    expect(l.rf).toEqual({ size: [5, 5], stride: [1, 1], padding: [0, 0] });
  });

  it('groups divide the input channels each output sees', () => {
    const l = one('8x4x4', 'conv 16 k=3 p=1 g=4 bias=false');
    expect(l.params).toBe(16 * 2 * 3 * 3);
    expect(l.macs).toBe(16 * 4 * 4 * 2 * 9);
    expect(l.ops).toBe(0);
  });

  it('takes height x width sizes and tuples', () => {
    const l = one('3x10x20', 'conv 4 k=1x3 s=(1, 2)');
    expect(l.shape).toEqual([4, 10, 9]);
    expect(l.params).toBe(4 * 3 * 1 * 3 + 4);
  });

  it('p=same keeps the size at stride 1, with dilation', () => {
    expect(one('3x9x9', 'conv 4 k=5 d=2 p=same').shape).toEqual([4, 9, 9]);
    expect(one('3x9x9', 'conv 4 k=3 s=2 p=same').shape).toEqual([4, 5, 5]);
  });
});

describe('linear, bn, activations', () => {
  it('linear: in·out weights plus bias, in·out MACs', () => {
    const l = one('120', 'linear 84');
    expect(l.shape).toEqual([84]);
    expect(l.params).toBe(120 * 84 + 84);
    expect(l.macs).toBe(120 * 84);
    expect(one('120', 'fc 84 bias=false').params).toBe(120 * 84);
  });

  it('bn: 2·C parameters, 2·C buffers, two element-wise ops per value', () => {
    const l = one('16x8x8', 'bn');
    expect([l.params, l.buffers, l.macs, l.ops]).toEqual([32, 32, 0, 2 * 16 * 64]);
    expect(one('10', 'bn').params).toBe(20);
  });

  it('element-wise layers keep the shape and count their ops apart', () => {
    for (const [stmt, ops] of [['relu', 1], ['sigmoid', 1], ['tanh', 1], ['leakyrelu 0.2', 1], ['softmax', 3], ['dropout 0.3', 0]] as const) {
      const l = one('4x5x5', stmt);
      expect(l.shape).toEqual([4, 5, 5]);
      expect([l.params, l.macs, l.ops]).toEqual([0, 0, ops * 100]);
    }
  });

  it('lrn keeps the shape', () => {
    expect(one('8x5x5', 'lrn size=5 alpha=1e-4 beta=0.75 k=2').shape).toEqual([8, 5, 5]);
  });

  it('activation memory follows the dtype', () => {
    expect(one('4x5x5', 'relu', 'float16').activationBytes).toBe(200);
  });
});

describe('pools', () => {
  it('stride defaults to the kernel', () => {
    const l = one('3x7x7', 'avgpool k=2');
    expect(l.shape).toEqual([3, 3, 3]);
    expect(l.ops).toBe(27 * 4);
  });

  it('maxpool with padding', () => {
    expect(one('64x112x112', 'maxpool k=3 s=2 p=1').shape).toEqual([64, 56, 56]);
  });

  it("ceil rounds up, but a last window that would start in the right padding is dropped (PyTorch's rule)", () => {
    expect(one('1x55x55', 'maxpool k=3 s=2 ceil=true').shape).toEqual([1, 27, 27]);
    expect(one('1x56x56', 'maxpool k=3 s=2 ceil=true').shape).toEqual([1, 28, 28]);
    expect(windowOutput(5, 2, 2, 1, 1, true).out).toBe(3); // ⌈(5+2−2)/2⌉+1 = 4, last window starts at 6 ≥ 5+1
    expect(windowOutput(6, 2, 2, 1, 1, true).out).toBe(4);
  });

  it('gap and adaptive average pooling', () => {
    const g = one('64x7x7', 'gap');
    expect(g.shape).toEqual([64, 1, 1]);
    expect(g.ops).toBe(64 * 49);
    expect(g.ownField?.size).toEqual([7, 7]);
    const a = one('256x13x13', 'adaptiveavgpool 6x6');
    expect(a.shape).toEqual([256, 6, 6]);
    expect(adaptiveWindows(13, 6)).toEqual([
      { start: 0, end: 3 }, { start: 2, end: 5 }, { start: 4, end: 7 }, { start: 6, end: 9 }, { start: 8, end: 11 }, { start: 10, end: 13 },
    ]);
    expect(a.ops).toBe(256 * 18 * 18);
  });

  it('flatten gives C·H·W', () => {
    expect(one('256x6x6', 'flatten').shape).toEqual([9216]);
  });
});

describe('merges', () => {
  it('add sums the shape; concat adds channels', () => {
    const n = only(net('input 4x8x8\n s: add { branch { relu } branch { tanh } branch { sigmoid } }\n c: concat { branch { conv 3 k=1 } branch { conv 5 k=3 p=1 } }'));
    expect(layer(n, 's').info).toMatchObject({ shape: [4, 8, 8], ops: 2 * 256 });
    expect(layer(n, 'c').info.shape).toEqual([8, 8, 8]);
    const flat = only(net('input 10\n concat { branch { linear 3 } branch { linear 4 } }'));
    expect(flat.output).toEqual([7]);
  });
});

describe('receptive field', () => {
  it('composes r += (k−1)·j, j *= s, p += pad·j', () => {
    const n = only(net('input 3x32x32\n a: conv 4 k=3 p=1\n b: maxpool k=2\n c: conv 4 k=3 p=1'));
    expect(layer(n, 'a').info.rf).toEqual({ size: [3, 3], stride: [1, 1], padding: [1, 1] });
    expect(layer(n, 'b').info.rf).toEqual({ size: [4, 4], stride: [2, 2], padding: [1, 1] });
    expect(layer(n, 'c').info.rf).toEqual({ size: [8, 8], stride: [2, 2], padding: [3, 3] });
    expect(layer(n, 'c').info.ownField).toEqual({ size: [3, 3], stride: [1, 1], padding: [1, 1] });
  });

  it('takes the largest field over the paths of a merge', () => {
    const n = only(net('input 4x16x16\n r: residual { conv 4 k=3 p=1; conv 4 k=3 p=1 } shortcut { conv 4 k=1 }\n c: concat { branch { conv 2 k=1 } branch { conv 2 k=5 p=2 } branch { conv 2 k=1x7 p=(0, 3) } }'));
    expect(layer(n, 'r').info.rf?.size).toEqual([5, 5]);
    // After the residual (field 5, padding 2): 5 + 4 = 9 by the 5×5, 5 + 6 = 11 wide by the 1×7.
    expect(layer(n, 'c').info.rf).toEqual({ size: [9, 11], stride: [1, 1], padding: [4, 5] });
  });

  it('ends at flatten', () => {
    const n = only(net('input 3x8x8\n f: flatten\n l: linear 2'));
    expect(layer(n, 'f').info.rf).toBeNull();
    expect(layer(n, 'l').info.rf).toBeNull();
  });
});

describe('totals', () => {
  it('peak live memory: tensors live from their layer to their last user', () => {
    // 768 B input → conv (1,024 B) → relu (1,024 B): the input is freed after the conv.
    expect(only(net('input 3x8x8\n conv 4 k=1\n relu')).totals.peakActivationBytes).toBe(2048);
    // A residual keeps its input alive until the sum: x + conv b + sum at the add.
    const r = only(net('input 4x4x4\n residual { conv 4 k=1; conv 4 k=1 }'));
    expect(r.totals.activationBytes).toBe(4 * 256);
    expect(r.totals.peakActivationBytes).toBe(768);
  });

  it('depth counts conv and linear layers on the longest path', () => {
    const n = only(net('input 4x8x8\n residual { conv 4 k=1; relu; conv 4 k=1 }\n concat { branch { conv 4 k=1 } branch { conv 4 k=1; conv 4 k=1; conv 4 k=1 } }\n gap\n flatten\n linear 3'));
    expect(n.totals.depth).toBe(2 + 3 + 1);
  });

  it('sums parameters, buffers, MACs and ops over layers', () => {
    const n = only(net('input 3x8x8\n conv 4 k=3 p=1\n bn\n relu\n flatten\n linear 2'));
    expect(n.totals.params).toBe(4 * 27 + 4 + 8 + 256 * 2 + 2);
    expect(n.totals.buffers).toBe(8);
    expect(n.totals.macs).toBe(4 * 64 * 27 + 256 * 2);
    expect(n.totals.ops).toBe(256 + 512 + 256 + 2);
  });
});
