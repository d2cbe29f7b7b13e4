/**
 * `cnn grad` against PyTorch: the loss and every parameter's gradient of the CLI's output file
 * equal autograd's on our PyTorch export (float64) in train and eval mode, dropout's seeded mask
 * included; its one-line errors and usage errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { dropoutMask } from '../../src/engine/cpu/backward';
import { writeNpy } from '../../src/engine/input/npy';
import { numel } from '../../src/engine/tensor';
import { initWeights } from '../../src/engine/weights/init';
import { saveSafetensorsWeights } from '../../src/engine/weights/load';
import { parseSafetensors, toFloat32 } from '../../src/engine/weights/safetensors';
import { exportPytorch, pythonClassName } from '../../src/export/pytorch';
import { torchPython } from '../export/helpers';
import { relative } from '../engine/train/harness';
import { cli, ROOT } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'cnn-grad-'));
const small = join(dir, 'small.cnn');
writeFileSync(
  small,
  `network Small {
  input 2x9x8
  c1: conv 6 k=3 p=1 bias=false
  b1: bn
  relu
  maxpool k=3 s=2 p=1 ceil=true
  aux { gap; flatten; head: linear 4 }
  residual { c2: conv 6 k=3 p=1; relu }
  gap
  flatten
  fc: linear 4
  softmax
}
network Map {
  input 2x4x4
  conv 3 k=1
}
`,
);
const FASHION = join(ROOT, 'examples/fashion-mnist/fashion.cnn');

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  });
}

/** An int64 .npy, as `np.save('y.npy', labels)` writes class labels. */
function int64Npy(values: number[]): Uint8Array {
  const f = writeNpy([values.length], new Float32Array(values.length));
  const header = new TextDecoder('latin1').decode(f.subarray(0, f.length - 4 * values.length)).replace("'<f4'", "'<i8'");
  const out = new Uint8Array(header.length + 8 * values.length);
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  const v = new DataView(out.buffer);
  values.forEach((y, i) => v.setBigInt64(header.length + 8 * i, BigInt(y), true));
  return out;
}

function read(file: string): Map<string, Float32Array> {
  return new Map([...parseSafetensors(readFileSync(file)).tensors].map(([k, e]) => [k, toFloat32(e)]));
}

interface Example {
  name: string;
  file: string;
  inShape: number[];
  batch: number;
  classes: number;
  mode: 'train' | 'eval';
  weights: 'file' | 'seeded';
  labelSmoothing?: number;
}

const EXAMPLES: Example[] = [
  { name: 'conv, bn, ceil maxpool, residual, an aux head, softmax output', file: small, inShape: [2, 9, 8], batch: 4, classes: 4, mode: 'train', weights: 'file' },
  { name: 'the same in eval mode, label smoothing 0.1', file: small, inShape: [2, 9, 8], batch: 3, classes: 4, mode: 'eval', weights: 'seeded', labelSmoothing: 0.1 },
  { name: 'the Fashion-MNIST example in train mode (dropout mask from --seed)', file: FASHION, inShape: [1, 28, 28], batch: 2, classes: 10, mode: 'train', weights: 'seeded' },
];

describe('cnn grad against PyTorch', () => {
  const python = torchPython();
  for (const [i, ex] of EXAMPLES.entries()) {
    it(ex.name, async () => {
      if (!python) return;
      const net = analyzeText(readFileSync(ex.file, 'utf8')).networks[0];
      const stem = join(dir, `ex${i}`);
      const x = rand(ex.batch * numel(ex.inShape), 7 + i);
      const labels = Array.from({ length: ex.batch }, (_, b) => (b * 3 + i) % ex.classes);
      writeFileSync(`${stem}-x.npy`, writeNpy([ex.batch, ...ex.inShape], x));
      writeFileSync(`${stem}-y.npy`, int64Npy(labels));
      writeFileSync(`${stem}-yf.npy`, writeNpy([ex.batch], Float32Array.from(labels)));
      const seed = 5;
      const weights = initWeights(net.tensors, seed);
      // Random statistics, so that eval mode's running statistics are not the identity.
      for (const t of net.tensors) if (t.role === 'running_mean' || t.role === 'running_var') weights.set(t.name, rand(numel(t.shape), 99).map((v) => (t.role === 'running_var' ? 0.5 + v : v - 0.5)));
      writeFileSync(`${stem}.safetensors`, saveSafetensorsWeights(net.tensors, weights));
      const args = ['grad', ex.file, '--input', `${stem}-x.npy`, '--target', `${stem}-y.npy`, '--mode', ex.mode, '--out', `${stem}-g.safetensors`, '--json', '--seed', String(seed)];
      if (ex.weights === 'file') args.push('--weights', `${stem}.safetensors`);
      else for (const t of net.tensors) if (t.kind === 'buffer') weights.set(t.name, initWeights(net.tensors, seed).get(t.name)!);
      if (ex.labelSmoothing) args.push('--label-smoothing', String(ex.labelSmoothing));
      if (ex.weights === 'seeded') writeFileSync(`${stem}.safetensors`, saveSafetensorsWeights(net.tensors, weights));
      const r = await cli(...args);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const json = JSON.parse(r.out);
      expect(Object.keys(json)).toContain('loss');

      const masks: string[] = [];
      if (ex.mode === 'train') {
        for (const n of net.graph.nodes) {
          if (n.attrs.kind !== 'dropout') continue;
          const shape = [ex.batch, ...net.layers[n.inputs[0]].shape!];
          writeFileSync(`${stem}-m${masks.length}.npy`, writeNpy(shape, dropoutMask(seed, n.path, 0, numel(shape), n.attrs.p)));
          masks.push(`${stem}-m${masks.length}.npy`);
        }
      }
      writeFileSync(`${stem}.py`, exportPytorch(net));
      const outputs = [net.graph.output, ...net.graph.auxOutputs];
      const job = {
        module: `${stem}.py`,
        class: pythonClassName(net.graph.network),
        weights: `${stem}.safetensors`,
        input: `${stem}-x.npy`,
        target: `${stem}-yf.npy`,
        loss: 'cross-entropy',
        labelSmoothing: ex.labelSmoothing ?? 0,
        auxWeight: 0.3,
        probabilities: outputs.map((o) => net.graph.nodes[o].attrs.kind === 'softmax'),
        mode: ex.mode,
        masks,
        double: true,
        out: `${stem}-torch`,
      };
      const p = spawnSync(python, [join(ROOT, 'test/engine/train/torch_grad.py')], { input: JSON.stringify([job]), encoding: 'utf8' });
      expect(p.status, p.stderr).toBe(0);
      const torch = JSON.parse(p.stdout)[0];
      expect(Math.abs(json.loss - torch.loss) / torch.loss).toBeLessThan(1e-5);
      const ours = read(`${stem}-g.safetensors`);
      const theirs = read(`${stem}-torch-grads.safetensors`);
      const params = net.tensors.filter((t) => t.kind === 'param');
      expect([...ours.keys()]).toEqual(params.map((t) => t.name));
      let scale = 0;
      for (const t of params) for (const v of theirs.get(t.name)!) scale = Math.max(scale, Math.abs(v));
      for (const t of params) {
        const rel = relative(ours.get(t.name)!, theirs.get(t.name)!, 1e-3 * scale);
        expect(rel, t.name).toBeLessThan(1e-4);
      }
    }, 120_000);
  }
});

describe('cnn grad: output and errors', () => {
  const x = join(dir, 'e-x.npy');
  const y = join(dir, 'e-y.npy');
  writeFileSync(x, writeNpy([2, 2, 9, 8], rand(2 * 144, 3)));
  writeFileSync(y, writeNpy([2], Float32Array.from([1, 3])));
  const g = join(dir, 'e-g.safetensors');

  it('prints the loss and what it wrote; a single sample without a batch dimension is a batch of one', async () => {
    const one = join(dir, 'one.npy');
    writeFileSync(one, writeNpy([2, 9, 8], rand(144, 4)));
    const y1 = join(dir, 'y1.npy');
    writeFileSync(y1, writeNpy([1], Float32Array.from([2])));
    const r = await cli('grad', small, '--input', one, '--target', y1, '--out', g, '--mode', 'eval');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/batch 1, eval mode/);
    expect(r.out).toMatch(/^loss \d+\.\d+ \(main \d/m);
    expect(r.out).toMatch(/wrote the gradients of 9 parameters to /);
  });

  const errors: [string, string[], RegExp, number][] = [
    ['no --out', ['--input', x, '--target', y], /needs --out/, 2],
    ['no --target', ['--input', x, '--out', g], /needs --target/, 2],
    ['a bad --mode', ['--input', x, '--target', y, '--out', g, '--mode', 'test'], /--mode test: choose train or eval/, 2],
    ['an unknown --backend', ['--input', x, '--target', y, '--out', g, '--backend', 'tpu'], /--backend tpu: choose cpu, reference or webgpu/, 2],
    ['a bad --label-smoothing', ['--input', x, '--target', y, '--out', g, '--label-smoothing', '2'], /--label-smoothing 2: give a number from 0 to 1/, 2],
    ['--out naming the input', ['--input', x, '--target', y, '--out', x], /--out .*: that is the input file/, 1],
    ['a label out of range', ['--input', x, '--target', join(dir, 'bad-y.npy'), '--out', g], /label 1 is 4; a class is an integer from 0 to 3/, 1],
    ['a target of the wrong length', ['--input', x, '--target', join(dir, 'long-y.npy'), '--out', g], /give one class label per sample, \(2,\)/, 1],
    ['an input of the wrong shape', ['--input', join(dir, 'bad-x.npy'), '--target', y, '--out', g], /the network takes \(B, 2, 9, 8\)/, 1],
    ['a missing input', ['--input', join(dir, 'nope.npy'), '--target', y, '--out', g], /input .*nope\.npy: /, 1],
    ['over the memory budget', ['--input', x, '--target', y, '--out', g, '--memory-limit', '20k'], /training at batch 2 needs about [\d.]+ KiB .*more than the memory budget of 20 KiB/, 1],
  ];
  writeFileSync(join(dir, 'bad-y.npy'), writeNpy([2], Float32Array.from([0, 4])));
  writeFileSync(join(dir, 'long-y.npy'), writeNpy([3], Float32Array.from([0, 1, 2])));
  writeFileSync(join(dir, 'bad-x.npy'), writeNpy([2, 3, 9, 8], rand(432, 1)));
  for (const [what, args, re, status] of errors) {
    it(`${what}: exit ${status}, one line`, async () => {
      const r = await cli('grad', small, ...args);
      expect(r.code, r.err).toBe(status);
      expect(r.err.split('\n')[0]).toMatch(/^cnn grad: /);
      expect(r.err).toMatch(re);
      if (status === 1) expect(r.err.split('\n')).toHaveLength(1);
    });
  }

  it('a network whose output is not a vector of classes is refused', async () => {
    const mx = join(dir, 'm-x.npy');
    writeFileSync(mx, writeNpy([2, 2, 4, 4], rand(64, 2)));
    const r = await cli('grad', small, '--network', 'Map', '--input', mx, '--target', y, '--out', g);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^cnn grad: the network's output is \[3, 4, 4\] per sample: cross-entropy needs a flat vector/);
  });
});
