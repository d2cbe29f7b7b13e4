/**
 * NumPy's .npy format (versions 1 to 3): magic `\x93NUMPY`, major and minor version, a
 * little-endian header length (2 bytes in v1, 4 in v2/v3), a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }` padded to 64 bytes,
 * then the data in C order. Only what inputs and outputs need: float32, C order.
 */

export class NpyError extends Error {}

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

export function readNpy(bytes: Uint8Array): NpyArray {
  if (!isNpy(bytes)) throw new NpyError('not a .npy file (no \\x93NUMPY magic)');
  if (bytes.byteLength < 10) throw new NpyError('truncated .npy file');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3) throw new NpyError(`unsupported .npy version ${major}`);
  const headerLen = lenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.byteLength) throw new NpyError('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new NpyError(`malformed .npy header: ${header.trim()}`);
  if (fortran === 'True') throw new NpyError('the .npy array is in Fortran order; save it in C order (np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`malformed .npy shape (${shapeText})`);
  const count = shape.reduce((a, d) => a * d, 1);
  const dataStart = start + headerLen;
  const size = descr === '<f4' || descr === '|f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (!size) throw new NpyError(`the .npy array has dtype '${descr}'; give float32 ('<f4'), e.g. x.astype(np.float32)`);
  if (dataStart + count * size > bytes.byteLength) throw new NpyError(`truncated .npy data: shape (${shape.join(', ')}) needs ${count * size} bytes, the file has ${bytes.byteLength - dataStart}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = size === 4 ? view.getFloat32(dataStart + 4 * i, true) : view.getFloat64(dataStart + 8 * i, true);
  return { shape, data };
}

/** Writes a float32 C-order array as .npy version 1.0. */
export function writeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces and a newline so that the data start at a multiple of 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  for (let i = 0; i < data.length; i++) view.setFloat32(total + 4 * i, data[i], true);
  return out;
}
