import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine/input/npy';
import { writeSafetensors } from '../../src/engine/weights/safetensors';
import { cli, ROOT } from '../helpers';

// SwiftShader must be chosen before Dawn creates its Vulkan instance; keeps other drivers' probing quiet.
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

/** Exit `status` (1: the files or the run; 2: the command line) with exactly one line on stderr, starting with the command, and no stack frames. */
function expectOneLineError(r: { code: number; out: string; err: string }, re: RegExp, status = 1): void {
  expect(r.code, r.err).toBe(status);
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^cnn (run|bench): /);
  expect(r.err).toMatch(re);
  expect(r.err).not.toMatch(/\n\s+at |internal error/);
}

const dir = mkdtempSync(join(tmpdir(), 'cnn-run-'));
const tiny = join(dir, 'tiny.cnn');
writeFileSync(
  tiny,
  `network Tiny {
  input 3x12x10
  c1: conv 8 k=3 p=1 bias=false
  b1: bn
  relu
  maxpool k=2
  residual { c2: conv 8 k=3 p=1; relu }
  gap
  flatten
  fc: linear 5
}
network Flat {
  input 6
  fc: linear 3
  softmax
}
network Broken {
  input 3x8x8
  conv 4 k=9
}
`,
);
const x = Float32Array.from({ length: 3 * 12 * 10 }, (_, i) => Math.sin(i));
const xNpy = join(dir, 'x.npy');
writeFileSync(xNpy, writeNpy([1, 3, 12, 10], x));

const F = 'examples/fashion-mnist';
const fashion = [`${F}/fashion.cnn`, '--weights', `${F}/fashion.safetensors`, '--labels', `${F}/labels.txt`];

describe('cnn run', () => {
  it('--json follows the contract; seeded weights are deterministic', async () => {
    const r = await cli('run', tiny, '--input', xNpy, '--backend', 'cpu', '--json', '--top', '3');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['output', 'shape', 'top', 'backend', 'adapter', 'ms']));
    expect(j.shape).toEqual([5]);
    expect(j.output).toHaveLength(5);
    expect(j.backend).toBe('cpu');
    expect(typeof j.adapter).toBe('string');
    expect(j.ms).toBeGreaterThan(0);
    expect(j.top).toHaveLength(3);
    for (const t of j.top) expect(Object.keys(t).sort()).toEqual(['index', 'label', 'p']);
    // No softmax at the end: p comes from a softmax of the logits, in descending order.
    const e = j.output.map((v: number) => Math.exp(v));
    const sum = e.reduce((a: number, b: number) => a + b, 0);
    expect(j.top[0].p).toBeCloseTo(Math.max(...e) / sum, 6);
    expect(j.top[0].p).toBeGreaterThanOrEqual(j.top[1].p);
    const again = JSON.parse((await cli('run', tiny, '--input', xNpy, '--backend', 'cpu', '--json')).out);
    expect(again.output).toEqual(j.output);
    const other = JSON.parse((await cli('run', tiny, '--input', xNpy, '--backend', 'cpu', '--json', '--seed', '7')).out);
    expect(other.output).not.toEqual(j.output);
  });

  it('--out writes the output as .npy with the batch leading', async () => {
    const out = join(dir, 'y.npy');
    const r = await cli('run', tiny, '--input', xNpy, '--backend', 'cpu', '--json', '--out', out);
    expect(r.code).toBe(0);
    const y = readNpy(readFileSync(out));
    expect(y.shape).toEqual([1, 5]);
    expect(Array.from(y.data)).toEqual(JSON.parse(r.out).output.map((v: number) => Math.fround(v)));
  });

  it('--weights loads a safetensors file by parameter name', async () => {
    const w = join(dir, 'flat.safetensors');
    const weight = Float32Array.from({ length: 18 }, (_, i) => (i % 7) - 3);
    writeFileSync(w, writeSafetensors([{ name: 'fc.weight', shape: [3, 6], data: weight }, { name: 'fc.bias', shape: [3], data: Float32Array.from([0.5, 0, -0.5]) }]));
    const input = join(dir, 'flat.npy');
    writeFileSync(input, writeNpy([6], Float32Array.from([1, 0, 0, 0, 0, 1])));
    const r = await cli('run', tiny, '--network', 'Flat', '--input', input, '--weights', w, '--backend', 'cpu', '--json');
    expect(r.code).toBe(0);
    const logits = [weight[0] + weight[5] + 0.5, weight[6] + weight[11], weight[12] + weight[17] - 0.5];
    const e = logits.map(Math.exp);
    const s = e.reduce((a, b) => a + b);
    const j = JSON.parse(r.out);
    j.output.forEach((v: number, i: number) => expect(v).toBeCloseTo(e[i] / s, 6));
    expect(j.top[0]).toEqual({ index: 1, label: '1', p: j.output[1] }); // logits -0.5, 4, 1.5
  });

  it('the human output names the backend on stderr and shows a top-k table', async () => {
    const r = await cli('run', ...fashion, '--input', `${F}/images/9-ankle-boot.png`, '--backend', 'cpu', '--top', '2');
    expect(r.code).toBe(0);
    expect(r.err).toBe('backend: cpu');
    expect(r.out).toMatch(/FashionNet on .*9-ankle-boot\.png \(PNG 28x28\)/);
    expect(r.out).toMatch(/1\s+9\s+Ankle boot\s+0\.\d{4}/);
  });

  it('classifies the Fashion-MNIST example images correctly', async () => {
    const images = readdirSync(`${F}/images`).sort();
    expect(images).toHaveLength(10);
    const labels = readFileSync(`${F}/labels.txt`, 'utf8').trim().split('\n');
    for (const img of images) {
      const r = await cli('run', ...fashion, '--input', `${F}/images/${img}`, '--backend', 'cpu', '--json', '--top', '1');
      expect(r.code, r.err).toBe(0);
      const cls = Number(img.split('-')[0]);
      expect(JSON.parse(r.out).top[0]).toMatchObject({ index: cls, label: labels[cls] });
    }
  });

  it('without --backend: WebGPU on a hardware adapter, else the CPU with the reason', async () => {
    const r = await cli('run', tiny, '--input', xNpy);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^backend: (webgpu \(.*\)|cpu \((no WebGPU adapter found|the only WebGPU adapter, .*, is a software one and slower here; select it with --backend webgpu)\))$/);
  });

  it('--backend cpu (WebAssembly SIMD) gives the JavaScript reference output (--backend reference) within 1e-4', async () => {
    const ref = await cli('run', tiny, '--input', xNpy, '--backend', 'reference', '--json');
    expect(ref.code, ref.err).toBe(0);
    const r = JSON.parse(ref.out);
    expect(r.backend).toBe('cpu');
    expect(r.adapter).toMatch(/^JavaScript reference/);
    const fast = JSON.parse((await cli('run', tiny, '--input', xNpy, '--backend', 'cpu', '--json')).out);
    expect(fast.adapter).toMatch(/^WebAssembly SIMD/);
    const scale = Math.max(...r.output.map(Math.abs));
    fast.output.forEach((v: number, i: number) => expect(Math.abs(v - r.output[i])).toBeLessThan(1e-4 * (Math.abs(r.output[i]) + scale)));
    const human = await cli('run', tiny, '--input', xNpy, '--backend', 'reference');
    expect(human.err).toBe('backend: cpu (the JavaScript reference)');
  });

  it('--backend webgpu gives the CPU reference output within 1e-4', async () => {
    const cpu = JSON.parse((await cli('run', tiny, '--input', xNpy, '--backend', 'cpu', '--json')).out);
    const r = await cli('run', tiny, '--input', xNpy, '--backend', 'webgpu', '--json');
    if (r.code !== 0 && !process.env.CI && /no WebGPU adapter/.test(r.err)) return; // no GPU here: the engine tests say so
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.backend).toBe('webgpu');
    const scale = Math.max(...cpu.output.map(Math.abs));
    j.output.forEach((v: number, i: number) => expect(Math.abs(v - cpu.output[i])).toBeLessThan(1e-4 * (Math.abs(cpu.output[i]) + scale)));
  });

  describe('errors: one line, exit 1', () => {
    it('usage mistakes exit 2; a value that does not fit this network exits 1', async () => {
      expectOneLineError(await cli('run', tiny), /needs --input/, 2);
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--backend', 'tpu'), /--backend tpu: choose cpu, webgpu or reference/, 2);
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--top=-1'), /--top -1: give an integer of at least 0/, 2);
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--mean', '1,x'), /--mean 1,x: give numbers/, 2);
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--std', '0'), /--std must not be 0/, 2);
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--mean', '1,2'), /--mean has 2 values; the input has 3 channels/);
    });
    it('missing files', async () => {
      expectOneLineError(await cli('run', join(dir, 'nope.cnn'), '--input', xNpy), /nope\.cnn: no such file/);
      expectOneLineError(await cli('run', tiny, '--input', join(dir, 'nope.png')), /input .*nope\.png: no such file/);
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--weights', join(dir, 'nope.safetensors')), /weights .*nope\.safetensors: no such file/);
    });
    it('a network with errors does not run', async () => {
      expectOneLineError(await cli('run', tiny, '--network', 'Broken', '--input', xNpy), /tiny\.cnn:\d+:\d+: error: /);
    });
    it('inputs of the wrong kind or shape', async () => {
      expectOneLineError(await cli('run', tiny, '--network', 'Flat', '--input', `${F}/images/1-trouser.png`), /cannot feed the flat input \[6\]/);
      expectOneLineError(await cli('run', tiny, '--network', 'Flat', '--input', xNpy), /the array has shape \[1, 3, 12, 10\]; the network's input is \[6\]/);
      expectOneLineError(await cli('run', tiny, '--input', tiny), /input .*tiny\.cnn: not a PNG, JPEG or \.npy file/);
    });
    it('weights that do not fit name the tensor', async () => {
      expectOneLineError(await cli('run', ...fashion.slice(0, 3), '--input', xNpy, '--network', 'FashionNet', '--shape', '1x28x28'), /the array has shape/);
      const r = await cli('run', tiny, '--input', xNpy, '--weights', `${F}/fashion.safetensors`);
      expectOneLineError(r, /fashion\.safetensors: missing tensor 'c1\.weight' \[8, 3, 3, 3\]/);
      const bad = join(dir, 'bad.safetensors');
      writeFileSync(bad, new Uint8Array([1, 2, 3]));
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--weights', bad), /bad\.safetensors: not a safetensors file/);
    });
    it('labels that do not match the classes', async () => {
      const labels = join(dir, 'labels.txt');
      writeFileSync(labels, 'a\nb\n');
      expectOneLineError(await cli('run', tiny, '--input', xNpy, '--labels', labels), /labels .*labels\.txt: 2 names for an output of 5 classes/);
    });
  });
});

describe('cnn bench', () => {
  it('--json follows the contract on the CPU, with per-layer medians', async () => {
    const r = await cli('bench', tiny, '--backend', 'cpu', '--runs', '3', '--warmup', '1', '--batch', '2', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ backend: 'cpu', runs: 3, batch: 2 });
    for (const k of ['adapter', 'msMedian', 'msP90', 'gflops', 'layers']) expect(j).toHaveProperty(k);
    expect(j.msP90).toBeGreaterThanOrEqual(j.msMedian);
    // msMedian is rounded to 4 decimals, which on the fast engine is a large part of a tiny pass.
    const gflopsAt = (ms: number) => (2 * j.macs * 2) / (ms / 1000) / 1e9;
    expect(j.gflops).toBeGreaterThanOrEqual(gflopsAt(j.msMedian + 5e-5) - 1e-4);
    expect(j.gflops).toBeLessThanOrEqual(gflopsAt(Math.max(j.msMedian - 5e-5, 1e-9)) + 1e-4);
    // The fast engine folds b1 into c1 and runs the relu in its epilogue: one step, named c1.
    expect(j.layers.map((l: { path: string }) => l.path)).toEqual(expect.arrayContaining(['c1', 'fc']));
    expect(j.layers.map((l: { path: string }) => l.path)).not.toContain('b1');
    for (const l of j.layers) expect(l.msMedian).toBeGreaterThanOrEqual(0);
  });

  it('--backend reference times every layer of the JavaScript reference', async () => {
    const r = await cli('bench', tiny, '--backend', 'reference', '--runs', '2', '--warmup', '0', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ backend: 'cpu', runs: 2 });
    expect(j.adapter).toMatch(/^JavaScript reference/);
    expect(j.layers.map((l: { path: string }) => l.path)).toEqual(expect.arrayContaining(['c1', 'b1', 'fc']));
  });

  it('human output on the CPU names fused steps by their first layer', async () => {
    const r = await cli('bench', tiny, '--backend', 'cpu', '--runs', '2', '--warmup', '0');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('backend: cpu');
    expect(r.out).toMatch(/on cpu \(WebAssembly SIMD/);
    expect(r.out).toMatch(/slowest layers \(per-layer medians, fused steps named by their first layer\)/);
  });

  it('human output on WebGPU, per fused step', async () => {
    const r = await cli('bench', tiny, '--backend', 'webgpu', '--runs', '2', '--warmup', '0');
    if (r.code !== 0 && !process.env.CI && /no WebGPU adapter/.test(r.err)) return;
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^backend: webgpu \(/);
    expect(r.out).toMatch(/median [\d.]+ ms, p90 [\d.]+ ms over 2 runs \(0 warm-up\); [\d.]+ GFLOP\/s/);
    expect(r.out).toMatch(/slowest layers/);
  });

  it('--progress reports on stderr for long runs only', async () => {
    const r = await cli('bench', tiny, '--backend', 'cpu', '--runs', '2', '--progress', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe(''); // well under a second
  });

  it('errors are one line', async () => {
    expectOneLineError(await cli('bench', tiny, '--runs', '0'), /--runs 0: give an integer of at least 1/, 2);
    expectOneLineError(await cli('bench', tiny, '--batch', 'x'), /--batch x/, 2);
    expectOneLineError(await cli('bench'), /bench takes one network file/, 2);
    expectOneLineError(await cli('bench', tiny, tiny), /bench takes one network file, not 2/, 2);
  });
});

afterAll(() => {});

describe('cnn run in a headless shell', () => {
  it('prints no driver noise on stderr when XDG_RUNTIME_DIR is unset, only the backend line', () => {
    const env = { ...process.env };
    delete env.XDG_RUNTIME_DIR;
    const fm = join(ROOT, 'examples/fashion-mnist');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/cnn.js'), 'run', join(fm, 'fashion.cnn'), '--weights', join(fm, 'fashion.safetensors'), '--input', join(fm, 'images/0-t-shirt-top.png'), '--top', '1'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/XDG_RUNTIME_DIR/);
    expect(r.stdout).toMatch(/T-shirt|class/);
  }, 90_000);
});
