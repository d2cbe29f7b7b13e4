/**
 * `cnn train`: the Fashion-MNIST example on a few samples lowers its loss and repeats bit for bit
 * with the same seed; IDX directories and image folders; Ctrl-C saves the last finished epoch;
 * usage errors and one-line errors.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/engine/weights/safetensors';
import { FASHION_MNIST_DIR } from '../../src/cli/commands/train-data';
import { runCli } from '../../src/cli/main';
import { cli, ROOT } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'cnn-train-'));
const FASHION = join(ROOT, 'examples/fashion-mnist/fashion.cnn');
const hasFashion = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));

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

/** A toy IDX dataset of 4x4 images: class 1 is bright on the left half, class 0 on the right. */
function toyIdx(at: string, n: number): string {
  mkdirSync(at, { recursive: true });
  for (const [prefix, count] of [['train', n], ['t10k', Math.ceil(n / 2)]] as const) {
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

const toy = join(dir, 'toy.cnn');
writeFileSync(toy, 'network Toy {\n  input 1x4x4\n  conv 4 k=3 p=1\n  bn\n  relu\n  flatten\n  dropout 0.2\n  fc: linear 2\n}\nnetwork Map {\n  input 1x4x4\n  conv 2 k=1\n}\n');
const toyData = toyIdx(join(dir, 'toy-idx'), 40);

function epochs(out: string): Record<string, number>[] {
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('cnn train on Fashion-MNIST', () => {
  it.skipIf(!hasFashion)('the example on 80 samples, 2 epochs: the loss falls, the JSON lines follow the contract, and the same seed gives the same weights', async () => {
    const runs = [];
    for (const name of ['a', 'b']) {
      const out = join(dir, `fashion-${name}.safetensors`);
      const r = await cli('train', FASHION, '--data', 'fashion-mnist', '--limit', '80', '--epochs', '2', '--batch', '16', '--lr', '0.003', '--seed', '3', '--json', '--out', out);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      runs.push({ lines: epochs(r.out), bytes: readFileSync(out) });
    }
    const [a, b] = runs;
    expect(a.lines).toHaveLength(2);
    for (const l of a.lines) {
      expect(Object.keys(l).sort()).toEqual(['epoch', 'loss', 'samplesPerSecond', 'seconds', 'testAccuracy', 'trainAccuracy']);
      expect(l.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(l.testAccuracy).toBeLessThanOrEqual(1);
    }
    expect(a.lines[1].loss).toBeLessThan(a.lines[0].loss);
    expect(a.lines.map((l) => [l.loss, l.trainAccuracy, l.testAccuracy])).toEqual(b.lines.map((l) => [l.loss, l.trainAccuracy, l.testAccuracy]));
    expect(Buffer.compare(a.bytes, b.bytes)).toBe(0);
    // The file loads as the network's weights, and says how far it got.
    const st = parseSafetensors(new Uint8Array(a.bytes));
    expect(st.metadata).toMatchObject({ epochs: '2', seed: '3' });
    const run = await cli('run', FASHION, '--weights', join(dir, 'fashion-a.safetensors'), '--input', join(ROOT, 'examples/fashion-mnist/images/1-trouser.png'), '--backend', 'reference', '--json');
    expect(run.code, run.err).toBe(0);
  }, 600_000);
});

describe('cnn train on other data', () => {
  it('a directory of IDX files: a toy task is learnt; another seed gives other weights; the human output', async () => {
    const out = join(dir, 'toy.safetensors');
    const r = await cli('train', toy, '--data', toyData, '--epochs', '6', '--batch', '8', '--lr', '0.02', '--optimizer', 'sgd', '--schedule', 'cosine', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Toy on .*toy-idx: 40 training, 20 test samples; sgd lr 0.02, batch 8/);
    expect(r.out).toMatch(/epoch 6\/6: loss \d\.\d+, train accuracy [\d.]+%, test accuracy 100\.00%/);
    expect(r.out).toMatch(/wrote .*toy\.safetensors \(after epoch 6\)$/);
    const other = join(dir, 'toy-seed1.safetensors');
    expect((await cli('train', toy, '--data', toyData, '--seed', '1', '--out', other, '--json')).code).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(other))).not.toBe(0);
  }, 120_000);

  it('an image folder (train/ and val/ by class) with adamw and a step schedule', async () => {
    const root = join(dir, 'folder');
    for (const split of ['train', 'val']) {
      for (const [cls, files] of [['bag', ['8-bag.png', '2-pullover.png']], ['boot', ['9-ankle-boot.png', '7-sneaker.png']]] as const) {
        mkdirSync(join(root, split, cls), { recursive: true });
        for (const f of files) copyFileSync(join(ROOT, 'examples/fashion-mnist/images', f), join(root, split, cls, f));
      }
    }
    const net = join(dir, 'two.cnn');
    writeFileSync(net, 'network Two {\n  input 1x28x28\n  conv 2 k=4 s=4\n  relu\n  flatten\n  linear 2\n}\n');
    const r = await cli('train', net, '--data', root, '--epochs', '3', '--batch', '2', '--optimizer', 'adamw', '--schedule', 'step:1:0.5', '--json');
    expect(r.code, r.err).toBe(0);
    const lines = epochs(r.out);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ epoch: 1 });
    expect(existsSync(join(dir, 'two.trained.safetensors'))).toBe(true);
  }, 120_000);

  it('on a terminal, a progress line on stderr rewritten in place, cleared before each epoch line', async () => {
    const raw: string[] = [];
    const out: string[] = [];
    const code = await runCli(['train', toy, '--data', toyData, '--epochs', '40', '--batch', '4', '--out', join(dir, 'tty.safetensors')], {
      out: (t) => out.push(t),
      err: (t) => raw.push(`${t}\n`),
      errRaw: (t) => raw.push(t),
      tty: true,
    });
    expect(code).toBe(0);
    expect(raw.some((t) => /^\r\x1b\[Ktrain: epoch \d+\/40, batch \d+\/10, loss \d\.\d{4}, [\d.]+ samples\/s$/.test(t))).toBe(true);
    expect(raw.at(-1)).toBe('\r\x1b[K');
    expect(out.filter((l) => l.startsWith('epoch '))).toHaveLength(40);
  }, 120_000);

  it('Ctrl-C saves the last finished epoch and exits 130', async () => {
    const out = join(dir, 'interrupted.safetensors');
    const child = spawn(process.execPath, [join(ROOT, 'bin/cnn.js'), 'train', toy, '--data', toyData, '--epochs', '100000', '--batch', '4', '--json', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.split('\n').length > 3 && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted; saving the last finished epoch/);
    const finished = epochs(stdout).length;
    expect(finished).toBeGreaterThanOrEqual(3);
    expect(parseSafetensors(new Uint8Array(readFileSync(out))).metadata).toMatchObject({ epochs: String(finished) });
  }, 120_000);
});

describe('cnn train: errors', () => {
  const cases: [string, string[], RegExp, number][] = [
    ['no --data', [toy], /train needs --data/, 2],
    ['a bad --optimizer', [toy, '--data', toyData, '--optimizer', 'rmsprop'], /--optimizer rmsprop: choose sgd, adam or adamw/, 2],
    ['a bad --schedule', [toy, '--data', toyData, '--schedule', 'linear'], /--schedule linear: choose constant, cosine or step:N/, 2],
    ['--momentum with adam', [toy, '--data', toyData, '--momentum', '0.9'], /--momentum and --nesterov are for --optimizer sgd/, 2],
    ['--epochs 0', [toy, '--data', toyData, '--epochs', '0'], /--epochs 0: give an integer of at least 1/, 2],
    ['a bad --lr', [toy, '--data', toyData, '--lr=-1'], /--lr -1: give a number/, 2],
    ['missing data', [toy, '--data', join(dir, 'nowhere')], /--data .*nowhere: /, 1],
    ['a directory that is neither', [toy, '--data', dir], /neither Fashion-MNIST's IDX files nor an image folder/, 1],
    ['images of another size', [FASHION, '--data', toyData], /the images are 4x4; the network's input is 1x28x28/, 1],
    ['an output that is not a vector of classes', [toy, '--network', 'Map', '--data', toyData], /output is \[2, 4, 4\] per sample/, 1],
    ['--out naming the network', [toy, '--data', toyData, '--out', toy], /that is the network file/, 1],
    [
      'a batch whose training pass is over the memory budget (where inference would fit)',
      [toy, '--data', toyData, '--batch', '10000', '--memory-limit', '12M'],
      /training at batch 10000 needs about 25\.8 MiB \(every layer's output and its gradient: .*\), more than the memory budget of 12 MiB \(--memory-limit 12M\); --batch 4652 would fit$/,
      1,
    ],
  ];
  for (const [what, args, re, status] of cases) {
    it(`${what}: exit ${status}, one line`, async () => {
      const r = await cli('train', ...args);
      expect(r.code, r.err).toBe(status);
      expect(r.err).toMatch(/^cnn train: /);
      expect(r.err).toMatch(re);
      if (status === 1) expect(r.err.split('\n')).toHaveLength(1);
    });
  }
});
