/**
 * Training targets from .npy files: class labels as NumPy and PyTorch save them (int64 from
 * `y.numpy()`, any integer width, or floats holding integers) and MSE targets as floats. The
 * input reader (src/engine/input/npy.ts) takes floats only; labels need the integer dtypes too.
 */
import { readNpy, type NpyArray, NpyError } from '../input/npy';

const INTS: Record<string, { size: number; read: (v: DataView, at: number) => number }> = {
  '|i1': { size: 1, read: (v, at) => v.getInt8(at) },
  '|u1': { size: 1, read: (v, at) => v.getUint8(at) },
  '<i2': { size: 2, read: (v, at) => v.getInt16(at, true) },
  '<u2': { size: 2, read: (v, at) => v.getUint16(at, true) },
  '<i4': { size: 4, read: (v, at) => v.getInt32(at, true) },
  '<u4': { size: 4, read: (v, at) => v.getUint32(at, true) },
  '<i8': { size: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  '<u8': { size: 8, read: (v, at) => Number(v.getBigUint64(at, true)) },
};

/** A .npy array of any float or integer dtype, as float32 values (labels stay exact below 2^24). */
export function readTargetNpy(bytes: Uint8Array): NpyArray {
  try {
    return readNpy(bytes);
  } catch (e) {
    const descr = /has dtype '([^']*)'/.exec((e as Error).message)?.[1];
    const int = descr !== undefined ? INTS[descr] : undefined;
    if (!int) throw e;
    // The header is valid (readNpy got as far as the dtype): read it again for the layout.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const lenBytes = bytes[6] === 1 ? 2 : 4;
    const headerLen = lenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
    const header = new TextDecoder('latin1').decode(bytes.subarray(8 + lenBytes, 8 + lenBytes + headerLen));
    if (/'fortran_order'\s*:\s*True/.test(header)) throw new NpyError('the .npy array is in Fortran order; save it in C order (np.ascontiguousarray)');
    const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
    const shape = shapeText
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map(Number);
    const count = shape.reduce((a, d) => a * d, 1);
    const start = 8 + lenBytes + headerLen;
    if (start + count * int.size > bytes.byteLength) throw new NpyError(`truncated .npy data: shape (${shape.join(', ')}) needs ${count * int.size} bytes, the file has ${bytes.byteLength - start}`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = int.read(view, start + i * int.size);
    return { shape, data };
  }
}
