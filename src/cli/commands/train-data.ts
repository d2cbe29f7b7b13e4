/**
 * `cnn train --data`: Fashion-MNIST's IDX files (Debian's dataset-fashion-mnist, or a directory
 * holding them, gzipped or not) or an image folder in torchvision's ImageFolder layout,
 * DIR/train/CLASS/*.png|jpg and DIR/val/CLASS/* (or test/), classes in sorted order.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadInput } from '../../engine/input/load-input';
import { defaultNormalization } from '../../engine/input/preprocess';
import { arrayDataset, byteImageDataset, IdxError, parseIdx, type Dataset } from '../../engine/train/dataset';
import { CliError } from '../command';
import { readErrorReason } from '../load';

/** Where Debian's dataset-fashion-mnist puts the files (`dpkg -L dataset-fashion-mnist`). */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface TrainData {
  train: Dataset;
  test: Dataset | null;
  /** For the human output: where the samples came from. */
  source: string;
}

function readMaybeGz(dir: string, stem: string): Uint8Array | undefined {
  for (const name of [stem, `${stem}.gz`]) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new CliError(`--data ${file}: ${readErrorReason(e)}`);
    }
    try {
      return name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
    } catch (e) {
      throw new CliError(`--data ${file}: not a gzip file (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return undefined;
}

function isIdxDir(dir: string): boolean {
  return ['train-images-idx3-ubyte', 'train-images-idx3-ubyte.gz'].some((f) => existsSync(join(dir, f)));
}

function idxData(dir: string, shape: number[], classes: number, limit: number): TrainData {
  const part = (prefix: string, required: boolean) => {
    const images = readMaybeGz(dir, `${prefix}-images-idx3-ubyte`);
    const labels = readMaybeGz(dir, `${prefix}-labels-idx1-ubyte`);
    if (!images || !labels) {
      if (!required) return null;
      throw new CliError(`--data ${dir}: no ${prefix}-images-idx3-ubyte[.gz] and ${prefix}-labels-idx1-ubyte[.gz]`);
    }
    try {
      return byteImageDataset(parseIdx(images, `${prefix}-images`), parseIdx(labels, `${prefix}-labels`), shape, classes, limit);
    } catch (e) {
      if (e instanceof IdxError) throw new CliError(`--data ${dir}: ${e.message}`);
      throw e;
    }
  };
  return { train: part('train', true)!, test: part('t10k', false), source: dir };
}

const IMAGE = /\.(png|jpe?g)$/i;

function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory())
    .sort();
}

/** One split of an image folder, the classes numbered as `classes` lists them (the training split's, sorted). */
function folderSplit(dir: string, classes: string[], shape: number[], limit: number): Dataset {
  const files: { file: string; label: number }[] = [];
  for (const name of subdirs(dir)) {
    const label = classes.indexOf(name);
    if (label < 0) throw new CliError(`--data ${dir}: class '${name}' is not among the training classes (${classes.join(', ')})`);
    for (const f of readdirSync(join(dir, name)).sort()) if (IMAGE.test(f)) files.push({ file: join(dir, name, f), label });
  }
  // The first `limit` in a fixed interleaved order, so that a limited run still sees every class.
  files.sort((a, b) => a.file.localeCompare(b.file));
  const byClass = classes.map((_, c) => files.filter((f) => f.label === c));
  const picked: typeof files = [];
  for (let i = 0; picked.length < Math.min(limit, files.length); i++) for (const list of byClass) if (i < list.length && picked.length < limit) picked.push(list[i]);
  const size = shape.reduce((a, d) => a * d, 1);
  const samples = new Float32Array(picked.length * size);
  const normalization = defaultNormalization(shape.length === 3 ? shape[0] : 1);
  picked.forEach((p, i) => {
    try {
      samples.set(loadInput(readFileSync(p.file), shape, { normalization }).data, i * size);
    } catch (e) {
      throw new CliError(`--data ${p.file}: ${(e as Error).message.split('\n')[0]}`);
    }
  });
  return arrayDataset(samples, picked.map((p) => p.label), shape, classes.length);
}

function folderData(dir: string, shape: number[], classes: number, limit: number): TrainData {
  const trainDir = join(dir, 'train');
  if (!existsSync(trainDir)) throw new CliError(`--data ${dir}: neither Fashion-MNIST's IDX files nor an image folder with train/ (and val/) inside`);
  const names = subdirs(trainDir);
  if (names.length !== classes) throw new CliError(`--data ${dir}: train/ has ${names.length} class folders; the network's output has ${classes} classes`);
  const valName = ['val', 'test'].find((n) => existsSync(join(dir, n)));
  return { train: folderSplit(trainDir, names, shape, limit), test: valName ? folderSplit(join(dir, valName), names, shape, limit) : null, source: dir };
}

/** The training (and test) samples for a network of input `shape` and `classes` outputs. */
export function loadTrainData(data: string, shape: number[], classes: number, limit: number): TrainData {
  if (data === 'fashion-mnist') {
    if (!isIdxDir(FASHION_MNIST_DIR)) throw new CliError(`--data fashion-mnist: not found in ${FASHION_MNIST_DIR}; install Debian's dataset-fashion-mnist or give the directory of its files`);
    return idxData(FASHION_MNIST_DIR, shape, classes, limit);
  }
  let isDir = false;
  try {
    isDir = statSync(data).isDirectory();
  } catch (e) {
    throw new CliError(`--data ${data}: ${readErrorReason(e)}`);
  }
  if (!isDir) throw new CliError(`--data ${data}: not a directory; give fashion-mnist, a directory of IDX files or an image folder`);
  return isIdxDir(data) ? idxData(data, shape, classes, limit) : folderData(data, shape, classes, limit);
}
