/** Small ONNX models written with the exporter's encoder, for the importer's operator tests. */
import { DataType, encodeModel, type AttrValue, type OnnxNode, type OnnxTensor } from '../../src/export/onnx-proto';
import { rng } from '../engine/helpers';

export interface Init {
  dims: number[];
  /** Values; random in [-1, 1] when absent. */
  data?: number[];
  int64?: boolean;
}

export interface ModelSpec {
  input: (number | string)[];
  output?: (number | string)[];
  nodes: { op: string; inputs: string[]; outputs?: string[]; attrs?: Record<string, AttrValue>; name?: string }[];
  inits?: Record<string, Init>;
  opset?: number;
  metadata?: Record<string, string>;
  graphName?: string;
  /** More graph inputs, besides `input`. */
  moreInputs?: { name: string; dims: (number | string)[] }[];
}

function raw(init: Init, seed: number): Uint8Array {
  const n = init.dims.reduce((a, d) => a * d, 1);
  const r = rng(seed);
  const values = init.data ?? Array.from({ length: n }, () => r() * 2 - 1);
  if (values.length !== n) throw new Error(`init: ${values.length} values for [${init.dims.join(', ')}]`);
  if (init.int64) {
    const out = new Uint8Array(8 * n);
    const view = new DataView(out.buffer);
    values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    return out;
  }
  const f = Float32Array.from(values);
  return new Uint8Array(f.buffer);
}

/** The last node's first output is the graph's output unless `output` names another. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const inits: OnnxTensor[] = Object.entries(spec.inits ?? {}).map(([name, init], i) => ({
    name,
    dims: init.dims,
    dataType: init.int64 ? DataType.INT64 : DataType.FLOAT,
    raw: raw(init, 100 + i),
  }));
  const nodes: OnnxNode[] = spec.nodes.map((n, i) => ({ op: n.op, inputs: n.inputs, outputs: n.outputs ?? [i === spec.nodes.length - 1 ? 'output' : `v${i}`], attrs: n.attrs, name: n.name ?? `/${n.op}_${i}` }));
  const last = nodes[nodes.length - 1].outputs[0];
  return encodeModel({
    irVersion: 8,
    opsetVersion: spec.opset ?? 17,
    producerName: 'test',
    producerVersion: '0',
    metadata: spec.metadata,
    graph: {
      name: spec.graphName ?? 'main_graph',
      nodes,
      initializers: inits,
      inputs: [{ name: 'input', dims: spec.input }, ...(spec.moreInputs ?? [])],
      outputs: [{ name: last, dims: spec.output ?? ['N'] }],
    },
  });
}

export const ints = (...v: number[]): AttrValue => ({ ints: v });
export const int = (v: number): AttrValue => ({ int: v });
export const float = (v: number): AttrValue => ({ float: v });
export const str = (v: string): AttrValue => ({ string: v });
