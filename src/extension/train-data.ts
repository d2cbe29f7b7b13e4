/**
 * The Train tab's samples, read on the extension's side (its file system reaches
 * /usr/share/datasets, the webview's does not): Fashion-MNIST's IDX files, gzipped or not,
 * decompressed with the platform's DecompressionStream (Node and a web worker both have it, so
 * the web extension reads them the same way) and cut to the samples asked for, reading no more
 * of a gzip stream than those need. No `vscode` import: the caller hands in how to read a file.
 */
import type { IdxPair, TrainData } from '../../webview/src/protocol';

/** Reads a file of the folder by name; undefined when there is no such file. */
export type ReadFile = (name: string) => Promise<Uint8Array | undefined>;

export class TrainDataError extends Error {}

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
export async function readIdxFolder(read: ReadFile, source: string, limit: number): Promise<TrainData> {
  const n = limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
  const train = await split(read, 'train', n);
  if (!train) throw new TrainDataError(`${source}: no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] there (Fashion-MNIST's IDX files)`);
  return { kind: 'idx', source, train, test: await split(read, 't10k', n) };
}
