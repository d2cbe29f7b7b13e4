/**
 * An ONNX file as plain data: protobufjs decodes the bytes with the schema in onnx-schema.ts,
 * and this module checks what the importer relies on (a graph, opsets, tensors stored inside the
 * file) and turns 64-bit integers and tensor payloads into numbers and typed arrays.
 */
import protobuf from 'protobufjs/light';
import { ONNX_SCHEMA } from './onnx-schema';

/** A problem with the model: one line, naming the node and its place in the graph where there is one. */
export class ImportError extends Error {}

/** TensorProto.DataType values the importer reads. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16 } as const;

const DT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k.toLowerCase()]));

export function dataTypeName(t: number): string {
  return DT_NAMES[t] ?? `type ${t}`;
}

/** AttributeProto.AttributeType */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian element bytes, or undefined when the values sit in the typed fields. */
  raw?: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  uint64Data: number[];
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  strings: string[];
}

export interface OnnxNode {
  /** Position in the graph's node list. */
  index: number;
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttribute>;
  doc: string;
}

export interface OnnxValueInfo {
  name: string;
  /** Undefined for a type other than a tensor. */
  elemType?: number;
  /** Undefined when the shape is not given; a dimension is a number, a symbolic name, or null (unknown). */
  dims?: (number | string | null)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: Map<string, OnnxValueInfo>;
}

export interface OnnxModel {
  irVersion: number;
  /** The default domain's opset. */
  opset: number;
  producer: string;
  graph: OnnxGraph;
  metadata: Record<string, string>;
  docString: string;
}

let modelType: protobuf.Type | undefined;

function type(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

type Int64 = number | { toNumber(): number; low: number; high: number };

/** A 64-bit integer from the wire as a number; refused when it does not fit one exactly. */
function num(v: Int64 | undefined | null, what: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : v.toNumber();
  if (!Number.isSafeInteger(n)) throw new ImportError(`${what}: the integer ${n} is beyond what the importer can represent exactly`);
  return n;
}

const utf8 = new TextDecoder('utf-8');
const text = (b: Uint8Array | undefined): string => (b ? utf8.decode(b) : '');

/** The decoded message objects, loosely typed: protobufjs gives each listed field, defaults on the prototype. */
type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const has = (m: Msg, field: string): boolean => Object.prototype.hasOwnProperty.call(m, field);

function tensorOf(t: Msg, where: string): OnnxTensor {
  const name: string = t.name ?? '';
  const what = `${where} '${name}'`;
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    throw new ImportError(`${what}: its values are stored outside the file (external data); save the model with every tensor inside it (onnx.save(model, f, save_as_external_data=False))`);
  }
  if (has(t, 'segment')) throw new ImportError(`${what}: segmented tensors are not supported`);
  return {
    name,
    dims: (t.dims ?? []).map((d: Int64) => num(d, what)),
    dataType: t.dataType ?? 0,
    raw: has(t, 'rawData') ? (t.rawData as Uint8Array) : undefined,
    floatData: t.floatData ?? [],
    int32Data: t.int32Data ?? [],
    int64Data: (t.int64Data ?? []).map((d: Int64) => num(d, what)),
    doubleData: t.doubleData ?? [],
    uint64Data: (t.uint64Data ?? []).map((d: Int64) => num(d, what)),
  };
}

function attributeOf(a: Msg, where: string): OnnxAttribute {
  const name: string = a.name ?? '';
  const what = `${where}, attribute '${name}'`;
  if (a.refAttrName) throw new ImportError(`${what} refers to a function's attribute; functions are not supported`);
  return {
    name,
    type: a.type ?? 0,
    f: has(a, 'f') ? a.f : undefined,
    i: has(a, 'i') ? num(a.i, what) : undefined,
    s: has(a, 's') ? text(a.s) : undefined,
    t: has(a, 't') ? tensorOf(a.t, what) : undefined,
    floats: a.floats ?? [],
    ints: (a.ints ?? []).map((v: Int64) => num(v, what)),
    strings: (a.strings ?? []).map((s: Uint8Array) => text(s)),
  };
}

function valueInfoOf(v: Msg): OnnxValueInfo {
  const name: string = v.name ?? '';
  const tt = v.type?.tensorType;
  if (!tt) return { name };
  const shape = tt.shape;
  return {
    name,
    elemType: tt.elemType ?? 0,
    dims: shape ? (shape.dim ?? []).map((d: Msg) => (has(d, 'dimValue') ? num(d.dimValue, `value '${name}'`) : d.dimParam ? (d.dimParam as string) : null)) : undefined,
  };
}

/** Why protobufjs could not read the bytes, in a user's words. */
function decodeProblem(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  if (/index out of range/i.test(m)) return 'the data ends in the middle of a field (truncated or not ONNX)';
  if (/invalid wire type|illegal tag|invalid tag/i.test(m)) return `the bytes are not a protobuf message (${m.split('\n')[0]})`;
  return m.split('\n')[0];
}

/**
 * Decodes an ONNX file. Throws ImportError (one line) for bytes that are not an ONNX model, a
 * model without a graph or opset, or tensors stored elsewhere.
 */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  if (bytes.byteLength === 0) throw new ImportError('not an ONNX model: the file is empty');
  let m: Msg;
  try {
    m = type().decode(bytes) as unknown as Msg;
  } catch (e) {
    throw new ImportError(`not an ONNX model: ${decodeProblem(e)}`);
  }
  const irVersion = num(m.irVersion, 'ir_version');
  if (!has(m, 'graph') || irVersion <= 0) throw new ImportError('not an ONNX model: no ir_version and graph (is this an ONNX file?)');
  const opsets: Msg[] = m.opsetImport ?? [];
  const main = opsets.find((o) => !o.domain || o.domain === 'ai.onnx');
  // IR version 3 and later name their opsets; before, the default domain's opset 1 is implied.
  const opset = main ? num(main.version, 'opset_import') : irVersion < 3 ? 1 : 0;
  if (!opset) throw new ImportError('not an ONNX model we can read: it imports no opset of the default (ai.onnx) domain');
  if ((m.functions?.length ?? 0) > 0) throw new ImportError(`the model defines ${m.functions.length} function(s); models with local functions are not supported (export with export_modules_as_functions=False)`);

  const g: Msg = m.graph;
  if ((g.sparseInitializer?.length ?? 0) > 0) throw new ImportError('the graph has sparse initializers; they are not supported');
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer ?? []) {
    const tensor = tensorOf(t, 'initializer');
    initializers.set(tensor.name, tensor);
  }
  const rawNodes: Msg[] = g.node ?? [];
  const nodes: OnnxNode[] = rawNodes.map((n, index) => {
    const where = `node ${index + 1} of ${rawNodes.length}${n.name ? `, '${n.name}'` : ''} (${n.opType ?? '?'})`;
    const attrs = new Map<string, OnnxAttribute>();
    for (const a of n.attribute ?? []) {
      const attr = attributeOf(a, where);
      attrs.set(attr.name, attr);
    }
    return { index, name: n.name ?? '', op: n.opType ?? '', domain: n.domain ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attrs, doc: n.docString ?? '' };
  });
  const metadata: Record<string, string> = {};
  for (const p of m.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const valueInfo = new Map<string, OnnxValueInfo>();
  for (const v of g.valueInfo ?? []) {
    const vi = valueInfoOf(v);
    valueInfo.set(vi.name, vi);
  }
  return {
    irVersion,
    opset,
    producer: [m.producerName, m.producerVersion].filter(Boolean).join(' '),
    docString: m.docString ?? '',
    metadata,
    graph: {
      name: g.name ?? '',
      nodes,
      initializers,
      inputs: (g.input ?? []).map(valueInfoOf),
      outputs: (g.output ?? []).map(valueInfoOf),
      valueInfo,
    },
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export function elementCount(t: OnnxTensor): number {
  return t.dims.reduce((a, d) => a * d, 1);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Checks that a tensor holds as many values as its dimensions say. */
function checkCount(t: OnnxTensor, got: number, where: string): void {
  const n = elementCount(t);
  if (got !== n) throw new ImportError(`${where}: tensor '${t.name}' [${t.dims.join(', ')}] needs ${n} values but holds ${got}`);
}

/** A tensor's values as float32: float16, bfloat16, double and integer types converted. */
export function floatValues(t: OnnxTensor, where: string): Float32Array {
  const n = elementCount(t);
  if (t.raw) {
    const size = ELEMENT_BYTES[t.dataType];
    if (!size || t.dataType === DT.STRING) throw new ImportError(`${where}: tensor '${t.name}' is ${dataTypeName(t.dataType)}, not numbers`);
    checkCount(t, t.raw.byteLength / size, where);
    if (t.dataType === DT.FLOAT && LITTLE_ENDIAN) {
      // The file's own bytes where they are aligned (read only, never written), else one copy.
      if (t.raw.byteOffset % 4 === 0) return new Float32Array(t.raw.buffer, t.raw.byteOffset, n);
      const bytes = new Uint8Array(4 * n);
      bytes.set(t.raw);
      return new Float32Array(bytes.buffer);
    }
    const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    const out = new Float32Array(n);
    switch (t.dataType) {
      case DT.FLOAT:
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
        break;
      case DT.DOUBLE:
        for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
        break;
      case DT.FLOAT16:
        for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case DT.BFLOAT16: {
        const u = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
        break;
      }
      case DT.INT64:
      case DT.UINT64:
        for (let i = 0; i < n; i++) out[i] = Number(t.dataType === DT.INT64 ? view.getBigInt64(8 * i, true) : view.getBigUint64(8 * i, true));
        break;
      case DT.INT32:
        for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
        break;
      case DT.UINT32:
        for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * i, true);
        break;
      case DT.INT16:
        for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
        break;
      case DT.UINT16:
        for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true);
        break;
      case DT.INT8:
        for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
        break;
      default:
        for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
    }
    return out;
  }
  let values: ArrayLike<number>;
  switch (t.dataType) {
    case DT.FLOAT:
      values = t.floatData;
      break;
    case DT.DOUBLE:
      values = t.doubleData;
      break;
    case DT.INT64:
      values = t.int64Data;
      break;
    case DT.UINT32:
    case DT.UINT64:
      values = t.uint64Data;
      break;
    case DT.FLOAT16:
      values = t.int32Data.map(halfToFloat);
      break;
    case DT.BFLOAT16: {
      const u = Uint32Array.from(t.int32Data, (v) => v << 16);
      values = new Float32Array(u.buffer);
      break;
    }
    case DT.STRING:
    case 0:
      throw new ImportError(`${where}: tensor '${t.name}' is ${dataTypeName(t.dataType)}, not numbers`);
    default:
      values = t.int32Data;
  }
  checkCount(t, values.length, where);
  return Float32Array.from(values);
}

/** An integer tensor's values (shapes, axes, pads) as numbers; float tensors must hold integers. */
export function intValues(t: OnnxTensor, where: string): number[] {
  if (t.dataType === DT.INT64 && t.raw) {
    const n = elementCount(t);
    checkCount(t, t.raw.byteLength / 8, where);
    const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = view.getBigInt64(8 * i, true);
      // INT64_MAX and INT64_MIN stand for "to the end" in Slice; they stay infinities.
      out.push(v >= 2n ** 53n ? Infinity : v <= -(2n ** 53n) ? -Infinity : Number(v));
    }
    return out;
  }
  return Array.from(floatValues(t, where), (v) => v);
}
