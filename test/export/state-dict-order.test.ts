/**
 * The tensor list follows PyTorch's state_dict order (a module's own parameters, its buffers,
 * then its children in first-registration order; docs/naming.md): `cnn params` equals the
 * exported module's state_dict keys where a `scale` sits in a labelled block, in nested scopes
 * and at the root; and torchvision's own ConvNeXt stem and CNBlock, their keys mapped to ours,
 * list in the same order and give the same numbers; so does torchvision's whole ShuffleNetV2
 * against examples/shufflenet_v2_x1_0.cnn, its tensors mapped by position.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { writeNpy } from '../../src/engine/input/npy';
import { saveSafetensorsWeights } from '../../src/engine/weights/load';
import { exportPytorch, pythonClassName } from '../../src/export/pytorch';
import { randomTensor, randomWeights, rng } from '../engine/helpers';
import { isCI, ROOT, torchPython } from './helpers';

const CNBLOCK = `block CNBlock(c) {
  residual {
    body: { conv c k=7 p=3 g=c; layernorm eps=1e-6; conv (4*c) k=1; relu; conv c k=1 }
    layer_scale: scale 1e-6
  }
}
block Stem(c) { conv c k=4 s=4; layernorm eps=1e-6 }`;

const NETWORKS = `
network ConvNeXtPart {
  input 3x16x16
  features: { Stem(8); CNBlock(8) }
}

// Layer scales deep in nested scopes, each listed first in its own scope.
network Nested {
  input 4x5x5
  a: { c1: conv 4 k=1; relu; inner: { conv 4 k=1; scale }; scale; bn }
  b: conv 4 k=1
  flatten
  linear 3
}

// Bare parameters of the network itself (numbered 0 and 2) and of a labelled group, flat too.
network Roots {
  input 6x3x3
  scale 2
  conv 6 k=1
  g: { bn; scale; flatten; scale; linear 4 }
  scale
}
${CNBLOCK}
`;

function only(name: string): NetworkAnalysis {
  const a = analyzeText(NETWORKS);
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const net = a.networks.find((n) => n.graph.network === name);
  if (!net) throw new Error(`no network ${name}`);
  return net;
}

const python = torchPython();

describe('tensor order', () => {
  it('a layer scale comes before the children of the module that holds it', () => {
    const names = only('ConvNeXtPart').tensors.map((t) => t.name);
    expect(names).toEqual([
      'features.0.0.weight', 'features.0.0.bias', 'features.0.1.weight', 'features.0.1.bias',
      'features.1.layer_scale',
      'features.1.body.0.weight', 'features.1.body.0.bias', 'features.1.body.1.weight', 'features.1.body.1.bias',
      'features.1.body.2.weight', 'features.1.body.2.bias', 'features.1.body.4.weight', 'features.1.body.4.bias',
    ]);
  });

  it('each scope lists its own layer scales, then its children in order', () => {
    expect(only('Nested').tensors.map((t) => t.name)).toEqual([
      // A labelled group takes no number: c1 is 0, relu 1, the scale 2, bn 3; at the root b is 0.
      'a.2',
      'a.c1.weight', 'a.c1.bias',
      'a.inner.1', 'a.inner.0.weight', 'a.inner.0.bias',
      'a.3.weight', 'a.3.bias', 'a.3.running_mean', 'a.3.running_var',
      'b.weight', 'b.bias', '2.weight', '2.bias',
    ]);
    expect(only('Roots').tensors.map((t) => [t.name, t.shape])).toEqual([
      ['0', [6, 1, 1]], ['2', [4]],
      ['1.weight', [6, 6, 1, 1]], ['1.bias', [6]],
      ['g.1', [6, 1, 1]], ['g.3', [54]],
      ['g.0.weight', [6]], ['g.0.bias', [6]], ['g.0.running_mean', [6]], ['g.0.running_var', [6]],
      ['g.4.weight', [4, 54]], ['g.4.bias', [4]],
    ]);
  });

  it.skipIf(!python)("equals the exported module's state_dict keys in PyTorch", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-order-'));
    const nets = ['ConvNeXtPart', 'Nested', 'Roots'].map(only);
    const jobs = nets.map((net, i) => {
      const stem = join(dir, `n${i}`);
      const inShape = net.layers[0].shape!;
      const x = randomTensor([1, ...inShape], rng(i + 1));
      writeFileSync(`${stem}.py`, exportPytorch(net));
      writeFileSync(`${stem}.safetensors`, saveSafetensorsWeights(net.tensors, randomWeights(net.tensors, rng(i))));
      writeFileSync(`${stem}-x.npy`, writeNpy(x.shape, x.data));
      return { module: `${stem}.py`, class: pythonClassName(net.graph.network), weights: `${stem}.safetensors`, input: `${stem}-x.npy`, out: `${stem}-y` };
    });
    const r = spawnSync(python!, [join(__dirname, 'torch_check.py')], { input: JSON.stringify(jobs), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { names: string[]; shapes: number[][] }[];
    nets.forEach((net, i) => {
      expect(results[i].names, net.graph.network).toEqual(net.tensors.map((t) => t.name));
      expect(results[i].shapes, net.graph.network).toEqual(net.tensors.map((t) => t.shape));
    });
  });

  it.skipIf(!python)("torchvision's ConvNeXt stem and CNBlock: the same order and the same numbers", () => {
    const net = only('ConvNeXtPart');
    const file = join(mkdtempSync(join(tmpdir(), 'cnn-tv-')), 'part.py');
    writeFileSync(file, exportPytorch(net));
    const r = spawnSync(python!, [join(__dirname, 'torchvision_parts.py')], { input: JSON.stringify({ module: file, class: pythonClassName(net.graph.network) }), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { torchvision: string[]; ours: string[]; maxDiff: number };
    expect(res.torchvision).toEqual(net.tensors.map((t) => t.name));
    expect(res.ours).toEqual(res.torchvision);
    expect(res.maxDiff).toBeLessThan(1e-5);
  });

  it.skipIf(!python)("examples/shufflenet_v2_x1_0.cnn: torchvision's ShuffleNetV2 tensors in our order, and its outputs", () => {
    const a = analyzeText(readFileSync(join(ROOT, 'examples/shufflenet_v2_x1_0.cnn'), 'utf8'));
    const net = a.networks[0];
    const file = join(mkdtempSync(join(tmpdir(), 'cnn-tv-')), 'shufflenet.py');
    writeFileSync(file, exportPytorch(net));
    const job = { module: file, class: pythonClassName(net.graph.network), model: 'shufflenet_v2_x1_0' };
    const r = spawnSync(python!, [join(__dirname, 'torchvision_parts.py')], { input: JSON.stringify(job), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { shapesEqual: boolean; sameNames: number; tensors: number; maxDiff: number };
    expect(res.tensors).toBe(net.tensors.length);
    expect(res.shapesEqual).toBe(true);
    // Every tensor carries torchvision's name (test/examples/torchvision.test.ts loads them by name).
    expect(res.sameNames).toBe(res.tensors);
    expect(res.maxDiff).toBeLessThan(1e-5);
  });

  it('PyTorch is there to be the oracle', () => {
    if (!python && isCI) throw new Error("no python3 with torch: .ci/run installs Debian's python3-torch");
  });
});
