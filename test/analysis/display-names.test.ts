import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { displayName, displayNames } from '../../src/analysis/display-names';
import { ROOT, example } from '../helpers';

const names = (text: string) => {
  const g = analyzeText(text).networks[0].graph;
  return Object.fromEntries(g.nodes.map((n, i) => [n.path, displayNames(g.nodes)[i]]));
};

describe('display names', () => {
  it('an unlabelled layer is its kind and its place among that kind in its parent, from 1', () => {
    // The lecture's AlexNet, labelled in part: conv1, relu (path "1"), pool1, conv2, relu ("4"), ...
    const n = names(`network AlexNet {
  input 3x227x227
  conv1: conv 64 k=11 s=4 p=2
  relu
  pool1: maxpool k=3 s=2
  conv2: conv 192 k=5 p=2
  relu
  maxpool k=3 s=2
  adaptiveavgpool 6x6
}
`);
    expect(n['1']).toBe('relu 1');
    expect(n['4']).toBe('relu 2');
    expect(n['5']).toBe('maxpool 1');
    expect(n['6']).toBe('adaptiveavgpool 1');
    expect(n.conv1).toBe('conv1');
    expect(n.input).toBe('input');
  });

  it('inside labelled groups, blocks and repeats', () => {
    const n = names(`network N {
  input 3x32x32
  stage1: { conv 8 k=3 p=1; relu; conv 8 k=3 p=1; relu }
  layer1: repeat 2 { conv 8 k=1 }
  b: B()
}
block B() {
  conv1: conv 8 k=1
  bn
  relu
  residual { conv 8 k=1 } shortcut { }
}
`);
    expect(n['stage1.0']).toBe('stage1 › conv 1');
    expect(n['stage1.1']).toBe('stage1 › relu 1');
    expect(n['stage1.2']).toBe('stage1 › conv 2');
    expect(n['stage1.3']).toBe('stage1 › relu 2');
    expect(n['layer1.0']).toBe('layer1 › conv 1');
    expect(n['layer1.1']).toBe('layer1 › conv 2');
    expect(n['b.conv1']).toBe('b.conv1');
    expect(n['b.1']).toBe('b › bn 1');
    expect(n['b.2']).toBe('b › relu 1');
    // The residual's body is numbered in the block's scope, after the relu; its add keeps its name.
    expect(n['b.3']).toBe('b › conv 1');
    expect(n['b.add']).toBe('b.add');
  });

  it('are unique in every example, and displayName agrees with displayNames', () => {
    const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.cnn'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const g = analyzeText(example(f)).networks[0].graph;
      const all = displayNames(g.nodes);
      expect(new Set(all).size, f).toBe(all.length);
      for (const id of [0, 1, Math.floor(g.nodes.length / 2), g.nodes.length - 1]) expect(displayName(g.nodes, id)).toBe(all[id]);
    }
  });
});
