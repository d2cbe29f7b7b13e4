import { describe, expect, it } from 'vitest';
import type { ParamTensor } from '../../src/analysis/types';
import { initWeights } from '../../src/engine/weights/init';
import { loadSafetensorsWeights, saveSafetensorsWeights } from '../../src/engine/weights/load';
import { MAX_HEADER_BYTES, parseSafetensors, toFloat32, writeSafetensors } from '../../src/engine/weights/safetensors';
import { expectValues } from './helpers';

const declared: ParamTensor[] = [
  { name: 'conv1.weight', shape: [4, 3, 3, 3], kind: 'param', role: 'weight', node: 1 },
  { name: 'bn1.weight', shape: [4], kind: 'param', role: 'weight', node: 2 },
  { name: 'bn1.bias', shape: [4], kind: 'param', role: 'bias', node: 2 },
  { name: 'bn1.running_mean', shape: [4], kind: 'buffer', role: 'running_mean', node: 2 },
  { name: 'bn1.running_var', shape: [4], kind: 'buffer', role: 'running_var', node: 2 },
  { name: 'fc.weight', shape: [10, 4], kind: 'param', role: 'weight', node: 5 },
  { name: 'fc.bias', shape: [10], kind: 'param', role: 'bias', node: 5 },
];

/** A file built by hand: header JSON and raw data, for the cases the writer would never produce. */
function handMade(header: Record<string, unknown>, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

/** Expects a one-line message (no stack, no newline) matching `re`. */
function expectOneLine(f: () => unknown, re: RegExp): void {
  let msg = '';
  try {
    f();
  } catch (e) {
    msg = (e as Error).message;
  }
  expect(msg).toMatch(re);
  expect(msg).not.toContain('\n');
}

describe('seeded initialisation', () => {
  const w = initWeights(declared, 0);
  it('is deterministic per seed and per name', () => {
    expect(initWeights(declared, 0).get('conv1.weight')).toEqual(w.get('conv1.weight'));
    expect(initWeights(declared, 1).get('conv1.weight')).not.toEqual(w.get('conv1.weight'));
    // Another network with the same tensor name draws the same values: streams are per name.
    expect(initWeights([declared[0]], 0).get('conv1.weight')).toEqual(w.get('conv1.weight'));
  });
  it('He normal for weights, zero biases, identity batch norm', () => {
    const big: ParamTensor = { name: 'big.weight', shape: [64, 32, 3, 3], kind: 'param', role: 'weight', node: 0 };
    const d = initWeights([big]).get('big.weight')!;
    const mean = d.reduce((a, v) => a + v, 0) / d.length;
    const variance = d.reduce((a, v) => a + (v - mean) ** 2, 0) / d.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(variance).toBeCloseTo(2 / (32 * 9), 3);
    expect(Array.from(w.get('bn1.weight')!)).toEqual([1, 1, 1, 1]);
    expect(Array.from(w.get('bn1.bias')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(w.get('bn1.running_mean')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(w.get('bn1.running_var')!)).toEqual([1, 1, 1, 1]);
    expect(w.get('fc.bias')!.every((v) => v === 0)).toBe(true);
  });
});

describe('safetensors', () => {
  it('writes and reads back every tensor in order, with metadata and an 8-byte aligned header', () => {
    const w = initWeights(declared, 3);
    const bytes = saveSafetensorsWeights(declared, w, { source: 'test' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const file = parseSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(declared.map((d) => d.name));
    expect(file.metadata).toEqual({ source: 'test' });
    const back = loadSafetensorsWeights(bytes, declared);
    for (const d of declared) expect(back.get(d.name)).toEqual(w.get(d.name));
  });

  it('converts F16, BF16 and F64 to float32', () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]).buffer); // 1, -2, 0.33325, 2^-24
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
    const f64 = new Uint8Array(Float64Array.from([0.1, -7]).buffer);
    const data = new Uint8Array([...f16, ...bf16, ...f64]);
    const file = parseSafetensors(
      handMade(
        {
          a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
          c: { dtype: 'F64', shape: [2], data_offsets: [12, 28] },
        },
        data,
      ),
    );
    expectValues(toFloat32(file.tensors.get('a')!), [1, -2, 0.333251953125, 2 ** -24], 1e-12);
    expectValues(toFloat32(file.tensors.get('b')!), [1, -3], 0);
    expectValues(toFloat32(file.tensors.get('c')!), [0.1, -7], 1e-7);
  });

  it('ignores PyTorch num_batches_tracked counters of the network batch norms', () => {
    const w = initWeights(declared);
    const tensors = declared.map((d) => ({ name: d.name, shape: d.shape, data: w.get(d.name)! }));
    tensors.push({ name: 'bn1.num_batches_tracked', shape: [], data: Float32Array.from([5]) });
    expect(loadSafetensorsWeights(writeSafetensors(tensors), declared).size).toBe(declared.length);
  });

  describe('errors name the tensor, in one line', () => {
    const w = initWeights(declared);
    const good = () => declared.map((d) => ({ name: d.name, shape: [...d.shape], data: w.get(d.name)! }));

    it('missing tensor', () => {
      const t = good().filter((x) => x.name !== 'bn1.running_var' && x.name !== 'fc.bias');
      expectOneLine(() => loadSafetensorsWeights(writeSafetensors(t), declared), /^missing tensor 'bn1\.running_var' \[4\] \(and 1 more missing\)$/);
    });
    it('extra tensor', () => {
      const t = [...good(), { name: 'fc2.weight', shape: [1], data: new Float32Array(1) }];
      expectOneLine(() => loadSafetensorsWeights(writeSafetensors(t), declared), /^unexpected tensor 'fc2\.weight': the network has no parameter of that name$/);
    });
    it('mis-shaped tensor, even with the right element count', () => {
      const t = good();
      t[5] = { name: 'fc.weight', shape: [4, 10], data: t[5].data };
      expectOneLine(() => loadSafetensorsWeights(writeSafetensors(t), declared), /^tensor 'fc\.weight' has shape \[4, 10\], the network needs \[10, 4\]$/);
    });
    it('non-float tensor', () => {
      const file = handMade({ 'fc.bias': { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
      expectOneLine(() => loadSafetensorsWeights(file, [declared[6]].map((d) => ({ ...d, shape: [1] }))), /^tensor 'fc\.bias' is I64; weights must be F32/);
    });
    it('unknown dtype', () => {
      const file = handMade({ x: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1));
      expectOneLine(() => parseSafetensors(file), /^tensor 'x': unknown dtype Q4$/);
    });
    it('corrupt header JSON', () => {
      const file = handMade({ abcd: 1 }, new Uint8Array(0));
      file.set(new TextEncoder().encode('{"a'), 8 + 7);
      expectOneLine(() => parseSafetensors(file), /^corrupt safetensors header: /);
    });
    it('header that is not an object, or a tensor entry without offsets', () => {
      const arr = new TextEncoder().encode('[1,2]');
      const file = new Uint8Array(8 + arr.length);
      new DataView(file.buffer).setBigUint64(0, BigInt(arr.length), true);
      file.set(arr, 8);
      expectOneLine(() => parseSafetensors(file), /not a JSON object/);
      expectOneLine(() => parseSafetensors(handMade({ w: { dtype: 'F32', shape: [1] } }, f32(1))), /tensor 'w' needs dtype, shape and data_offsets/);
    });
    it('oversized header length', () => {
      expectOneLine(() => parseSafetensors(handMade({}, new Uint8Array(0), BigInt(MAX_HEADER_BYTES) + 1n)), /^corrupt safetensors header: it claims 100000001 bytes/);
      expectOneLine(() => parseSafetensors(handMade({}, new Uint8Array(0), 0xffffffffffffffffn)), /^corrupt safetensors header/);
    });
    it('header longer than the file', () => {
      expectOneLine(() => parseSafetensors(handMade({ a: 1 }, new Uint8Array(0), 500n)), /^truncated safetensors file: the header needs 500 bytes/);
      expectOneLine(() => parseSafetensors(new Uint8Array(5)), /too short for the header length/);
    });
    it('truncated data', () => {
      const bytes = writeSafetensors(good());
      expectOneLine(() => loadSafetensorsWeights(bytes.subarray(0, bytes.length - 4), declared), /^truncated safetensors file: tensor 'fc\.bias' ends at byte \d+ of the data, which has only \d+$/);
    });
    it('offsets that disagree with the shape', () => {
      expectOneLine(() => parseSafetensors(handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, f32(1))), /^tensor 'w': data_offsets span 4 bytes, but F32 \[2\] needs 8$/);
      expectOneLine(() => parseSafetensors(handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1))), /data_offsets \[4, 0\]/);
    });
  });
});
