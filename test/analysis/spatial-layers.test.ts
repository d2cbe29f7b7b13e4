/** The analysis of upsample and convtranspose: shapes, parameters, MACs, element-wise ops, own fields, diagnostics at their places. */
import { describe, expect, it } from 'vitest';
import { ExpansionCache, analyzeText } from '../../src/analysis';
import { describeLayer, layerDef } from '../../src/layers';
import { ratioText, toFraction } from '../../src/layers/ratio';
import { humanReport } from '../../src/cli/report';
import { pair, rfShort } from '../../src/server/format';
import { rfText } from '../../webview/src/model';
import { errors, example, layer, only, where } from '../helpers';

/** The hover formula lines of the layer `x`. */
function formulas(shape: string, stmt: string): string[] {
  const { node, info } = one(shape, stmt);
  return layerDef(node.attrs).formulas!(node.attrs, info.inputShapes[0]!, info.shape!, { params: info.params, buffers: 0, macs: info.macs, flops: 'mac', grouped: (n) => n.toLocaleString('en-US') });
}

function one(shape: string, stmt: string) {
  const a = analyzeText(`network T {\n input ${shape}\n x: ${stmt}\n}`);
  expect(errors(a)).toEqual([]);
  return layer(only(a), 'x');
}

/** Each diagnostic as [line:col, the text it covers, message]. */
function problems(shape: string, stmt: string): string[][] {
  const text = `network T {\n input ${shape}\n ${stmt}\n}`;
  return analyzeText(text).diagnostics.map((d) => [where(text, d).at, where(text, d).text, d.message]);
}

const own = (f: { size: number[]; stride: number[]; padding: number[] } | null) => f && { size: f.size, stride: f.stride.map(ratioText), padding: f.padding };

describe('upsample', () => {
  it('by a factor: H·u x W·u, no parameters or MACs, one op per output value (a copy)', () => {
    const { info, node } = one('3x5x7', 'upsample 2');
    expect(info.shape).toEqual([3, 10, 14]);
    expect([info.params, info.macs, info.ops]).toEqual([0, 0, 3 * 10 * 14]);
    expect(own(info.ownField)).toEqual({ size: [1, 1], stride: ['1/2', '1/2'], padding: [0, 0] });
    expect(describeLayer(node.attrs)).toBe('upsample 2');
  });

  it('by height x width factors, bilinear: four taps per output value', () => {
    const { info, node } = one('2x4x5', 'upsample 2x3 mode=bilinear');
    expect(info.shape).toEqual([2, 8, 15]);
    expect(info.ops).toBe(4 * 2 * 8 * 15);
    // Pixel 0's source is −1/4 (row) and −1/3 (column): its two taps start one pixel before the input, which the clamp repeats.
    expect(own(info.ownField)).toEqual({ size: [2, 2], stride: ['1/2', '1/3'], padding: [1, 1] });
    expect(describeLayer(node.attrs)).toBe('upsample 2x3 bilinear');
  });

  it('to a size, down as well as up, with align_corners', () => {
    const { info, node } = one('2x9x6', 'upsample size=5x11 mode=bilinear align_corners=true');
    expect(info.shape).toEqual([2, 5, 11]);
    // Rows: source o·8/4 = 2o, on a pixel each time; columns o·5/10 = o/2.
    expect(own(info.ownField)).toEqual({ size: [1, 2], stride: ['2', '1/2'], padding: [0, 0] });
    expect(describeLayer(node.attrs)).toBe('upsample size 5x11 bilinear align_corners');
  });

  it('the receptive field in the input: the stride becomes a fraction', () => {
    const a = analyzeText('network T {\n input 3x32x32\n conv 8 k=3 s=2 p=1\n x: upsample 4\n y: conv 8 k=3 p=1\n}');
    const n = only(a);
    expect(own(layer(n, 'x').info.rf)).toEqual({ size: [3, 3], stride: ['1/2', '1/2'], padding: [1, 1] });
    // Four neighbours share one conv pixel, so three neighbours span at most two: 3 + (2 − 1)·2 input pixels.
    expect(own(layer(n, 'y').info.rf)).toEqual({ size: [5, 5], stride: ['1/2', '1/2'], padding: [3, 3] });
  });

  it('hover formulas', () => {
    expect(formulas('3x5x7', 'upsample 2')).toEqual(["H' = 5·2 = 10, W' = 7·2 = 14", 'source pixel = ⌊o·1/2⌋']);
    expect(formulas('3x5x5', 'upsample 3 mode=bilinear')).toEqual(["H' = W' = 5·3 = 15", 'source pixel = (o + 0.5)·1/3 − 0.5']);
    expect(formulas('3x5x7', 'upsample size=9x13 mode=bilinear align_corners=true')).toEqual(["H' × W' = 9×13 (size)", "source row = o·(5 − 1)/(9 − 1), column = o·(7 − 1)/(13 − 1)"]);
  });

  it('errors at their arguments', () => {
    expect(problems('3x8x8', 'upsample')).toEqual([['3:2', 'upsample', "upsample needs a factor or a size, as in 'upsample 2' or 'upsample size=14x14'"]]);
    expect(problems('3x8x8', 'upsample 2 size=16x16')).toEqual([['3:13', 'size=16x16', 'upsample takes a factor or a size, not both (PyTorch refuses both)']]);
    expect(problems('3x8x8', 'upsample 2 align_corners=false')).toEqual([['3:13', 'align_corners=false', 'align_corners is for mode=bilinear: PyTorch refuses it with nearest']]);
    expect(problems('3x8x8', 'upsample 2 mode=bilinar')).toEqual([['3:18', 'bilinar', "'mode' is one of nearest, bilinear (did you mean 'bilinear'?)"]]);
    expect(problems('3x8x8', 'upsample 2 mode=3')).toEqual([['3:18', '3', "'mode' is one of nearest, bilinear"]]);
    expect(problems('3x8x8', 'upsample 1.5')).toEqual([['3:11', '1.5', "'scale' needs a positive integer or HxW, not 1.5"]]);
    expect(problems('12', 'upsample 2')).toEqual([['3:2', 'upsample 2', 'upsample needs an image-shaped input C×H×W, but gets the flat 12']]);
  });
});

describe('convtranspose', () => {
  it("H' = (H − 1)·S − 2P + D(K − 1) + OP + 1; weight C_in x C_out/g x Kh x Kw; MACs per input value", () => {
    const { info, node } = one('16x7x9', 'convtranspose 8 k=3 s=2 p=1 op=1');
    expect(info.shape).toEqual([8, 14, 18]); // (7 − 1)·2 − 2 + 2 + 1 + 1 = 14
    expect(info.params).toBe(16 * 8 * 3 * 3 + 8);
    expect(info.macs).toBe(16 * 7 * 9 * (8 * 3 * 3));
    expect(info.ops).toBe(8 * 14 * 18); // bias additions
    const a = analyzeText('network T {\n input 16x7x9\n x: convtranspose 8 k=3 s=2 p=1 op=1\n}');
    expect(only(a).tensors.map((t) => [t.name, t.shape])).toEqual([
      ['x.weight', [16, 8, 3, 3]],
      ['x.bias', [8]],
    ]);
    // Even outputs take tap 1 of one input, odd ones taps 0 and 2 of two.
    expect(own(info.ownField)).toEqual({ size: [2, 2], stride: ['1/2', '1/2'], padding: [0, 0] });
    expect(describeLayer(node.attrs)).toBe('convtranspose 8 k3 s2 p1 op1');
  });

  it('groups, dilation and height x width arguments', () => {
    const { info, node } = one('4x5x6', 'convtranspose 6 k=2x3 s=1x2 p=0x1 op=0x1 d=2x1 g=2 bias=false');
    expect(info.shape).toEqual([6, 7, 12]); // H: 4 + 2 + 1; W: 10 − 2 + 2 + 1 + 1
    expect(info.params).toBe(4 * 3 * 2 * 3);
    expect(info.macs).toBe(4 * 5 * 6 * (3 * 2 * 3));
    expect(info.ops).toBe(0);
    expect(describeLayer(node.attrs)).toBe('convtranspose 6 k2x3 s1x2 p0x1 op0x1 d2x1 g2');
  });

  it('hover formulas', () => {
    expect(formulas('16x7x7', 'convtranspose 8 k=4 s=2 p=1')).toEqual([
      "H' = W' = (7 − 1)·2 − 2·1 + 1·(4 − 1) + 0 + 1 = 14",
      'params = 16·8·4·4 + 8 = 2,056',
      'MACs = (16·7·7)·(8·4·4) = 100,352',
    ]);
    expect(formulas('4x5x6', 'convtranspose 6 k=3 s=2x1 g=2 bias=false')).toEqual([
      "H' = (5 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 11",
      "W' = (6 − 1)·1 − 2·0 + 1·(3 − 1) + 0 + 1 = 8",
      'C_out/g = 6/2 = 3',
      'params = 4·3·3·3 = 108',
      'MACs = (4·5·6)·(3·3·3) = 3,240',
    ]);
  });

  it('counts in the depth as a weighted layer', () => {
    const a = analyzeText('network T {\n input 3x8x8\n conv 4 k=3 p=1\n upsample 2\n convtranspose 2 k=2 s=2\n}');
    expect(only(a).totals.depth).toBe(2);
  });

  it('errors at their arguments, or at the statement where the input decides', () => {
    expect(problems('3x8x8', 'convtranspose 4 k=3 s=2 op=2')).toEqual([
      ['3:26', 'op=2', 'output padding 2 (height) must be smaller than the stride 2 or the dilation 1, as PyTorch requires: at most 1'],
    ]);
    // Below the dilation is allowed, as in PyTorch.
    expect(problems('3x8x8', 'convtranspose 4 k=3 s=2 d=3 op=2')).toEqual([]);
    expect(problems('3x8x8', 'convtranspose 4 k=3 op=0x1')).toEqual([
      ['3:22', 'op=0x1', 'output padding 1 (width) must be smaller than the stride 1 or the dilation 1, as PyTorch requires: at most 0'],
    ]);
    expect(problems('3x8x8', 'convtranspose 4 k=3 p=same')).toEqual([
      ['3:22', 'p=same', "p=same is not for convtranspose (PyTorch's ConvTranspose2d has no padding='same'); give the rows"],
    ]);
    expect(problems('3x8x8', 'convtranspose 4 k=3 g=2')).toEqual([
      ['3:2', 'convtranspose 4 k=3 g=2', 'groups=2 must divide both the input channels (3) and the output channels (4)'],
    ]);
    expect(problems('3x2x2', 'convtranspose 4 k=3 p=3')).toEqual([
      [
        '3:2',
        'convtranspose 4 k=3 p=3',
        "convtranspose output would be empty: H' = (2 − 1)·1 − 2·3 + 1·(3 − 1) + 0 + 1 = -2; the padding 3 cuts more than the 3×2×2 input grows to: use less padding",
      ],
    ]);
    expect(problems('3x8x8', 'convtranspose 4')).toEqual([['3:2', 'convtranspose', "convtranspose needs 'k' (kernel size: `4`, `2x3` or `(e1, e2)`), as in 'convtranspose k=3'"]]);
  });
});

describe('receptive fields through block templates', () => {
  it('a block of upsampling layers copied from the expansion cache composes its fields as when expanded anew', () => {
    const text = example('unet.cnn').replace('network UNet {', 'network UNet {\n  // a block called in two places\n') + '\nblock Up(c) { upsample 2 mode=bilinear; conv c k=3 p=1 }\nnetwork Twice {\n  input 3x32x32\n  conv 8 k=3 s=2 p=1\n  Up(8)\n  conv 8 k=3 s=2 p=1\n  Up(8)\n  Up(8)\n}\n';
    const fields = (a: ReturnType<typeof analyzeText>) => a.networks.map((n) => n.layers.map((l) => l.rf));
    const plain = fields(analyzeText(text));
    const cache = new ExpansionCache();
    analyzeText(text, { cache });
    const again = analyzeText(text, { cache });
    expect(again.cacheStats!.analysisHits).toBeGreaterThan(0);
    expect(fields(again)).toEqual(plain);
    const twice = plain[1];
    expect(twice[twice.length - 1]!.stride.map(ratioText)).toEqual(['1/2', '1/2']);
  });
});

describe('fields whose pattern is too long to follow', () => {
  it('past 4,096 output pixels per period the field is unknown, and the shapes go on', () => {
    const n = only(analyzeText('network T {\n input 1x7x7\n x: upsample size=4099x7\n y: conv 1 k=3\n}'));
    expect(layer(n, 'x').info.rf).toBeNull();
    expect(layer(n, 'y').info.rf).toBeNull();
    expect(layer(n, 'y').info.shape).toEqual([1, 4097, 5]);
    // 4,096 itself is followed.
    expect(own(only(analyzeText('network T {\n input 1x7x7\n x: upsample size=4096x7\n}')).layers[1].rf)).toEqual({ size: [1, 1], stride: ['7/4096', '1'], padding: [0, 0] });
  });
});

describe('fractional strides in print', () => {
  it('a ratio of whole numbers reads as a fraction; whole numbers as before', () => {
    expect([4, 0.5, 1 / 3, 2 / 3, 3 / 2, 31 / 190, 47 / 406, 0].map(ratioText)).toEqual(['4', '1/2', '1/3', '2/3', '3/2', '31/190', '47/406', '0']);
    expect(toFraction((1 / 3) * 3)).toEqual([1, 1]);
    expect(toFraction(7 / 1024)).toEqual([7, 1024]);
  });

  it('the CLI table, the inlay hint, the hover pair and the panel', () => {
    const n = only(analyzeText('network T {\n input 3x8x8\n x: upsample 2x3\n}'));
    const rf = layer(n, 'x').info.rf!;
    expect(humanReport(n, 'T.cnn').split('\n').find((l) => l.startsWith('x '))).toMatch(/ 1 \/ 1\/2×1\/3$/);
    expect(rfShort(rf)).toBe('RF 1/(1/2×1/3)');
    expect(rfShort({ size: [11, 11], stride: [4, 4], padding: [2, 2] })).toBe('RF 11/4');
    expect(pair([0.5, 0.5])).toBe('1/2');
    expect(rfText(layer(n, 'x').info)).toBe('1 / 1/2x1/3');
  });
});
