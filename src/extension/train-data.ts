/**
 * The Train tab's samples, read on the extension's side (its file system reaches
 * /usr/share/datasets, the webview's does not): Fashion-MNIST's IDX files, gzipped or not,
 * decompressed with the platform's DecompressionStream (Node and a web worker both have it, so
 * the web extension reads them the same way) and cut to the samples asked for, reading no more
 * of a gzip stream than those need. No `vscode` import: the caller hands in how to read a file.
 */
import type { IdxPair, ImageSample, TrainData } from '../../webview/src/protocol';

/** Reads a file of the folder by its '/'-separated path in it; undefined when there is no such file. */
export type ReadFile = (name: string) => Promise<Uint8Array | undefined>;
/** Lists a folder of the folder by its path in it ('' for itself); undefined when there is none. */
export type ListDir = (name: string) => Promise<{ name: string; dir: boolean }[] | undefined>;

export class TrainDataError extends Error {}

export type IdxData = Extract<TrainData, { kind: 'idx' }>;

/** The IDX header's length and the bytes to keep for at most `limit` samples; undefined until `head` holds the header. */
function idxSpan(head: Uint8Array, limit: number, what: string): { header: number; keep: number; count: number } | undefined {
  if (head.length < 4) return undefined;
  if (head[0] !== 0 || head[1] !== 0) throw new TrainDataError(`${what}: not an IDX file (no 0x0000 magic)`);
  const rank = head[3];
  const header = 4 + 4 * rank;
  if (head.length < header) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = Math.min(dims[0] ?? 0, limit);
  const per = dims.slice(1).reduce((a, d) => a * d, 1);
  return { header, keep: header + count * per, count };
}

/** The first `limit` samples of an IDX file, its first dimension rewritten to match. */
function cut(bytes: Uint8Array, limit: number, what: string): Uint8Array {
  const span = idxSpan(bytes, limit, what);
  if (!span) throw new TrainDataError(`${what}: truncated IDX header`);
  if (bytes.length < span.keep) throw new TrainDataError(`${what}: truncated data (${span.count} samples need ${span.keep} bytes, the file has ${bytes.length})`);
  const out = bytes.slice(0, span.keep);
  new DataView(out.buffer).setUint32(4, span.count);
  return out;
}

/** Decompresses a gzip file up to what `limit` samples need. */
async function gunzipPrefix(gz: Uint8Array, limit: number, what: string): Promise<Uint8Array> {
  const reader = new Blob([gz as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let head: Uint8Array = new Uint8Array(0);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      if (head.length < 64) head = concat(chunks, Math.min(total, 64));
      const span = idxSpan(head, limit, what);
      if (span && total >= span.keep) {
        await reader.cancel();
        break;
      }
    }
  } catch (e) {
    if (e instanceof TrainDataError) throw e;
    throw new TrainDataError(`${what}: not a readable gzip file (${(e as Error).message.split('\n')[0]})`);
  }
  return concat(chunks, total);
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    if (at >= length) break;
    const part = c.subarray(0, length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function idxFile(read: ReadFile, stem: string, limit: number): Promise<Uint8Array | undefined> {
  const plain = await read(stem);
  if (plain) return cut(plain, limit, stem);
  const gz = await read(`${stem}.gz`);
  return gz ? cut(await gunzipPrefix(gz, limit, `${stem}.gz`), limit, `${stem}.gz`) : undefined;
}

async function split(read: ReadFile, prefix: string, limit: number): Promise<IdxPair | undefined> {
  const images = await idxFile(read, `${prefix}-images-idx3-ubyte`, limit);
  const labels = await idxFile(read, `${prefix}-labels-idx1-ubyte`, limit);
  return images && labels ? { images, labels } : undefined;
}

/**
 * `train-*` and, where present, `t10k-*` IDX files of a folder, at most `limit` samples of each
 * (as `cnn train --limit`). `source` names the folder in messages.
 */
export async function readIdxFolder(read: ReadFile, source: string, limit: number): Promise<IdxData> {
  const n = limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
  const train = await split(read, 'train', n);
  if (!train) throw new TrainDataError(`${source}: no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] there (Fashion-MNIST's IDX files)`);
  return { kind: 'idx', source, train, test: await split(read, 't10k', n) };
}

const IMAGE = /\.(png|jpe?g)$/i;

async function subdirs(list: ListDir, dir: string): Promise<string[]> {
  return ((await list(dir)) ?? []).filter((e) => e.dir && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/** One split, classes numbered as the training split's (sorted); the first `limit` in an interleaved order, so every class is seen (as `cnn train`). */
async function imageSplit(read: ReadFile, list: ListDir, dir: string, classes: string[], limit: number, source: string): Promise<ImageSample[]> {
  const byClass: string[][] = classes.map(() => []);
  for (const name of await subdirs(list, dir)) {
    const label = classes.indexOf(name);
    if (label < 0) throw new TrainDataError(`${source}/${dir}: class '${name}' is not among the training classes (${classes.join(', ')})`);
    const files = ((await list(`${dir}/${name}`)) ?? []).filter((e) => !e.dir && IMAGE.test(e.name)).map((e) => e.name).sort();
    byClass[label] = files.map((f) => `${dir}/${name}/${f}`);
  }
  const picked: { name: string; label: number }[] = [];
  const total = byClass.reduce((a, l) => a + l.length, 0);
  for (let i = 0; picked.length < Math.min(limit, total); i++) byClass.forEach((l, label) => i < l.length && picked.length < limit && picked.push({ name: l[i], label }));
  const out: ImageSample[] = [];
  for (const p of picked) {
    const bytes = await read(p.name);
    if (!bytes) throw new TrainDataError(`${source}/${p.name}: cannot read it`);
    out.push({ ...p, bytes });
  }
  return out;
}

/**
 * A picked folder: its IDX files where it has them, else an image folder in torchvision's
 * ImageFolder layout, `train/CLASS/*.png|jpg` and `val/` (or `test/`), at most `limit` images
 * of each split.
 */
export async function readTrainFolder(read: ReadFile, list: ListDir, source: string, limit: number): Promise<TrainData> {
  const top = (await list('')) ?? [];
  if (top.some((e) => !e.dir && /^train-images-idx3-ubyte(\.gz)?$/.test(e.name))) return readIdxFolder(read, source, limit);
  if (!top.some((e) => e.dir && e.name === 'train')) throw new TrainDataError(`${source}: neither Fashion-MNIST's IDX files nor an image folder with train/ (and val/) inside`);
  const n = limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
  const classes = await subdirs(list, 'train');
  if (!classes.length) throw new TrainDataError(`${source}/train: no class folders (train/CLASS/*.png)`);
  const train = await imageSplit(read, list, 'train', classes, n, source);
  if (!train.length) throw new TrainDataError(`${source}/train: no .png or .jpg images in its class folders`);
  const val = ['val', 'test'].find((v) => top.some((e) => e.dir && e.name === v));
  return { kind: 'images', source, classes, train, test: val ? await imageSplit(read, list, val, classes, n, source) : undefined };
}
