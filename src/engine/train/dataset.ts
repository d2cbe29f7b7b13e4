/**
 * Datasets for training: labelled samples of the network's input shape, read by index. The IDX
 * format of MNIST and Fashion-MNIST is parsed here (plain TypeScript: the panel's worker reads
 * the same bytes); reading files and images is the caller's.
 */
import { numel } from '../tensor';

export interface Dataset {
  count: number;
  /** One sample's shape, as the network's input. */
  shape: number[];
  classes: number;
  /** Writes sample i's values at `into[offset..]`. */
  read(i: number, into: Float32Array, offset: number): void;
  label(i: number): number;
}

export class IdxError extends Error {}

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * An IDX file (LeCun's MNIST format): two zero bytes, the type (0x08: unsigned bytes), the
 * number of dimensions, each dimension as a big-endian 32-bit integer, then the data.
 */
export function parseIdx(bytes: Uint8Array, what = 'IDX file'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new IdxError(`${what}: not an IDX file (no 0x0000 magic)`);
  if (bytes[2] !== 0x08) throw new IdxError(`${what}: IDX type 0x${bytes[2].toString(16)}; only unsigned bytes (0x08) are read`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) throw new IdxError(`${what}: truncated header`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  const n = dims.reduce((a, d) => a * d, 1);
  if (bytes.length < start + n) throw new IdxError(`${what}: truncated data: (${dims.join(', ')}) needs ${n} bytes, the file has ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start, start + n) };
}

/** Bytes scaled to [0, 1] (torchvision's ToTensor), with their labels: MNIST-style images. */
export function byteImageDataset(images: IdxArray, labels: IdxArray, shape: number[], classes: number, limit = Infinity): Dataset {
  const size = numel(shape);
  const per = images.dims.slice(1).reduce((a, d) => a * d, 1);
  if (per !== size) throw new IdxError(`the images are ${images.dims.slice(1).join('x')}; the network's input is ${shape.join('x')}`);
  if (labels.dims[0] !== images.dims[0]) throw new IdxError(`${images.dims[0]} images but ${labels.dims[0]} labels`);
  for (let i = 0; i < labels.data.length; i++) if (labels.data[i] >= classes) throw new IdxError(`label ${i} is ${labels.data[i]}; the network has ${classes} classes`);
  return {
    count: Math.min(images.dims[0], limit),
    shape,
    classes,
    read(i, into, offset) {
      const src = images.data.subarray(i * size, (i + 1) * size);
      for (let k = 0; k < size; k++) into[offset + k] = src[k] / 255;
    },
    label: (i) => labels.data[i],
  };
}

/** Samples already decoded to float32, one after another. */
export function arrayDataset(samples: Float32Array, labels: ArrayLike<number>, shape: number[], classes: number): Dataset {
  const size = numel(shape);
  return {
    count: labels.length,
    shape,
    classes,
    read: (i, into, offset) => into.set(samples.subarray(i * size, (i + 1) * size), offset),
    label: (i) => labels[i],
  };
}
