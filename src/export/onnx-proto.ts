/**
 * The ONNX messages the export writes, with their field numbers from onnx/onnx.proto (proto2):
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto,
 * TensorShapeProto and OperatorSetIdProto. Only the fields used here are encoded.
 */
import { ProtoWriter } from './protobuf';

/** TensorProto.DataType */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** A node attribute: an integer, a float, a string, or a list of integers. */
export type AttrValue = { int: number } | { float: number } | { string: string } | { ints: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
  doc?: string;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: (typeof DataType)[keyof typeof DataType];
  /** Little-endian element bytes (TensorProto.raw_data). */
  raw: Uint8Array;
}

/** A graph input or output: a float tensor whose dimensions are numbers or symbolic names. */
export interface OnnxValueInfo {
  name: string;
  dims: (number | string)[];
  doc?: string;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Shapes of the values between nodes (Netron shows them on the edges). */
  valueInfo?: OnnxValueInfo[];
  doc?: string;
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  doc?: string;
  metadata?: Record<string, string>;
}

function attribute(name: string, v: AttrValue): ProtoWriter {
  // AttributeProto: name 1, f 2, i 3, s 4, ints 8 (repeated, written unpacked as proto2 declares it), type 20.
  const w = new ProtoWriter().string(1, name);
  if ('int' in v) w.int(3, v.int).int(20, AttrType.INT);
  else if ('float' in v) w.float(2, v.float).int(20, AttrType.FLOAT);
  else if ('string' in v) w.string(4, v.string).int(20, AttrType.STRING);
  else {
    for (const i of v.ints) w.int(8, i);
    w.int(20, AttrType.INTS);
  }
  return w;
}

function node(n: OnnxNode): ProtoWriter {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, doc_string 6, domain 7.
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attribute(k, v));
  if (n.doc !== undefined) w.string(6, n.doc);
  return w;
}

function tensor(t: OnnxTensor): ProtoWriter {
  // TensorProto: dims 1 (repeated int64; packed is accepted by every proto2 parser), data_type 2, name 8, raw_data 9.
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  return w.int(2, t.dataType).string(8, t.name).bytes(9, t.raw);
}

function valueInfo(v: OnnxValueInfo): ProtoWriter {
  // TensorShapeProto.Dimension: dim_value 1, dim_param 2; TensorShapeProto: dim 1.
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  // TypeProto.Tensor: elem_type 1, shape 2; TypeProto: tensor_type 1.
  const tensorType = new ProtoWriter().int(1, DataType.FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  // ValueInfoProto: name 1, type 2, doc_string 3.
  const w = new ProtoWriter().string(1, v.name).message(2, type);
  if (v.doc !== undefined) w.string(3, v.doc);
  return w;
}

function graph(g: OnnxGraph): ProtoWriter {
  // GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13.
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, node(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensor(t));
  if (g.doc !== undefined) w.string(10, g.doc);
  for (const i of g.inputs) w.message(11, valueInfo(i));
  for (const o of g.outputs) w.message(12, valueInfo(o));
  for (const v of g.valueInfo ?? []) w.message(13, valueInfo(v));
  return w;
}

/** Serialises a model: ModelProto's ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7, opset_import 8, metadata_props 14. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.doc !== undefined) w.string(6, m.doc);
  w.message(7, graph(m.graph));
  // OperatorSetIdProto: domain 1 (empty: the default ONNX domain), version 2.
  w.message(8, new ProtoWriter().string(1, '').int(2, m.opsetVersion));
  // StringStringEntryProto: key 1, value 2.
  for (const [k, v] of Object.entries(m.metadata ?? {})) w.message(14, new ProtoWriter().string(1, k).string(2, v));
  return w.finish();
}
