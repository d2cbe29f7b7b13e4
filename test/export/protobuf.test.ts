/**
 * The ONNX file decoded by a small protobuf reader written here, independent of the writer:
 * the wire format, then the model's structure (IR and opset versions, input and outputs with a
 * symbolic batch, initializers named and ordered as `cnn params`, their bytes, the operators).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET } from '../../src/export/onnx';
import { ProtoWriter } from '../../src/export/protobuf';
import { randomWeights, rng } from '../engine/helpers';
import { networks, ROOT, ZOO } from './helpers';

type Field = { wire: 0; value: bigint } | { wire: 2; value: Uint8Array } | { wire: 5; value: number } | { wire: 1; value: bigint };

/** Every field of one message, in order, by number. */
function decode(buf: Uint8Array): Map<number, Field[]> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  const out = new Map<number, Field[]>();
  while (at < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    let f: Field;
    if (wire === 0) f = { wire, value: varint() };
    else if (wire === 2) {
      const n = Number(varint());
      if (at + n > buf.length) throw new Error(`field ${field}: length ${n} past the end`);
      f = { wire, value: buf.subarray(at, at + n) };
      at += n;
    } else if (wire === 5) {
      f = { wire, value: view.getFloat32(at, true) };
      at += 4;
    } else if (wire === 1) {
      f = { wire, value: view.getBigUint64(at, true) };
      at += 8;
    } else throw new Error(`unknown wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(f);
    out.set(field, list);
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const all = (m: Map<number, Field[]>, f: number) => m.get(f) ?? [];
const bytes = (m: Map<number, Field[]>, f: number): Uint8Array[] => all(m, f).map((x) => x.value as Uint8Array);
const str = (m: Map<number, Field[]>, f: number): string => text(bytes(m, f)[0]);
const int = (m: Map<number, Field[]>, f: number): number => Number(BigInt.asIntN(64, all(m, f)[0].value as bigint));
const messages = (m: Map<number, Field[]>, f: number) => bytes(m, f).map(decode);

/** A packed or unpacked repeated int64. */
function ints(m: Map<number, Field[]>, f: number): number[] {
  const out: number[] = [];
  for (const x of all(m, f)) {
    if (x.wire === 0) {
      out.push(Number(BigInt.asIntN(64, x.value)));
      continue;
    }
    const b = x.value as Uint8Array;
    let v = 0n;
    let shift = 0n;
    for (const c of b) {
      v |= BigInt(c & 0x7f) << shift;
      shift += 7n;
      if (!(c & 0x80)) {
        out.push(Number(BigInt.asIntN(64, v)));
        v = 0n;
        shift = 0n;
      }
    }
  }
  return out;
}

/** ValueInfoProto → name and dims (numbers, or the symbolic name). */
function valueInfo(v: Map<number, Field[]>): { name: string; dims: (number | string)[] } {
  const type = messages(v, 2)[0];
  const tensorType = messages(type, 1)[0];
  expect(int(tensorType, 1)).toBe(1); // FLOAT
  const shape = messages(tensorType, 2)[0];
  const dims = messages(shape, 1).map((d) => (d.has(1) ? int(d, 1) : str(d, 2)));
  return { name: str(v, 1), dims };
}

describe('protobuf writer', () => {
  it('encodes varints, negative int64, floats, strings and nested messages', () => {
    const inner = new ProtoWriter().int(1, 300).string(2, 'héllo');
    const w = new ProtoWriter().int(1, 0).int(2, -1).float(3, 1.5).message(4, inner).packedInts(5, [1, 128, 16384, -2]).int(6, 2 ** 40);
    const m = decode(w.finish());
    expect(int(m, 1)).toBe(0);
    expect(int(m, 2)).toBe(-1);
    expect(all(m, 2)[0].value).toBe(2n ** 64n - 1n); // ten-byte two's complement
    expect(all(m, 3)[0].value).toBe(1.5);
    const n = messages(m, 4)[0];
    expect(int(n, 1)).toBe(300);
    expect(str(n, 2)).toBe('héllo');
    expect(ints(m, 5)).toEqual([1, 128, 16384, -2]);
    expect(int(m, 6)).toBe(2 ** 40);
  });

  it('a 0x96 0x01 varint is 150 (the protobuf documentation example)', () => {
    expect([...new ProtoWriter().int(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
  });
});

describe('the ONNX model, decoded', () => {
  it('ResNet-18: versions, input and output, initializers in definition order with their bytes, operators', () => {
    const [net] = networks(join(ROOT, 'examples/resnet18.cnn'));
    const weights = randomWeights(net.tensors, rng(1));
    const model = decode(exportOnnx(net, weights, { source: 'examples/resnet18.cnn' }));
    expect(int(model, 1)).toBe(ONNX_IR_VERSION);
    const [opset] = messages(model, 8);
    expect(str(opset, 1)).toBe('');
    expect(int(opset, 2)).toBe(ONNX_OPSET);
    expect(str(model, 2)).toBe('cnn-designer');
    const meta = Object.fromEntries(messages(model, 14).map((e) => [str(e, 1), str(e, 2)]));
    expect(meta).toEqual({ network: 'ResNet18', source: 'examples/resnet18.cnn' });

    const [graph] = messages(model, 7);
    expect(str(graph, 2)).toBe('ResNet18');
    expect(messages(graph, 11).map(valueInfo)).toEqual([{ name: 'input', dims: ['N', 3, 224, 224] }]);
    expect(messages(graph, 12).map(valueInfo)).toEqual([{ name: 'output', dims: ['N', 1000] }]);

    const inits = messages(graph, 5);
    expect(inits.map((t) => str(t, 8))).toEqual(net.tensors.map((t) => t.name));
    inits.forEach((t, i) => {
      const p = net.tensors[i];
      expect(ints(t, 1)).toEqual(p.shape);
      expect(int(t, 2)).toBe(1);
      const raw = bytes(t, 9)[0];
      const w = weights.get(p.name)!;
      // Bytewise: vitest's deep equality is slow on millions of elements.
      expect(Buffer.compare(Buffer.from(raw), Buffer.from(w.buffer, w.byteOffset, w.byteLength)), p.name).toBe(0);
    });

    const nodes = messages(graph, 1);
    const ops = nodes.map((n) => str(n, 4));
    const count = (op: string) => ops.filter((o) => o === op).length;
    expect(count('Conv')).toBe(20);
    expect(count('BatchNormalization')).toBe(20);
    expect(count('Add')).toBe(8);
    expect(count('Relu')).toBe(17);
    expect(ops.slice(-3)).toEqual(['GlobalAveragePool', 'Flatten', 'Gemm']);
    const conv1 = nodes[0];
    expect(str(conv1, 3)).toBe('conv1');
    expect(bytes(conv1, 1).map(text)).toEqual(['input', 'conv1.weight']);
    const attrs = Object.fromEntries(messages(conv1, 5).map((a) => [str(a, 1), ints(a, 8).length ? ints(a, 8) : int(a, 3)]));
    expect(attrs).toEqual({ kernel_shape: [7, 7], strides: [2, 2], pads: [3, 3, 3, 3], dilations: [1, 1], group: 1 });
    const gemm = nodes[nodes.length - 1];
    expect(bytes(gemm, 1).map(text)).toEqual([text(bytes(nodes[nodes.length - 2], 2)[0]), 'fc.weight', 'fc.bias']);
    expect(bytes(gemm, 2).map(text)).toEqual(['output']);
  });

  it('every value is produced once, before it is read', () => {
    for (const net of networks(ZOO)) {
      const graph = messages(decode(exportOnnx(net, randomWeights(net.tensors, rng(2)))), 7)[0];
      const known = new Set(['input', ...messages(graph, 5).map((t) => str(t, 8))]);
      for (const n of messages(graph, 1)) {
        for (const i of bytes(n, 1).map(text)) expect(known.has(i), `${net.graph.network}: ${i}`).toBe(true);
        for (const o of bytes(n, 2).map(text)) {
          expect(known.has(o), `${net.graph.network}: ${o} produced twice`).toBe(false);
          known.add(o);
        }
      }
      for (const o of messages(graph, 12).map(valueInfo)) expect(known.has(o.name)).toBe(true);
    }
  });
});
