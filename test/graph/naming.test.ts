/**
 * The labels that spell torchvision's state_dict keys (docs/naming.md): keywords and numbers as
 * labels, quoted and interpolated labels, `repeat N as i`, and `_:` (a statement that adds no
 * segment), with their errors at their own positions.
 */
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { errors, only, where } from '../helpers';

const analyse = (body: string, blocks = '') => analyzeText(`network T {\n input 4x8x8\n${body}\n}\n${blocks}`);
const names = (body: string, blocks = '') => {
  const a = analyse(body, blocks);
  expect(errors(a).map((d) => d.message)).toEqual([]);
  return only(a).tensors.filter((t) => t.role === 'weight').map((t) => t.name);
};
const problems = (body: string, blocks = '') => {
  const text = `network T {\n input 4x8x8\n${body}\n}\n${blocks}`;
  return errors(analyzeText(text)).map((d) => [where(text, d).at, where(text, d).text, d.message]);
};

describe('labels', () => {
  it("may be keywords, as EfficientNet's and MobileNetV3's features.N.block.M", () => {
    expect(names('features: { 0: { conv 4 k=1; bn }; 1: MB(4) }', 'block MB(c) { block: { conv c k=3 p=1 g=c; bn }; add: conv c k=1 }')).toEqual([
      'features.0.0.weight',
      'features.0.1.weight',
      'features.1.block.0.weight',
      'features.1.block.1.weight',
      'features.1.add.weight',
    ]);
    // Keywords that follow a body (`shortcut`, `else`) label the next statement when a ':' follows.
    expect(names('residual { conv 4 k=1 }\n shortcut: conv 4 k=1\n if true { relu }\n else: conv 4 k=1\n repeat: conv 4 k=1')).toEqual([
      '0.weight',
      'shortcut.weight',
      'else.weight',
      'repeat.weight',
    ]);
  });

  it('may be numbers, which take the place of the numbers the scope would give', () => {
    // torchvision's ConvNeXt CNBlock: block.1 is a Permute, which the language has no need of.
    expect(names('block: { 0: conv 4 k=7 p=3 g=4; 2: layernorm; 3: conv 16 k=1; 4: gelu; 5: conv 4 k=1 }')).toEqual([
      'block.0.weight',
      'block.2.weight',
      'block.3.weight',
      'block.5.weight',
    ]);
  });

  it("may be quoted, for a hyphen (RegNet's block1-0), and interpolate integers", () => {
    expect(names('trunk_output: { block1: { repeat 2 as i { "block1-{i}": conv 4 k=1 } } }')).toEqual(['trunk_output.block1.block1-0.weight', 'trunk_output.block1.block1-1.weight']);
    expect(names('_: S(2, 3)', 'block S(s, n) { repeat n as i { "block{s}-{i}": { conv 4 k=1 } } }')).toEqual(['block2-0.weight', 'block2-1.weight', 'block2-2.weight']);
    // A quoted label without braces is the name it spells: `"x"` is `x`.
    expect(names('"conv1": conv 4 k=1; "0": conv 4 k=1')).toEqual(['conv1.weight', '0.weight']);
  });

  it("repeat N as i numbers from anything: DenseNet's denselayer1..", () => {
    expect(names('denseblock1: { repeat 3 as i { "denselayer{i + 1}": L(4 + 2 * i) } }', 'block L(c) { norm1: bn; conv1: conv c k=1 }')).toEqual([
      'denseblock1.denselayer1.norm1.weight',
      'denseblock1.denselayer1.conv1.weight',
      'denseblock1.denselayer2.norm1.weight',
      'denseblock1.denselayer2.conv1.weight',
      'denseblock1.denselayer3.norm1.weight',
      'denseblock1.denselayer3.conv1.weight',
    ]);
    // The index is a value like a parameter: channels 4, 6, 8.
    const n = only(analyse('repeat 3 as i { conv (4 + 2 * i) k=1 }'));
    expect(n.layers.slice(1).map((l) => l.shape![0])).toEqual([4, 6, 8]);
    // A labelled repeat still numbers its iterations; the index shadows a parameter of that name.
    expect(names('_: B(7)', 'block B(i) { r: repeat 2 as i { "c{i}": conv 4 k=1 } }')).toEqual(['r.0.c0.weight', 'r.1.c1.weight']);
  });

  it("_: opens no scope, so Inception-v3's branches are flat (Mixed_5b.branch5x5_1)", () => {
    const blocks = `block A(pf) {
      concat {
        _: branch { branch1x1: C(4) }
        _: branch { branch5x5_1: C(2); branch5x5_2: C(4) }
        _: branch { avgpool 3 s=1 p=1; branch_pool: C(pf) }
      }
    }
    block C(c) { conv: conv c k=1 bias=false; bn: bn; relu }`;
    expect(names('Mixed_5b: A(2)', blocks)).toEqual([
      'Mixed_5b.branch1x1.conv.weight',
      'Mixed_5b.branch1x1.bn.weight',
      'Mixed_5b.branch5x5_1.conv.weight',
      'Mixed_5b.branch5x5_1.bn.weight',
      'Mixed_5b.branch5x5_2.conv.weight',
      'Mixed_5b.branch5x5_2.bn.weight',
      'Mixed_5b.branch_pool.conv.weight',
      'Mixed_5b.branch_pool.bn.weight',
    ]);
    // A block called with `_` is named as if written in place; an `aux` too.
    expect(names('conv 4 k=1; _: Two(); _: aux { conv 4 k=1 }; conv 4 k=1', 'block Two() { conv 4 k=1; x: conv 4 k=1 }')).toEqual([
      '0.weight',
      '1.weight',
      'x.weight',
      '3.weight',
      '4.weight',
    ]);
  });

  it("_: on a layer without tensors takes no number: ShuffleNetV2's branch2.0 after its split", () => {
    const a = analyse('concat { branch1: branch { slice 0 2 } branch2: branch { _: slice 2; conv 2 k=1; bn } }');
    expect(errors(a)).toEqual([]);
    const n = only(a);
    expect(n.tensors.filter((t) => t.role === 'weight').map((t) => t.name)).toEqual(['branch2.0.weight', 'branch2.1.weight']);
    expect(n.graph.nodes.map((x) => x.path)).toEqual(['input', 'branch1', 'branch2.slice', 'branch2.0', 'branch2.1', 'concat']);
  });

  it('is unique in a sequence, however it is written', () => {
    expect(problems(' x: relu\n "x": tanh')).toEqual([['4:2', '"x"', "the label 'x' is already used in this sequence; labels name parameters, so each must be unique"]]);
    expect(problems(' _: relu\n _: tanh')).toEqual([]);
  });

  it('reports what a path segment cannot hold, at the label', () => {
    expect(problems(' "a.b": relu\n "": relu\n "a b": relu\n 1.5: relu')).toEqual([
      ['3:2', '"a.b"', "a label holds letters, digits, '_' and '-' (it is one segment of a parameter name), not '.': 'a.b'"],
      ['4:2', '""', 'a label cannot be empty: it names parameters'],
      ['5:2', '"a b"', "a label holds letters, digits, '_' and '-' (it is one segment of a parameter name), not a space: 'a b'"],
      ['6:2', '1.5', "a label holds letters, digits, '_' and '-' (it is one segment of a parameter name), not '.': '1.5'"],
    ]);
    expect(problems(' repeat 2 as i { "c{i / 4}": conv 4 k=1 }')).toEqual([['3:21', 'i / 4', "a label's {expression} must be an integer, not 0.25"]]);
    expect(problems(' "c{n}": conv 4 k=1')).toEqual([['3:5', 'n', "unknown name 'n': names are only defined inside a block, by its parameters"]]);
    expect(problems(' _: conv 4 k=1')).toEqual([['3:2', '_', "'_' leaves this conv without a name, but its parameters need one: label it, or drop the '_' to number it"]]);
  });

  it('reports two layers that interpolated or anonymous names put at one path', () => {
    expect(problems(' repeat 2 as i { "c{i * 0}": relu }')).toEqual([
      ['3:18', '"c{i * 0}": relu', "the name 'c0' is already taken by another layer; label one of them differently"],
    ]);
    expect(problems(' x: relu\n _: X()', 'block X() { x: { conv 4 k=1; relu } }')).toEqual([
      ['6:18', 'conv 4 k=1', "the name 'x.0' lies inside the layer 'x', which PyTorch cannot hold; label one of them differently"],
    ]);
  });
});

describe('with the expansion cache', () => {
  it('names anonymous calls and interpolated labels as a fresh expansion does', async () => {
    const { ExpansionCache } = await import('../../src/analysis');
    const text = `network T {
      input 4x8x8
      a: B(1); _: B(2); conv 4 k=1; _: B(3); b: { _: B(1); B(1) }
      repeat 2 as i { _: B(i); "x{i}": B(i) }
    }
    block B(s) { repeat 2 as i { "l{s}-{i}": conv 4 k=1 }; _: C(); C() }
    block C() { relu; conv 4 k=1 }`;
    const plain = only(analyzeText(text)).graph.nodes.map((n) => n.path);
    const cache = new ExpansionCache();
    for (let k = 0; k < 2; k++) expect(only(analyzeText(text, { cache })).graph.nodes.map((n) => n.path)).toEqual(plain);
    expect(cache.hits).toBeGreaterThan(0);
    expect(errors(analyzeText(text))).toEqual([]);
  });
});
