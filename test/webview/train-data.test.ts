/**
 * The Train tab's samples as the extension reads them (src/extension/train-data.ts): Debian's
 * Fashion-MNIST IDX files, gzipped or not, cut to the samples asked for, and the errors.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIdx } from '../../src/engine/train/dataset';
import { type ListDir, readIdxFolder, readTrainFolder, type ReadFile } from '../../src/extension/train-data';
import { FASHION_MNIST_FOLDER } from '../../webview/src/protocol';

const reader =
  (dir: string): ReadFile =>
  async (name) =>
    existsSync(join(dir, name)) ? new Uint8Array(readFileSync(join(dir, name))) : undefined;

const lister =
  (dir: string): ListDir =>
  async (name) => {
    const d = join(dir, name);
    return existsSync(d) && statSync(d).isDirectory() ? readdirSync(d).map((n) => ({ name: n, dir: statSync(join(d, n)).isDirectory() })) : undefined;
  };

const tmp = mkdtempSync(join(tmpdir(), 'cnn-train-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const haveFashion = existsSync(join(FASHION_MNIST_FOLDER, 'train-images-idx3-ubyte.gz'));

describe.runIf(haveFashion)("Debian's Fashion-MNIST", () => {
  const full = (name: string) => gunzipSync(readFileSync(join(FASHION_MNIST_FOLDER, name)));

  it('reads the first N samples of both splits, the first dimension rewritten', async () => {
    const d = await readIdxFolder(reader(FASHION_MNIST_FOLDER), FASHION_MNIST_FOLDER, 100);
    const images = parseIdx(d.train.images);
    expect(images.dims).toEqual([100, 28, 28]);
    expect(parseIdx(d.train.labels).dims).toEqual([100]);
    // The very bytes of the files' first 100 samples.
    expect(Buffer.from(images.data).equals(full('train-images-idx3-ubyte.gz').subarray(16, 16 + 100 * 784))).toBe(true);
    expect(Buffer.from(parseIdx(d.train.labels).data).equals(full('train-labels-idx1-ubyte.gz').subarray(8, 108))).toBe(true);
    expect(parseIdx(d.test!.images).dims).toEqual([100, 28, 28]);
    expect(Buffer.from(parseIdx(d.test!.labels).data).equals(full('t10k-labels-idx1-ubyte.gz').subarray(8, 108))).toBe(true);
  });

  it('limit 0 reads every sample', async () => {
    const d = await readIdxFolder(reader(FASHION_MNIST_FOLDER), FASHION_MNIST_FOLDER, 0);
    expect(parseIdx(d.train.images).dims).toEqual([60000, 28, 28]);
    expect(parseIdx(d.test!.labels).dims).toEqual([10000]);
  });
});

describe('a folder of IDX files', () => {
  /** An IDX file of unsigned bytes. */
  function idx(dims: number[], fill: (i: number) => number): Uint8Array {
    const n = dims.reduce((a, d) => a * d, 1);
    const out = new Uint8Array(4 + 4 * dims.length + n);
    out[2] = 0x08;
    out[3] = dims.length;
    const v = new DataView(out.buffer);
    dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
    for (let i = 0; i < n; i++) out[4 + 4 * dims.length + i] = fill(i);
    return out;
  }

  it('reads plain (not gzipped) files, without a test split', async () => {
    const dir = join(tmp, 'plain');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx([5, 2, 2], (i) => i));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([5], (i) => i % 3));
    const d = await readIdxFolder(reader(dir), dir, 3);
    expect(parseIdx(d.train.images).dims).toEqual([3, 2, 2]);
    expect(Array.from(parseIdx(d.train.images).data)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(Array.from(parseIdx(d.train.labels).data)).toEqual([0, 1, 2]);
    expect(d.test).toBeUndefined();
  });

  it('says in one line what is wrong', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    await expect(readIdxFolder(reader(empty), empty, 10)).rejects.toThrow(/^[^\n]*no train-images-idx3-ubyte\[\.gz\] and train-labels-idx1-ubyte\[\.gz\][^\n]*$/);
    const bad = join(tmp, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'train-images-idx3-ubyte.gz'), Buffer.from('not gzip at all'));
    writeFileSync(join(bad, 'train-labels-idx1-ubyte'), idx([1], () => 0));
    await expect(readIdxFolder(reader(bad), bad, 10)).rejects.toThrow(/train-images-idx3-ubyte\.gz: not a readable gzip file/);
    const short = join(tmp, 'short');
    mkdirSync(short, { recursive: true });
    writeFileSync(join(short, 'train-images-idx3-ubyte'), idx([4, 2, 2], () => 1).subarray(0, 20));
    writeFileSync(join(short, 'train-labels-idx1-ubyte'), idx([4], () => 0));
    await expect(readIdxFolder(reader(short), short, 10)).rejects.toThrow(/train-images-idx3-ubyte: truncated data \(4 samples need 32 bytes, the file has 20\)/);
  });
});

describe('an image folder (ImageFolder layout)', () => {
  function folder(name: string, files: Record<string, string>): string {
    const dir = join(tmp, name);
    rmSync(dir, { recursive: true, force: true });
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    return dir;
  }

  it('numbers the classes in sorted order and takes the first N interleaved, as cnn train', async () => {
    const dir = folder('images', {
      'train/b/2.png': 'b2',
      'train/b/1.png': 'b1',
      'train/a/3.jpg': 'a3',
      'train/a/1.png': 'a1',
      'train/a/2.jpeg': 'a2',
      'train/a/notes.txt': 'not an image',
      'val/b/9.png': 'vb9',
      'val/a/8.png': 'va8',
    });
    const d = await readTrainFolder(reader(dir), lister(dir), dir, 4);
    if (d.kind !== 'images') throw new Error('not read as an image folder');
    expect(d.classes).toEqual(['a', 'b']);
    const text = (s: { bytes: Uint8Array }) => new TextDecoder().decode(s.bytes);
    expect(d.train.map((s) => [s.name, s.label, text(s)])).toEqual([
      ['train/a/1.png', 0, 'a1'],
      ['train/b/1.png', 1, 'b1'],
      ['train/a/2.jpeg', 0, 'a2'],
      ['train/b/2.png', 1, 'b2'],
    ]);
    expect(d.test!.map((s) => [s.name, s.label])).toEqual([
      ['val/a/8.png', 0],
      ['val/b/9.png', 1],
    ]);
    const all = await readTrainFolder(reader(dir), lister(dir), dir, 0);
    expect(all.kind === 'images' && all.train.length).toBe(5);
  });

  it('reads IDX files where the folder has them, and says what is wrong in one line', async () => {
    const idx = folder('idx-too', { 'train-images-idx3-ubyte': 'not IDX at all', 'train-labels-idx1-ubyte': 'y' });
    await expect(readTrainFolder(reader(idx), lister(idx), idx, 4)).rejects.toThrow(/train-images-idx3-ubyte: not an IDX file/);
    const neither = folder('neither', { 'readme.txt': '' });
    await expect(readTrainFolder(reader(neither), lister(neither), neither, 4)).rejects.toThrow(/neither Fashion-MNIST's IDX files nor an image folder with train\/ \(and val\/\) inside$/);
    const stray = folder('stray', { 'train/a/1.png': 'a', 'test/z/1.png': 'z' });
    await expect(readTrainFolder(reader(stray), lister(stray), stray, 4)).rejects.toThrow(/test: class 'z' is not among the training classes \(a\)$/);
    const empty = folder('no-images', { 'train/a/notes.txt': '' });
    await expect(readTrainFolder(reader(empty), lister(empty), empty, 4)).rejects.toThrow(/train: no \.png or \.jpg images in its class folders$/);
  });
});
