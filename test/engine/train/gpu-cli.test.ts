/**
 * `cnn grad --backend webgpu` against `--backend reference` on the same network, batch, weights
 * and dropout seed: every parameter's gradient and the loss agree; `cnn train --backend webgpu`
 * lowers the loss (a network with upsample among them); a missing adapter is a one-line error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../../src/engine/input/npy';
import { parseSafetensors, toFloat32 } from '../../../src/engine/weights/safetensors';
import { cli, ROOT } from '../../helpers';
import { testGpu } from '../gpu-device';
import { relative } from './harness';

const dir = mkdtempSync(join(tmpdir(), 'cnn-gpu-grad-'));
const net = join(dir, 'small.cnn');
writeFileSync(
  net,
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
  dropout 0.2
  fc: linear 4
  softmax
}
network Up {
  input 2x4x4
  conv 2 k=1
  upsample 2
  flatten
  linear 3
}
`,
);

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const x = join(dir, 'x.npy');
const y = join(dir, 'y.npy');
writeFileSync(x, writeNpy([3, 2, 9, 8], rand(3 * 144, 7)));
writeFileSync(y, writeNpy([3], Float32Array.from([0, 3, 1])));

function read(file: string): { tensors: Map<string, Float32Array>; loss: number } {
  const parsed = parseSafetensors(readFileSync(file));
  return { tensors: new Map([...parsed.tensors].map(([k, e]) => [k, toFloat32(e)])), loss: Number(parsed.metadata?.loss) };
}

/** An IDX file of unsigned bytes. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** 4x4 images: class 1 bright on the left half, class 0 on the right. */
function toyIdx(at: string, n: number): string {
  mkdirSync(at, { recursive: true });
  for (const [prefix, count] of [['train', n], ['t10k', n / 2]] as const) {
    const images = new Uint8Array(count * 16);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = i % 2;
      for (let p = 0; p < 16; p++) images[i * 16 + p] = ((p % 4 < 2) === (labels[i] === 1) ? 200 : 20) + ((i * 7 + p * 3) % 30);
    }
    writeFileSync(join(at, `${prefix}-images-idx3-ubyte`), idx([count, 4, 4], images));
    writeFileSync(join(at, `${prefix}-labels-idx1-ubyte`), idx([count], labels));
  }
  return at;
}

describe('cnn grad and cnn train with --backend webgpu', () => {
  it('cnn train --backend webgpu follows --backend reference epoch by epoch, and the loss falls', async () => {
    if (!(await testGpu())) return;
    const toy = join(dir, 'toy.cnn');
    writeFileSync(toy, 'network Toy {\n  input 1x4x4\n  conv 4 k=3 p=1\n  bn\n  relu\n  flatten\n  dropout 0.2\n  fc: linear 2\n}\n');
    const data = toyIdx(join(dir, 'toy-idx'), 40);
    const run = async (backend: string) => {
      const r = await cli('train', toy, '--data', data, '--epochs', '3', '--batch', '8', '--lr', '0.02', '--optimizer', 'sgd', '--json', '--backend', backend, '--out', join(dir, `toy-${backend}.safetensors`));
      expect(r.code, r.err).toBe(0);
      return r.out.trim().split('\n').map((l) => JSON.parse(l) as { loss: number; testAccuracy: number });
    };
    const want = await run('reference');
    const got = await run('webgpu');
    expect(got).toHaveLength(3);
    got.forEach((e, i) => expect(Math.abs(e.loss - want[i].loss) / want[i].loss, `epoch ${i + 1}`).toBeLessThanOrEqual(1e-4));
    expect(got[2].loss).toBeLessThan(got[0].loss);
  }, 300_000);

  for (const mode of ['train', 'eval']) {
    it(`cnn grad --backend webgpu equals --backend reference (${mode} mode)`, async () => {
      if (!(await testGpu())) return;
      const ref = join(dir, `ref-${mode}.safetensors`);
      const gpu = join(dir, `gpu-${mode}.safetensors`);
      const a = await cli('grad', net, '--network', 'Small', '--input', x, '--target', y, '--out', ref, '--mode', mode, '--seed', '3', '--backend', 'reference');
      expect(a.code, a.err).toBe(0);
      const b = await cli('grad', net, '--network', 'Small', '--input', x, '--target', y, '--out', gpu, '--mode', mode, '--seed', '3', '--backend', 'webgpu');
      expect(b.code, b.err).toBe(0);
      expect(b.out).toMatch(/webgpu \(/);
      const want = read(ref);
      const got = read(gpu);
      expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(1e-5);
      expect([...got.tensors.keys()]).toEqual([...want.tensors.keys()]);
      for (const [name, w] of want.tensors) {
        const r = relative(got.tensors.get(name)!, w, 1e-3 * Math.max(...[...want.tensors.values()].map((t) => Math.max(...t.map(Math.abs)))));
        expect(r, name).toBeLessThanOrEqual(1e-4);
      }
    }, 300_000);
  }

  // Upsample was refused here once; every kind now trains on WebGPU (GPU_BACKWARD is complete by type).
  it('cnn grad --backend webgpu runs a network with upsample, equal to --backend reference', async () => {
    if (!(await testGpu())) return;
    const ux = join(dir, 'ux.npy');
    writeFileSync(ux, writeNpy([2, 2, 4, 4], rand(64, 3)));
    const uy = join(dir, 'uy.npy');
    writeFileSync(uy, writeNpy([2], Float32Array.from([0, 2])));
    const run = async (backend: string) => {
      const out = join(dir, `up-${backend}.safetensors`);
      const r = await cli('grad', net, '--network', 'Up', '--input', ux, '--target', uy, '--out', out, '--seed', '3', '--backend', backend);
      expect(r.code, r.err).toBe(0);
      return read(out);
    };
    const want = await run('reference');
    const got = await run('webgpu');
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(1e-5);
    expect([...got.tensors.keys()]).toEqual([...want.tensors.keys()]);
    for (const [name, w] of want.tensors) expect(relative(got.tensors.get(name)!, w, 1e-6), name).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('no WebGPU adapter: one line, exit 1', () => {
    const bin = join(ROOT, 'bin/cnn.js');
    if (!existsSync(join(ROOT, 'dist'))) return;
    const r = spawnSync(process.execPath, [bin, 'grad', net, '--network', 'Small', '--input', x, '--target', y, '--out', join(dir, 'none.safetensors'), '--backend', 'webgpu'], {
      encoding: 'utf8',
      env: { ...process.env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json') },
    });
    expect(r.status, r.stderr).toBe(1);
    // The Vulkan loader prints its own warnings to stderr first; ours is one line, the last.
    const ours = r.stderr.trim().split('\n').filter((l) => l.startsWith('cnn grad:'));
    expect(ours).toHaveLength(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^cnn grad: --backend webgpu: no WebGPU adapter.*or use --backend cpu$/);
  }, 60_000);
});
