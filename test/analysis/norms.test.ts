/** layernorm, groupnorm, scale, shuffle and slice in the analysis: shapes, figures, fields, errors and names; their hovers and completion docs. */
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { NO_FEATURES } from '../../src/server/client';
import { completions } from '../../src/server/completion';
import { hover } from '../../src/server/hover';
import { buildModel } from '../../src/server/model';
import { DEFAULT_SETTINGS } from '../../src/server/settings';
import { errors, layer, net, only, where } from '../helpers';

/** The analysis of `x: stmt` after `input shape`. */
function one(shape: string, stmt: string) {
  const a = analyzeText(`network T {\n input ${shape}\n x: ${stmt}\n}`);
  expect(errors(a)).toEqual([]);
  const n = only(a);
  return { ...layer(n, 'x').info, tensors: n.tensors.map((t) => [t.name, t.shape, t.kind]) };
}

/** Each diagnostic as [line:col, covered text, message]. */
function check(lines: string): string[][] {
  const text = `network T {\n${lines}\n}\n`;
  return analyzeText(text).diagnostics.map((d) => [where(text, d).at, where(text, d).text, d.message]);
}

describe('layernorm', () => {
  it('over the channels of C×H×W and the features of N: 2·C parameters, no buffers, 7 ops per value', () => {
    const l = one('6x5x7', 'layernorm');
    expect([l.shape, l.params, l.buffers, l.macs, l.ops]).toEqual([[6, 5, 7], 12, 0, 0, 7 * 6 * 5 * 7]);
    expect(l.tensors).toEqual([['x.weight', [6], 'param'], ['x.bias', [6], 'param']]);
    expect(l.ownField).toEqual({ size: [1, 1], stride: [1, 1], padding: [0, 0] });
    const f = one('10', 'layernorm eps=1e-6');
    expect([f.shape, f.params, f.ops, f.rf]).toEqual([[10], 20, 70, null]);
  });
});

describe('groupnorm', () => {
  it('G groups of C/G channels: 2·C parameters', () => {
    const l = one('12x4x4', 'groupnorm 3');
    expect([l.shape, l.params, l.buffers, l.ops]).toEqual([[12, 4, 4], 24, 0, 7 * 12 * 16]);
    expect(l.tensors).toEqual([['x.weight', [12], 'param'], ['x.bias', [12], 'param']]);
    expect(one('12', 'groupnorm g=4 eps=0.001').params).toBe(24);
    expect(one('12', 'groupnorm groups=12').shape).toEqual([12]);
  });

  it('G that does not divide C is an error at the layer, with the nearest G that does', () => {
    expect(check(' input 12x4x4\n groupnorm 5')).toEqual([['3:2', 'groupnorm 5', 'groupnorm: 5 groups must divide the 12 channels; 4 would']]);
    expect(check(' input 8x4x4\n groupnorm 32')).toEqual([['3:2', 'groupnorm 32', 'groupnorm: 32 groups must divide the 8 channels; 8 would']]);
    expect(check(' input 30\n groupnorm 7')).toEqual([['3:2', 'groupnorm 7', 'groupnorm: 7 groups must divide the 30 channels; 6 would']]);
  });

  it('needs its G', () => {
    expect(check(' input 12x4x4\n groupnorm')[0]).toEqual(['3:2', 'groupnorm', "groupnorm needs 'g' (groups of channels, each normalised over its channels and positions; must divide C), as in 'groupnorm 3'"]);
  });
});

describe('scale', () => {
  it('C factors, shape C×1×1 (N for a flat input), named by the path itself, one op per value', () => {
    const l = one('6x5x7', 'scale');
    expect([l.shape, l.params, l.ops]).toEqual([[6, 5, 7], 6, 6 * 35]);
    expect(l.tensors).toEqual([['x', [6, 1, 1], 'param']]);
    expect(one('10', 'scale 1e-6').tensors).toEqual([['x', [10], 'param']]);
  });

  it("a block's scale is its scope's own parameter: torchvision's features.1.0.layer_scale", () => {
    const a = net(' input 4x8x8\n features: { conv 4 k=1; Stage(4) }', 'block Stage(c) { CN(c); CN(c) }\nblock CN(c) { residual { body: { conv c k=3 p=1 g=c; layernorm } layer_scale: scale 1e-6 } }');
    expect(errors(a)).toEqual([]);
    const names = only(a).tensors.map((t) => t.name);
    expect(names.slice(0, 8)).toEqual(['features.0.weight', 'features.0.bias', 'features.1.0.layer_scale', 'features.1.0.body.0.weight', 'features.1.0.body.0.bias', 'features.1.0.body.1.weight', 'features.1.0.body.1.bias', 'features.1.1.layer_scale']);
  });

  it('a bare parameter that is also a module or lies inside a layer is an error at the scale, asking for a label', () => {
    // The repeated label is an error of its own; these say what PyTorch could not hold.
    expect(check(' input 4x4x4\n x: scale\n x: { conv 4 k=1; relu }')).toContainEqual([
      '3:2',
      'x: scale',
      "parameter name 'x' is also the prefix of 'x.0.weight': PyTorch cannot hold a parameter and a module of one name; label one of them differently",
    ]);
    expect(check(' input 4x4x4\n x: conv 4 k=1\n x: { s: scale; relu }')).toContainEqual(['4:7', 's: scale', "parameter name 'x.s' lies inside the layer 'x', which PyTorch cannot hold; label one of them differently"]);
    expect(check(' input 4x4x4\n repeat 2 { s: scale }')).toEqual([['3:13', 's: scale', "parameter name 's' is already taken by another layer; label one of them differently"]]);
    expect(check(' input 4x4x4\n s: scale\n t: { s: scale; conv 4 k=1 }')).toEqual([]);
  });
});

describe('shuffle', () => {
  it('keeps the shape, no parameters, no ops, pointwise', () => {
    const l = one('12x3x5', 'shuffle 3');
    expect([l.shape, l.params, l.ops, l.ownField]).toEqual([[12, 3, 5], 0, 0, { size: [1, 1], stride: [1, 1], padding: [0, 0] }]);
    expect(one('12', 'shuffle groups=4').shape).toEqual([12]);
  });

  it('G that does not divide C is an error with the nearest G that does', () => {
    expect(check(' input 116x7x7\n shuffle 3')).toEqual([['3:2', 'shuffle 3', 'shuffle: 3 groups must divide the 116 channels; 2 would']]);
  });
});

describe('slice', () => {
  it('channels A to B-1, or A to the end; features of a flat input', () => {
    expect(one('116x28x28', 'slice 0 58').shape).toEqual([58, 28, 28]);
    expect(one('116x28x28', 'slice 58').shape).toEqual([58, 28, 28]);
    expect(one('10', 'slice start=3 end=8').shape).toEqual([5]);
    const l = one('8x3x3', 'slice 7');
    expect([l.shape, l.params, l.ops, l.rf]).toEqual([[1, 3, 3], 0, 0, { size: [1, 1], stride: [1, 1], padding: [0, 0] }]);
  });

  it("ShuffleNetV2's split with concat", () => {
    const a = net(' input 116x28x28\n concat { branch { slice 0 58 } branch { slice 58; conv 58 k=1 } }\n shuffle 2');
    expect(errors(a)).toEqual([]);
    expect(only(a).output).toEqual([116, 28, 28]);
  });

  it('an empty or negative range is an error at the argument; past the channels, at the layer', () => {
    expect(check(' input 8x4x4\n slice 4 2')).toEqual([['3:10', '2', "slice 4 2 takes no channels: 'end' must be more than 'start' (4)"]]);
    expect(check(' input 8x4x4\n slice 4 end=4')).toEqual([['3:10', 'end=4', "slice 4 4 takes no channels: 'end' must be more than 'start' (4)"]]);
    expect(check(' input 8x4x4\n slice -1')).toEqual([['3:8', '-1', "'start' needs a non-negative integer, not -1"]]);
    expect(check(' input 8x4x4\n slice 2 9')).toEqual([['3:2', 'slice 2 9', 'slice takes channels 2 to 8, but the input 8×4×4 has 8 channels (0 to 7)']]);
    expect(check(' input 8x4x4\n slice 8')).toEqual([['3:2', 'slice 8', 'slice starts at channel 8, but the input 8×4×4 has 8 channels (0 to 7)']]);
    expect(check(' input 6\n slice 1 7')).toEqual([['3:2', 'slice 1 7', 'slice takes channels 1 to 6, but the input 6 has 6 features (0 to 5)']]);
  });
});

describe('editor', () => {
  const text = 'network T {\n  input 12x4x4\n  ln: layernorm\n  gn: groupnorm 3\n  s: scale\n  shuffle 4\n  slice 2 6\n}\n';
  const model = buildModel(text, 1);
  const hoverAt = (word: string): string => {
    const h = hover(model, text.indexOf(word) + 1, DEFAULT_SETTINGS);
    return h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
  };

  it('hovers show the parameter formulas', () => {
    expect(hoverAt('layernorm')).toContain('params = 2·12 = 24 (weight, bias)');
    expect(hoverAt('groupnorm')).toContain('C/G = 12/3 = 4 channels per group');
    expect(hoverAt('groupnorm')).toContain('params = 2·12 = 24 (weight, bias)');
    expect(hoverAt('scale')).toContain('params = 12 = 12 (12×1×1, one per channel)');
    expect(hoverAt('slice')).toContain('`12×4×4` → `4×4×4`');
  });

  it('completion offers each keyword with its spec as documentation', () => {
    const items = completions(model, text.indexOf('  shuffle'), NO_FEATURES);
    for (const [kw, doc] of [['layernorm', 'LayerNorm2d'], ['groupnorm', 'nn.GroupNorm'], ['scale', 'layer scale'], ['shuffle', 'channel_shuffle'], ['slice', 'x[:, start:end]']]) {
      const item = items.find((i) => i.label === kw);
      expect(item, kw).toBeDefined();
      expect((item!.documentation as { value: string }).value, kw).toContain(doc);
    }
  });
});
