/**
 * torchvision's names through the PyTorch export (docs/naming.md): for networks labelled with
 * keywords, numbers, quoted and interpolated labels, `repeat N as i` and `_:`, `cnn params` lists
 * exactly the exported module's state_dict keys and shapes, in order, and the module computes what
 * our CPU reference does; torchvision's own EfficientNet-B0 `features[1]` loads by name, strictly,
 * into the export of a network that spells its names, and gives the same output; so does
 * convnext_tiny().features[1][0], whose Linear layers are `linear pointwise=true`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { readNpy, writeNpy } from '../../src/engine/input/npy';
import { saveSafetensorsWeights } from '../../src/engine/weights/load';
import { exportPytorch, pythonClassName } from '../../src/export/pytorch';
import { isCI, makeCase, relativeError, torchPython } from './helpers';

const NETWORKS = `
// Every naming feature at once: keyword, number, quoted and interpolated labels, repeat .. as,
// anonymous branches, an anonymous block call and an anonymous slice.
network Names {
  input 4x8x8
  features: { 0: { conv 4 k=3 p=1 bias=false; bn; relu }; 1: MB(4) }
  "block1-0": conv 4 k=1
  if: relu
  denseblock1: { repeat 2 as i { "denselayer{i + 1}": L(4 + i) } }
  Mixed_5b: Inc()
  split: concat { branch1: branch { slice 0 3 } branch2: branch { _: slice 3; conv 3 k=1; bn } }
  _: Two()
  gap; flatten
  10: linear 5
}
block MB(c) { block: { conv c k=3 p=1 g=c; bn }; add: conv c k=1 }
block L(c) { norm1: bn; conv1: conv (c + 1) k=1 }
block Inc() {
  concat {
    _: branch { branch1x1: C(2) }
    _: branch { branch5x5_1: C(2); branch5x5_2: C(2) }
    _: branch { avgpool 3 s=1 p=1; branch_pool: C(2) }
  }
}
block C(c) { conv: conv c k=1 bias=false; bn: bn; relu }
block Two() { conv 6 k=1; bn }

// RegNet's stage names from a block parameter and an index, in a labelled repeat too.
network Stages {
  input 3x8x8
  trunk_output: { block1: Stage(1, 2); block2: Stage(2, 1) }
  r: repeat 2 as i { "fc{i}": conv 3 k=1; else: relu }
}
block Stage(s, n) { repeat n as i { "block{s}-{i}": { proj: conv 3 k=1 bias=false; shortcut: bn } } }

// torchvision's efficientnet_b0().features[1]: an MBConv with expand ratio 1 and its SE gate.
network EffB0Features1 {
  input 32x8x8
  features: { 1: { 0: MBConv1(32, 16) } }
}
block MBConv1(c, out) {
  block: {
    0: { conv c k=3 p=1 g=c bias=false; bn; silu }
    1: mul { branch { } _: branch { avgpool: gap; fc1: conv (c / 4) k=1; activation: silu; fc2: conv c k=1; scale_activation: sigmoid } }
    2: { conv out k=1 bias=false; bn }
  }
}

// torchvision's convnext_tiny().features[1][0]: a CNBlock, whose Linear layers act at every
// position (block.3, block.5: weights [384, 96], not a 1x1 conv's [384, 96, 1, 1]) and whose
// Permutes (block.1, block.6) the language has no need of, hence the numbers.
network ConvNeXtBlock {
  input 96x6x6
  features: { 1: { 0: CNBlock(96) } }
}
block CNBlock(c) {
  residual {
    block: { 0: conv c k=7 p=3 g=c; 2: layernorm eps=1e-6; 3: linear (4 * c) pointwise=true; 4: gelu; 5: linear c pointwise=true }
    layer_scale: scale 1e-6
  }
}
`;

function network(name: string): NetworkAnalysis {
  const a = analyzeText(NETWORKS);
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const net = a.networks.find((n) => n.graph.network === name);
  if (!net) throw new Error(`no network ${name}`);
  return net;
}

const python = torchPython();

describe('torchvision names in the PyTorch export', () => {
  it('names each tensor as torchvision would', () => {
    expect(network('Stages').tensors.map((t) => t.name)).toEqual([
      'trunk_output.block1.block1-0.proj.weight',
      ...['weight', 'bias', 'running_mean', 'running_var'].map((r) => `trunk_output.block1.block1-0.shortcut.${r}`),
      'trunk_output.block1.block1-1.proj.weight',
      ...['weight', 'bias', 'running_mean', 'running_var'].map((r) => `trunk_output.block1.block1-1.shortcut.${r}`),
      'trunk_output.block2.block2-0.proj.weight',
      ...['weight', 'bias', 'running_mean', 'running_var'].map((r) => `trunk_output.block2.block2-0.shortcut.${r}`),
      'r.0.fc0.weight', 'r.0.fc0.bias', 'r.1.fc1.weight', 'r.1.fc1.bias',
    ]);
  });

  it.skipIf(!python)("equals the exported module's state_dict and computes the same", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-names-'));
    const cases = ['Names', 'Stages'].map((n) => makeCase(network(n)));
    const jobs = cases.map((c, i) => {
      const stem = join(dir, `n${i}`);
      writeFileSync(`${stem}.py`, exportPytorch(c.net));
      writeFileSync(`${stem}.safetensors`, saveSafetensorsWeights(c.net.tensors, c.weights));
      writeFileSync(`${stem}-x.npy`, writeNpy(c.x.shape, c.x.data));
      return { module: `${stem}.py`, class: pythonClassName(c.net.graph.network), weights: `${stem}.safetensors`, input: `${stem}-x.npy`, out: `${stem}-y` };
    });
    const r = spawnSync(python!, [join(__dirname, 'torch_check.py')], { input: JSON.stringify(jobs), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { names: string[]; shapes: number[][] }[];
    cases.forEach((c, i) => {
      expect(results[i].names).toEqual(c.net.tensors.map((t) => t.name));
      expect(results[i].shapes).toEqual(c.net.tensors.map((t) => t.shape));
      const y = readNpy(readFileSync(`${jobs[i].out}0.npy`)).data;
      expect(relativeError(y, c.expected[0]).rel).toBeLessThan(1e-4);
    });
  });

  it.skipIf(!python)("loads torchvision's efficientnet_b0().features[1] by name, strictly, with the same output", () => {
    const net = network('EffB0Features1');
    const file = join(mkdtempSync(join(tmpdir(), 'cnn-tv-')), 'part.py');
    writeFileSync(file, exportPytorch(net));
    const job = { module: file, class: pythonClassName(net.graph.network), model: 'efficientnet_b0', part: 'features.1' };
    const r = spawnSync(python!, [join(__dirname, 'torchvision_names.py')], { input: JSON.stringify(job), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { keys: string[]; shapes: number[][]; maxDiff: number };
    expect(net.tensors.map((t) => t.name)).toEqual(res.keys);
    expect(net.tensors.map((t) => t.shape)).toEqual(res.shapes);
    expect(res.keys).toContain('features.1.0.block.1.fc1.weight');
    expect(res.maxDiff).toBeLessThan(1e-4);
  });

  it.skipIf(!python)("loads torchvision's convnext_tiny().features[1][0] (pointwise linears) by name, strictly, with the same output", () => {
    const net = network('ConvNeXtBlock');
    const file = join(mkdtempSync(join(tmpdir(), 'cnn-tv-')), 'part.py');
    writeFileSync(file, exportPytorch(net));
    const job = { module: file, class: pythonClassName(net.graph.network), model: 'convnext_tiny', part: 'features.1.0' };
    const r = spawnSync(python!, [join(__dirname, 'torchvision_names.py')], { input: JSON.stringify(job), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { keys: string[]; shapes: number[][]; maxDiff: number };
    expect(net.tensors.map((t) => t.name)).toEqual(res.keys);
    expect(net.tensors.map((t) => t.shape)).toEqual(res.shapes);
    expect(res.shapes[res.keys.indexOf('features.1.0.block.3.weight')]).toEqual([384, 96]);
    expect(res.maxDiff).toBeLessThan(1e-4);
  });

  it('PyTorch is there to be the oracle', () => {
    if (!python && isCI) throw new Error("no python3 with torch: .ci/run installs Debian's python3-torch");
  });
});
