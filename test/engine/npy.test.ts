import { describe, expect, it } from 'vitest';
import { loadInput } from '../../src/engine/input/load-input';
import { readNpy, writeNpy } from '../../src/engine/input/npy';

/** An .npy file as NumPy writes it, with any header and data. */
function npy(header: string, data: Uint8Array, major = 1): Uint8Array {
  const lenBytes = major === 1 ? 2 : 4;
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + lenBytes + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (lenBytes === 2) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(h, 8 + lenBytes);
  out.set(data, 8 + lenBytes + h.length);
  return out;
}

describe('.npy', () => {
  it('round-trips float32 arrays, data aligned to 64 bytes', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 3 - 2);
    const bytes = writeNpy([1, 2, 3, 4], data);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    expect(readNpy(bytes)).toEqual({ shape: [1, 2, 3, 4], data });
    expect(readNpy(writeNpy([5], new Float32Array(5))).shape).toEqual([5]);
  });

  it('reads version 2 headers and float64 data', () => {
    const a = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", new Uint8Array(Float64Array.from([1.5, -2]).buffer), 2);
    expect(readNpy(a)).toEqual({ shape: [2], data: Float32Array.from([1.5, -2]) });
  });

  it('refuses other dtypes, Fortran order and short data', () => {
    expect(() => readNpy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)))).toThrow(/dtype '<i8'.*float32/);
    expect(() => readNpy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(4)))).toThrow(/Fortran order/);
    expect(() => readNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(4)))).toThrow(/truncated .npy data/);
  });

  it('feeds the input as is, with or without a leading batch of 1, else says the shapes', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(loadInput(writeNpy([3, 2, 2], data), [3, 2, 2]).data).toEqual(data);
    expect(loadInput(writeNpy([1, 3, 2, 2], data), [3, 2, 2]).data).toEqual(data);
    expect(() => loadInput(writeNpy([2, 3, 2], data), [3, 2, 2])).toThrow(/the array has shape \[2, 3, 2\]; the network's input is \[3, 2, 2\] \(optionally with a leading batch of 1\)/);
  });
});
