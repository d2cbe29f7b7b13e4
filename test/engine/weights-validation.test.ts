/**
 * A safetensors file is checked as the format requires before any tensor is read: offsets in
 * bounds, neither overlapping nor aliasing nor leaving holes, `__metadata__` a map of strings,
 * values finite, batch-norm variances not negative. Every file here is built by hand.
 */
import { describe, expect, it } from 'vitest';
import type { ParamTensor } from '../../src/analysis/types';
import { initWeights } from '../../src/engine/weights/init';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { parseSafetensors, writeSafetensors } from '../../src/engine/weights/safetensors';

function handMade(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

/** One line matching `re`. */
function expectRefused(f: () => unknown, re: RegExp): void {
  const m = message(f);
  expect(m).toMatch(re);
  expect(m).not.toContain('\n');
}

const F32x4 = (begin: number) => ({ dtype: 'F32', shape: [4], data_offsets: [begin, begin + 16] });

describe('safetensors data_offsets', () => {
  it('accept tensors that tile the data exactly, in any order of the header', () => {
    const f = parseSafetensors(handMade({ b: F32x4(16), a: F32x4(0), e: { dtype: 'F32', shape: [0], data_offsets: [32, 32] } }, new Uint8Array(32)));
    expect([...f.tensors.keys()]).toEqual(['b', 'a', 'e']);
  });
  it('refuse overlapping tensors, naming both', () => {
    expectRefused(() => parseSafetensors(handMade({ a: F32x4(0), b: F32x4(8) }, new Uint8Array(24))), /^corrupt safetensors header: tensor 'b' \[8, 24\] overlaps tensor 'a' \[0, 16\]$/);
  });
  it('refuse two tensors aliasing the same bytes', () => {
    expectRefused(() => parseSafetensors(handMade({ a: F32x4(0), b: F32x4(0) }, new Uint8Array(16))), /tensor '[ab]' \[0, 16\] overlaps tensor '[ab]' \[0, 16\]/);
  });
  it('refuse a hole between tensors, and bytes after the last one', () => {
    expectRefused(() => parseSafetensors(handMade({ a: F32x4(0), b: F32x4(20) }, new Uint8Array(36))), /^corrupt safetensors header: bytes 16 to 20 of the data belong to no tensor \(before 'b'\)$/);
    expectRefused(() => parseSafetensors(handMade({ a: F32x4(4) }, new Uint8Array(20))), /bytes 0 to 4 of the data belong to no tensor/);
    expectRefused(() => parseSafetensors(handMade({ a: F32x4(0) }, new Uint8Array(20))), /^corrupt safetensors file: 4 bytes after the last tensor belong to no tensor$/);
  });
  it('refuse offsets past the data, and a dtype whose size disagrees with the span', () => {
    expectRefused(() => parseSafetensors(handMade({ a: F32x4(0) }, new Uint8Array(8))), /^truncated safetensors file: tensor 'a' ends at byte 16 of the data, which has only 8$/);
    expectRefused(() => parseSafetensors(handMade({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(16))), /^tensor 'a': data_offsets span 16 bytes, but F16 \[4\] needs 8$/);
  });
  it('refuse a header declaring huge tensors at once, without allocating for them', () => {
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const huge = { dtype: 'F32', shape: [1_000_000, 1_000_000], data_offsets: [0, 4e12] };
    expectRefused(() => parseSafetensors(handMade({ w: huge }, new Uint8Array(64))), /^truncated safetensors file: tensor 'w' ends at byte 4000000000000 of the data, which has only 64$/);
    const beyond = { dtype: 'F64', shape: [2 ** 30, 2 ** 30, 2 ** 10], data_offsets: [0, 1] };
    expectRefused(() => parseSafetensors(handMade({ w: beyond }, new Uint8Array(1))), /^tensor 'w': shape \[1073741824, 1073741824, 1024\] is too large$/);
    expectRefused(() => parseSafetensors(handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 2 ** 60] } }, new Uint8Array(4))), /^corrupt safetensors header: tensor 'w' has data_offsets \[0, \d+\]$/);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });
});

describe('safetensors __metadata__', () => {
  it('must be an object of strings', () => {
    expect(parseSafetensors(handMade({ __metadata__: { format: 'pt' }, a: F32x4(0) }, new Uint8Array(16))).metadata).toEqual({ format: 'pt' });
    expectRefused(() => parseSafetensors(handMade({ __metadata__: 'pt', a: F32x4(0) }, new Uint8Array(16))), /^corrupt safetensors header: __metadata__ must be an object of strings$/);
    expectRefused(() => parseSafetensors(handMade({ __metadata__: ['pt'] }, new Uint8Array(0))), /__metadata__ must be an object of strings/);
    expectRefused(() => parseSafetensors(handMade({ __metadata__: null }, new Uint8Array(0))), /__metadata__ must be an object of strings/);
    expectRefused(() => parseSafetensors(handMade({ __metadata__: { epoch: 3 } }, new Uint8Array(0))), /^corrupt safetensors header: __metadata__ entry 'epoch' is not a string$/);
  });
});

describe('weight values', () => {
  const declared: ParamTensor[] = [
    { name: 'fc.weight', shape: [2, 3], kind: 'param', role: 'weight', node: 1 },
    { name: 'bn.weight', shape: [2], kind: 'param', role: 'weight', node: 2 },
    { name: 'bn.bias', shape: [2], kind: 'param', role: 'bias', node: 2 },
    { name: 'bn.running_mean', shape: [2], kind: 'buffer', role: 'running_mean', node: 2 },
    { name: 'bn.running_var', shape: [2], kind: 'buffer', role: 'running_var', node: 2 },
  ];
  const file = (change: (name: string, data: Float32Array) => void) => {
    const w = initWeights(declared, 1);
    return writeSafetensors(
      declared.map((d) => {
        const data = Float32Array.from(w.get(d.name)!);
        change(d.name, data);
        return { name: d.name, shape: d.shape, data };
      }),
    );
  };

  it('load when finite, with a zero variance allowed (eps keeps it defined)', () => {
    const w = loadSafetensorsWeights(file((n, d) => n === 'bn.running_var' && (d[0] = 0)), declared);
    expect(w.get('bn.running_var')![0]).toBe(0);
  });
  it('refuse NaN and infinities with the tensor and the index', () => {
    expectRefused(() => loadSafetensorsWeights(file((n, d) => n === 'fc.weight' && (d[4] = NaN)), declared), /^tensor 'fc\.weight' holds NaN at index 4; weights must be finite$/);
    expectRefused(() => loadSafetensorsWeights(file((n, d) => n === 'bn.bias' && (d[1] = -Infinity)), declared), /^tensor 'bn\.bias' holds -infinity at index 1/);
  });
  it('refuse an F64 value beyond float32, which would become infinite', () => {
    const f64 = new Uint8Array(Float64Array.from([1, 1e300]).buffer);
    const one: ParamTensor[] = [{ name: 'b', shape: [2], kind: 'param', role: 'bias', node: 1 }];
    expectRefused(() => loadSafetensorsWeights(handMade({ b: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, f64), one), /^tensor 'b' holds infinity \(as float32\) at index 1/);
  });
  it('refuse a negative batch-norm variance by name', () => {
    expectRefused(() => loadSafetensorsWeights(file((n, d) => n === 'bn.running_var' && (d[1] = -0.5)), declared), /^tensor 'bn\.running_var' holds the negative variance -0\.5 at index 1$/);
    // A negative mean or weight is ordinary.
    expect(loadSafetensorsWeights(file((n, d) => n.startsWith('bn.running_mean') && (d[0] = -3)), declared).size).toBe(5);
  });
});
