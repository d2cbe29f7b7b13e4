/** `cnn export`: files, default names, weights, and one-line errors. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { tensor } from '../../src/engine/tensor';
import { initWeights } from '../../src/engine/weights/init';
import { saveSafetensorsWeights } from '../../src/engine/weights/load';
import { expectClose, randomTensor, randomWeights, rng } from '../engine/helpers';
import { cli } from '../helpers';

/** Exit 1 for a problem with the files, 2 for a mistake in the command line. */
function expectOneLineError(r: { code: number; out: string; err: string }, re: RegExp, status = 1): void {
  expect(r.code, r.err).toBe(status);
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^cnn export: /);
  expect(r.err).toMatch(re);
  expect(r.err).not.toMatch(/\n\s+at |internal error/);
}

const dir = mkdtempSync(join(tmpdir(), 'cnn-export-'));
const TINY = `network Tiny {
  input 3x12x10
  c1: conv 8 k=3 p=1 bias=false
  b1: bn
  relu
  maxpool k=2 ceil=true
  residual { c2: conv 8 k=3 p=1; relu }
  gap
  flatten
  fc: linear 5
}
network Broken {
  input 3x8x8
  conv 4 k=9
}
network Reserved {
  input 3x8x8
  train: conv 4 k=3
}
`;
const tiny = join(dir, 'tiny.cnn');
writeFileSync(tiny, TINY);
const net = analyzeText(TINY).networks[0];

async function runOnnx(file: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(readFileSync(file));
  try {
    const r = await s.run({ input: new ort.Tensor('float32', x, shape) });
    return r.output.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('cnn export --to onnx', () => {
  const x = randomTensor([1, 3, 12, 10], rng(1));

  it('writes seeded weights by default (those cnn run uses), or --seed N', async () => {
    const out = join(dir, 'seeded.onnx');
    const r = await cli('export', tiny, '--to', 'onnx', '-o', out);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^wrote .*seeded\.onnx \(\d+\.\d kB\): opset 17, input \[N, 3, 12, 10\], output \[N, 5\]; 9 initializers, weights: seeded initialisation \(seed 0\)$/);
    const ref = forwardCpu(net.graph, initWeights(net.tensors, 0), net.tensors, tensor(x.shape, x.data)).output.data;
    expectClose(await runOnnx(out, x.data, x.shape), ref, 1e-4);

    // The file exists now: replacing it takes --force.
    const r3 = await cli('export', tiny, '--to', 'onnx', '-o', out, '--seed', '3', '--force');
    expect(r3.code).toBe(0);
    const ref3 = forwardCpu(net.graph, initWeights(net.tensors, 3), net.tensors, tensor(x.shape, x.data)).output.data;
    expectClose(await runOnnx(out, x.data, x.shape), ref3, 1e-4);
  });

  it('--weights W.safetensors', async () => {
    const w = randomWeights(net.tensors, rng(9));
    const wfile = join(dir, 'w.safetensors');
    writeFileSync(wfile, saveSafetensorsWeights(net.tensors, w));
    const out = join(dir, 'weighted.onnx');
    const r = await cli('export', tiny, '--to', 'onnx', '--weights', wfile, '--output', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/weights: .*w\.safetensors$/);
    const ref = forwardCpu(net.graph, w, net.tensors, tensor(x.shape, x.data)).output.data;
    expectClose(await runOnnx(out, x.data, x.shape), ref, 1e-4);
  });

  it('--shape and --network', async () => {
    const out = join(dir, 'shaped.onnx');
    const r = await cli('export', tiny, '--to', 'onnx', '--network', 'Tiny', '--shape', '3x20x16', '-o', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/input \[N, 3, 20, 16\]/);
  });
});

describe('cnn export --to pytorch', () => {
  it('writes the module to -o, or to NETWORK.py in the current folder', async () => {
    const out = join(dir, 'tiny_module.py');
    const r = await cli('export', tiny, '--to', 'pytorch', '-o', out);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(`wrote ${out}: class Tiny, 9 state_dict entries (861 parameters)`);
    const code = readFileSync(out, 'utf8');
    expect(code).toMatch(/^class Tiny\(Scope\):$/m);
    expect(code).toContain('_attach(self, "c1", nn.Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False))');
    expect(code).toContain('nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=True)');

    const cwd = process.cwd();
    const here = mkdtempSync(join(tmpdir(), 'cnn-export-cwd-'));
    process.chdir(here);
    try {
      expect((await cli('export', tiny, '--to', 'pytorch')).code).toBe(0);
      expect(existsSync(join(here, 'Tiny.py'))).toBe(true);
      expect((await cli('export', tiny, '--to', 'onnx')).code).toBe(0);
      expect(existsSync(join(here, 'Tiny.onnx'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it('-o - prints the module', async () => {
    const r = await cli('export', tiny, '--to', 'pytorch', '-o', '-');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^"""Tiny as a PyTorch module/);
    expect(r.out).toContain('    def forward(self, x):');
  });
});

describe('cnn export errors: one line, exit 1 (2 for the command line)', () => {
  it.each([
    [['export', tiny], /needs --to pytorch or --to onnx/, 2],
    [['export', tiny, '--to', 'keras'], /--to keras: choose pytorch or onnx/, 2],
    [['export', '--to', 'onnx'], /export takes one network file/, 2],
    [['export', join(dir, 'none.cnn'), '--to', 'onnx'], /none\.cnn: no such file/],
    [['export', tiny, '--to', 'onnx', '--network', 'Broken'], /tiny\.cnn:\d+:\d+: error: conv output would be empty/],
    [['export', tiny, '--to', 'pytorch', '--network', 'Broken'], /tiny\.cnn:\d+:\d+: error: conv output would be empty/],
    [['export', tiny, '--to', 'pytorch', '--network', 'Reserved'], /'train' is an attribute of torch\.nn\.Module.*rename the label/],
    [['export', tiny, '--to', 'pytorch', '--weights', 'w.safetensors'], /--weights is for --to onnx/, 2],
    [['export', tiny, '--to', 'onnx', '-o', '-'], /binary; give a file name/, 2],
    [['export', tiny, '--to', 'onnx', '-o', join(dir, 'no', 'such', 'x.onnx')], /cannot write \(no such folder\)/],
    [['export', tiny, '--to', 'onnx', '--weights', join(dir, 'missing.safetensors')], /weights .*missing\.safetensors: no such file/],
  ])('%j', async (...row) => {
    const [argv, re, status] = row as [string[], RegExp, number?];
    expectOneLineError(await cli(...argv), re, status ?? 1);
  });

  it('weights that do not fit name the tensor', async () => {
    const w = initWeights(net.tensors);
    w.delete('fc.bias');
    const wfile = join(dir, 'short.safetensors');
    writeFileSync(wfile, saveSafetensorsWeights(net.tensors.filter((t) => t.name !== 'fc.bias'), w));
    expectOneLineError(await cli('export', tiny, '--to', 'onnx', '--weights', wfile), /missing tensor 'fc\.bias' \[5\]/);
  });
});
