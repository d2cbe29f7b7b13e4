/**
 * `cnn import`: the files it writes (the network, its weights beside it, labels.txt), that they
 * run, --force, usage mistakes (exit 2), and for malformed and unsupported models a one-line
 * reason, exit 1 and nothing on disk.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { writeNpy } from '../../src/engine/input/npy';
import { exportOnnx } from '../../src/export/onnx';
import { randomTensor, randomWeights, rng } from '../engine/helpers';
import { isCI, ROOT } from '../export/helpers';
import { cli } from '../helpers';
import { buildModel, int } from './onnx-builder';

const dir = mkdtempSync(join(tmpdir(), 'cnn-import-cli-'));
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
`;
const net = analyzeText(TINY).networks[0];
const weights = randomWeights(net.tensors, rng(2));
const model = join(dir, 'tiny.onnx');
writeFileSync(model, exportOnnx(net, weights));

function expectOneLineError(r: { code: number; err: string }, re: RegExp, status = 1): void {
  expect(r.code, r.err).toBe(status);
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^cnn import: /);
  expect(r.err).toMatch(re);
  expect(r.err).not.toMatch(/\n\s+at |internal error/);
}

/** A folder of its own, so that "nothing written" is a listing. */
function fresh(name: string): string {
  const d = join(dir, name);
  spawnSync('mkdir', ['-p', d]);
  return d;
}

describe('cnn import', () => {
  it('writes NET.cnn and NET.safetensors beside it, which cnn params and cnn run read', async () => {
    const d = fresh('ok');
    const out = join(d, 'net.cnn');
    const r = await cli('import', model, '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote .*net\.cnn \(network Tiny, 10 layers in \d+ lines\) and .*net\.safetensors \(\d.* kB, 9 tensors, 861 parameters\)$/);
    expect(readdirSync(d).sort()).toEqual(['net.cnn', 'net.safetensors']);
    const params = await cli('params', out, '--json');
    expect((JSON.parse(params.out).params as { name: string }[]).map((p) => p.name)).toEqual(net.tensors.map((t) => t.name));
    const x = randomTensor([1, 3, 12, 10], rng(4));
    const npy = join(dir, 'x.npy');
    writeFileSync(npy, writeNpy(x.shape, x.data));
    const ours = await cli('run', out, '--weights', join(d, 'net.safetensors'), '--input', npy, '--json', '--backend', 'reference');
    const orig = join(dir, 'tiny.cnn');
    writeFileSync(orig, TINY);
    const w = join(dir, 'tiny.safetensors');
    const { saveSafetensorsWeights } = await import('../../src/engine/weights/load');
    writeFileSync(w, saveSafetensorsWeights(net.tensors, weights));
    const theirs = await cli('run', orig, '--weights', w, '--input', npy, '--json', '--backend', 'reference');
    expect(ours.code, ours.err).toBe(0);
    expect(JSON.parse(ours.out).output).toEqual(JSON.parse(theirs.out).output);
  });

  it('refuses to overwrite without --force, and overwrites both with it', async () => {
    const d = fresh('force');
    const out = join(d, 'net.cnn');
    writeFileSync(join(d, 'net.safetensors'), 'old');
    expectOneLineError(await cli('import', model, '-o', out), /net\.safetensors: the file exists; add --force to overwrite it/);
    expect(readdirSync(d)).toEqual(['net.safetensors']);
    expect(readFileSync(join(d, 'net.safetensors'), 'utf8')).toBe('old');
    const r = await cli('import', model, '-o', out, '--force');
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['net.cnn', 'net.safetensors']);
    expect(readFileSync(join(d, 'net.safetensors')).byteLength).toBeGreaterThan(1000);
  });

  it('writes labels.txt when the model carries class names', async () => {
    const d = fresh('labels');
    const labelled = join(dir, 'labelled.onnx');
    writeFileSync(
      labelled,
      buildModel({
        input: ['N', 4],
        output: ['N', 3],
        metadata: { labels: 'cat\ndog\nemu' },
        nodes: [{ op: 'Gemm', inputs: ['input', 'fc.weight', 'fc.bias'], attrs: { transB: int(1) } }],
        inits: { 'fc.weight': { dims: [3, 4] }, 'fc.bias': { dims: [3] } },
      }),
    );
    const r = await cli('import', labelled, '-o', join(d, 'animals.cnn'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/labels\.txt \(3 classes\)$/);
    expect(readFileSync(join(d, 'labels.txt'), 'utf8')).toBe('cat\ndog\nemu\n');
    expect(readFileSync(join(d, 'animals.cnn'), 'utf8')).toMatch(/network animals \{/);
  });

  it('a folder that does not exist, or a folder where a file should go: one line, nothing written', async () => {
    expectOneLineError(await cli('import', model, '-o', join(dir, 'nowhere', 'net.cnn')), /-o .*net\.cnn: cannot write \(no such folder\)/);
    const d = fresh('folder');
    spawnSync('mkdir', ['-p', join(d, 'net.safetensors')]);
    expectOneLineError(await cli('import', model, '-o', join(d, 'net.cnn'), '--force'), /net\.safetensors: cannot write \(is a folder\)/);
    expect(readdirSync(d)).toEqual(['net.safetensors']);
    expect(readdirSync(join(d, 'net.safetensors'))).toEqual([]);
  });

  it('usage mistakes exit 2', async () => {
    expectOneLineError(await cli('import'), /import takes one ONNX model/, 2);
    expectOneLineError(await cli('import', model, model), /import takes one ONNX model, not 2/, 2);
    expectOneLineError(await cli('import', model, '-o', '-'), /-o -: the import writes two files/, 2);
    expectOneLineError(await cli('import', '-'), /standard input is not supported/, 2);
    expectOneLineError(await cli('import', model, '--name', '3d'), /--name 3d: give an identifier/, 2);
    const r = await cli('import', model, '--to', 'x');
    expect(r.code).toBe(2);
  });

  describe('malformed and unsupported models: one line, exit 1, nothing written', () => {
    const bytes = readFileSync(model);
    const cases: [string, () => Uint8Array | string | null, RegExp][] = [
      ['truncated', () => bytes.subarray(0, Math.floor(bytes.byteLength * 0.6)), /not an ONNX model: the data ends in the middle of a field/],
      ['not ONNX (a PNG)', () => readFileSync(join(ROOT, 'examples/fashion-mnist/images', readdirSync(join(ROOT, 'examples/fashion-mnist/images'))[0])), /not an ONNX model/],
      ['not ONNX (a .cnn file)', () => TINY, /not an ONNX model/],
      ['empty', () => new Uint8Array(0), /not an ONNX model: the file is empty/],
      ['an unknown op', () => buildModel({ input: ['N', 3, 8, 8], output: ['N', 3, 8, 8], nodes: [{ op: 'Relu', inputs: ['input'] }, { op: 'Einsum', inputs: ['v0'], name: '/mix/Einsum' }] }), /node 2 of 2, '\/mix\/Einsum' \(Einsum\): Einsum is not supported/],
      ['a dynamic spatial size', () => buildModel({ input: ['N', 3, 'height', 'width'], output: ['N', 3, 'height', 'width'], nodes: [{ op: 'Relu', inputs: ['input'] }] }), /input 'input' has a dynamic height \('height'\); export the model at a fixed input size/],
      [
        'a Loop',
        () => {
          const py = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import onnx']).status === 0);
          if (!py) return null;
          const f = join(dir, 'loop.onnx');
          const r = spawnSync(py, [join(__dirname, 'make_loop.py'), f], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(r.stderr);
          return readFileSync(f);
        },
        /node 2 of 2, '\/repeat\/Loop' \(Loop\): Loop is not supported: control flow \(loops\) has no counterpart in the language/,
      ],
    ];
    cases.forEach(([what, make, re], i) => {
      it(what, async () => {
        const data = make();
        if (data === null) {
          if (isCI) throw new Error('no python3 with onnx');
          return;
        }
        const file = join(dir, `bad${i}.onnx`);
        writeFileSync(file, data);
        const d = fresh(`bad${i}`);
        const r = await cli('import', file, '-o', join(d, 'net.cnn'));
        expectOneLineError(r, re);
        expect(r.err.startsWith(`cnn import: ${file}: `)).toBe(true);
        expect(readdirSync(d)).toEqual([]);
      });
    });
  });
});
