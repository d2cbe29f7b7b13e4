import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { MAX_LAYERS } from '../../src/graph/expand';
import { errors, layer, net, only, where } from '../helpers';

const paths = (text: string) => only(analyzeText(text)).graph.nodes.map((n) => n.path);

describe('block calls', () => {
  const blocks = 'block B(c, s=1, m=c*2) { conv m k=3 s=s p=1 }';

  it('binds by position, by name, and applies defaults (which may use earlier parameters)', () => {
    const n = only(net('input 3x16x16\n a: B(4)\n b: B(4, 2)\n c: B(s=2, c=8)\n d: B(1, m=5)', blocks));
    expect(layer(n, 'a').info.shape).toEqual([8, 16, 16]);
    expect(layer(n, 'b').info.shape).toEqual([8, 8, 8]);
    expect(layer(n, 'c').info.shape).toEqual([16, 4, 4]);
    expect(layer(n, 'd').info.shape).toEqual([5, 4, 4]);
  });

  it('records the call chain of layers made inside blocks', () => {
    const text = 'network T {\n input 3x8x8\n Outer(4)\n}\nblock Outer(c) { Inner(c) }\nblock Inner(c) { conv c k=1 }';
    const n = only(analyzeText(text));
    const conv = n.graph.nodes.find((x) => x.attrs.kind === 'conv')!;
    expect(conv.calls.map((c) => c.block)).toEqual(['Outer', 'Inner']);
    expect(conv.calls.map((c) => c.range.start.line)).toEqual([2, 4]);
    expect(conv.range.start.line).toBe(5);
  });

  it('reports a missing, unknown, repeated or surplus argument at its own position', () => {
    const text = 'network T {\n input 3x8x8\n B()\n B(1, x=2)\n B(1, c=2)\n B(1, 2, 3, 4)\n}\n' + blocks;
    const e = errors(analyzeText(text));
    expect(e.map((d) => [where(text, d).at, where(text, d).text, d.message])).toEqual([
      ['3:2', 'B', "B needs a value for 'c': B(c, s, m)"],
      ['4:7', 'x', "B has no parameter 'x': B(c, s, m)"],
      ['5:7', 'c=2', "'c' is given twice"],
      ['6:13', '4', 'B takes 3 arguments: B(c, s, m)'],
    ]);
  });

  it('names a recursive cycle instead of hanging', () => {
    const text = 'network T {\n input 3x8x8\n A()\n}\nblock A() { relu; B() }\nblock B() { A() }';
    const e = errors(analyzeText(text));
    expect(e).toHaveLength(1);
    expect(e[0].code).toBe('recursion');
    expect(e[0].message).toBe('block A calls itself: A → B → A; a block may not call itself, directly or not');
    expect(where(text, e[0]).at).toBe('6:13');
  });

  it('suggests the closest name for an unknown layer or block', () => {
    const text = 'network T {\n input 3x8x8\n rleu\n Bottlenek(3)\n}\nblock Bottleneck(c) { relu }';
    const e = errors(analyzeText(text));
    expect(e.map((d) => d.message)).toEqual([
      "unknown layer or block 'rleu'; did you mean 'relu'?",
      "unknown layer or block 'Bottlenek'; did you mean 'Bottleneck'?",
    ]);
    expect(e[0].fixes?.[0].edits[0].newText).toBe('relu');
  });
});

describe('composition', () => {
  it('repeat N runs the body N times in sequence', () => {
    const n = only(net('input 3x32x32\n repeat 3 { conv 8 k=3 s=2 p=1; relu }'));
    const convs = n.graph.nodes.filter((x) => x.attrs.kind === 'conv');
    expect(convs.map((c) => n.layers[c.id].shape)).toEqual([[8, 16, 16], [8, 8, 8], [8, 4, 4]]);
    expect(convs.map((c) => c.path)).toEqual(['0', '2', '4']);
  });

  it('repeat 0 and empty sequences are the identity', () => {
    const n = only(net('input 3x8x8\n repeat 0 { conv 8 k=3 }\n { }\n relu'));
    expect(n.graph.nodes.map((x) => x.attrs.kind)).toEqual(['input', 'relu']);
    expect(n.output).toEqual([3, 8, 8]);
  });

  it('if chooses a body from the block arguments', () => {
    const blocks = 'block B(proj) { if proj && 1 < 2 { conv 4 k=1 } else if !proj { tanh } else { relu } }';
    const n = only(net('input 3x8x8\n a: B(true)\n b: B(false)', blocks));
    expect(n.graph.nodes.map((x) => x.attrs.kind)).toEqual(['input', 'conv', 'tanh']);
  });

  it('residual adds the body and the shortcut (identity when absent)', () => {
    const n = only(net('input 4x8x8\n residual { conv 4 k=3 p=1; relu }\n residual { conv 8 k=1 } shortcut { conv 8 k=1 s=1 }'));
    const adds = n.graph.nodes.filter((x) => x.attrs.kind === 'add');
    expect(adds).toHaveLength(2);
    expect(adds[0].inputs.map((i) => n.graph.nodes[i].attrs.kind)).toEqual(['relu', 'input']);
    expect(adds[1].inputs.map((i) => n.graph.nodes[i].attrs.kind)).toEqual(['conv', 'conv']);
    expect(n.output).toEqual([8, 8, 8]);
  });

  it('add and concat feed every branch the same input', () => {
    const n = only(net('input 4x8x8\n concat { branch { conv 2 k=1 } branch { conv 3 k=3 p=1 } branch { maxpool k=3 s=1 p=1 } }\n add { branch { relu } branch { tanh } }'));
    const cat = n.graph.nodes.find((x) => x.attrs.kind === 'concat')!;
    expect(cat.inputs.map((i) => n.graph.nodes[n.graph.nodes[i].inputs[0]].attrs.kind)).toEqual(['input', 'input', 'input']);
    expect(n.layers[cat.id].shape).toEqual([9, 8, 8]);
    expect(n.output).toEqual([9, 8, 8]);
  });

  it('aux makes a side output and leaves the main flow unchanged', () => {
    const n = only(net('input 4x8x8\n conv 4 k=1\n head: aux { gap; flatten; linear 10 }\n relu'));
    const relu = n.graph.nodes.find((x) => x.attrs.kind === 'relu')!;
    expect(n.graph.nodes[relu.inputs[0]].attrs.kind).toBe('conv');
    expect(n.graph.auxOutputs.map((i) => n.graph.nodes[i].path)).toEqual(['head.2']);
    expect(n.graph.nodes.filter((x) => x.aux).map((x) => x.attrs.kind)).toEqual(['gap', 'flatten', 'linear']);
    expect(n.output).toEqual([4, 8, 8]);
  });
});

describe('parameter names (docs/naming.md)', () => {
  it('numbers unlabelled statements, uses labels, and keeps numbers stable when a label is added', () => {
    expect(paths('network T { input 3x8x8; conv 4 k=1; relu; head: conv 4 k=1; relu }')).toEqual(['input', '0', '1', 'head', '3']);
  });

  it('gives a block call a scope, and a one-statement body the scope itself', () => {
    const t = 'network T { input 3x8x8; stem: One(4); Two(4) }\nblock One(c) { conv c k=1 }\nblock Two(c) { conv c k=1; bn }';
    expect(paths(t)).toEqual(['input', 'stem', '1.0', '1.1']);
  });

  it('makes unlabelled residual, if, group and repeat transparent and labelled ones scopes', () => {
    const t = `network T { input 4x8x8
      residual { c1: conv 4 k=1; relu } shortcut { down: { conv 4 k=1; bn } }
      r: residual { conv 4 k=1 }
      layer: repeat 2 { B() }
      repeat 2 { B() }
    }
    block B() { conv 4 k=1 }`;
    expect(paths(t)).toEqual(['input', 'c1', '1', 'down.0', 'down.1', 'add', 'r.0', 'r', 'layer.0', 'layer.1', '2', '3']);
  });

  it("names branches by label or number, as torchvision's Inception", () => {
    const t = `network T { input 4x8x8; inc: I() }
    block I() { concat { branch1: branch { C() } branch2: branch { C(); C() } branch { maxpool k=3 s=1 p=1; C() } } }
    block C() { conv: conv 2 k=1 bias=false; bn: bn }`;
    const n = only(analyzeText(t));
    expect(n.tensors.filter((x) => x.role === 'weight').map((x) => x.name)).toEqual([
      'inc.branch1.conv.weight',
      'inc.branch1.bn.weight',
      'inc.branch2.0.conv.weight',
      'inc.branch2.0.bn.weight',
      'inc.branch2.1.conv.weight',
      'inc.branch2.1.bn.weight',
      'inc.2.1.conv.weight',
      'inc.2.1.bn.weight',
    ]);
  });

  it('reports two layers that would share a parameter name', () => {
    const t = 'network T {\n input 3x8x8\n repeat 2 { c: conv 3 k=1 }\n}';
    const e = errors(analyzeText(t));
    expect(e.map((d) => d.message)).toEqual(["parameter name 'c.weight' is already taken by another layer; label one of them differently"]);
  });

  it('reports a label used twice in one sequence', () => {
    const t = 'network T {\n input 3x8x8\n a: relu\n a: tanh\n}';
    const e = errors(analyzeText(t));
    expect(e.map((d) => [where(t, d).at, d.message])).toEqual([
      ['4:2', "the label 'a' is already used in this sequence; labels name parameters, so each must be unique"],
    ]);
  });
});

describe('bounds', () => {
  it('refuses a repeat count beyond the layer bound', () => {
    const t = 'network T {\n input 3x8x8\n repeat 1000000 { relu }\n}';
    const e = errors(analyzeText(t));
    expect(e.map((d) => [d.code, where(t, d).text])).toEqual([['expansion-limit', '1000000']]);
  });

  it(`stops an expansion past ${MAX_LAYERS} layers with an error, not a hang`, () => {
    const t = 'network Big {\n input 3x8x8\n repeat 400 { repeat 400 { relu } }\n}';
    const a = analyzeText(t);
    expect(errors(a).map((d) => d.message)).toEqual([
      'Big expands to more than 100,000 layers (or 1,000,000 statements); check repeat counts',
    ]);
    // The network reports the error, not its first 100,000 layers (a --json report stays small).
    expect(a.networks[0].graph.nodes.length).toBe(0);
  });

  it('bounds nested repeats of empty bodies too', () => {
    const t = 'network T {\n input 3x8x8\n repeat 100000 { repeat 100000 { } }\n}';
    const t0 = Date.now();
    expect(errors(analyzeText(t))[0].code).toBe('expansion-limit');
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('input', () => {
  it('must come first, once, and only in a network', () => {
    const t = 'network T {\n relu\n input 3x8x8\n input 3x8x8\n B()\n}\nblock B() { input 3x8x8 }';
    expect(errors(analyzeText(t)).map((d) => [where(t, d).at, d.message])).toEqual([
      ['2:2', "a network starts with 'input', such as 'input 3x224x224'"],
      ['4:2', "a network has one 'input'; remove this one"],
      ['7:13', "'input' belongs in a network, not in a block"],
    ]);
  });

  it('accepts a flat input', () => {
    const n = only(net('input 784\n linear 10'));
    expect(n.output).toEqual([10]);
    expect(n.totals.params).toBe(7850);
  });
});
