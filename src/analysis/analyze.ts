import type { Diagnostic, RelatedInfo } from '../diagnostics';
import type { Graph, GraphNode } from '../graph/types';
import type { Range } from '../language/range';
import {
  INPUT_FIELD,
  composeField,
  formatShape,
  macsOf,
  numel,
  opsOf,
  ownFieldOf,
  paramTensorsOf,
  widestField,
  windowOutput,
} from './layer-math';
import { DTYPE_BYTES, type DType, type LayerInfo, type ParamTensor, type ReceptiveField, type Shape, type Totals } from './types';

export interface AnalysisOptions {
  dtype?: DType;
  /** Replaces the shape that the network's `input` declares (e.g. AlexNet at 224 instead of 227). */
  inputShape?: Shape;
}

export interface NetworkAnalysis {
  graph: Graph;
  layers: LayerInfo[];
  totals: Totals;
  /** Parameters and buffers in definition order, named as in a PyTorch state_dict. */
  tensors: ParamTensor[];
  dtype: DType;
  input: Shape | null;
  output: Shape | null;
}

function lastRows(n: number, word: string): string {
  return n === 1 ? `the last ${word}` : `the last ${n} ${word}s`;
}

class ShapeChecker {
  constructor(
    private readonly graph: Graph,
    private readonly out: Diagnostic[],
  ) {}

  private report(node: GraphNode, d: Omit<Diagnostic, 'range'> & { range?: Range }): void {
    const related: RelatedInfo[] = node.calls.map((c) => ({ range: c.range, message: `in this call of ${c.block}` }));
    const range = d.range ?? (node.attrs.kind === 'add' || node.attrs.kind === 'concat' ? node.nameRange : node.range);
    this.out.push({ ...d, range, related: related.length ? [...(d.related ?? []), ...related] : d.related });
  }

  private needSpatial(node: GraphNode, input: Shape): boolean {
    if (input.length === 3) return true;
    this.report(node, {
      code: 'needs-spatial',
      severity: 'error',
      message: `${node.attrs.kind} needs an image-shaped input C×H×W, but gets the flat ${formatShape(input)}`,
    });
    return false;
  }

  /** Output shape of one layer, reporting every problem the spec implies at the layer. */
  shape(node: GraphNode, inputs: Shape[]): Shape | null {
    const a = node.attrs;
    const x = inputs[0];
    switch (a.kind) {
      case 'input':
        return a.shape;
      case 'conv':
      case 'maxpool':
      case 'avgpool': {
        if (!this.needSpatial(node, x)) return null;
        let ok = true;
        if (a.kind === 'conv' && (x[0] % a.groups !== 0 || a.out % a.groups !== 0)) {
          const g = largestCommonDivisorAtMost(x[0], a.out, a.groups);
          this.report(node, {
            code: 'groups',
            severity: 'error',
            message: `groups=${a.groups} must divide both the input channels (${x[0]}) and the output channels (${a.out}); g=${g} would`,
          });
          ok = false;
        }
        const d = a.kind === 'conv' ? a.dilation : [1, 1];
        const ceil = a.kind !== 'conv' && a.ceil;
        const dims = [0, 1].map((i) => windowOutput(x[i + 1], a.kernel[i], a.stride[i], a.padding[i], d[i], ceil));
        if (dims[0].out < 1 || dims[1].out < 1) {
          const i = dims[0].out < 1 ? 0 : 1;
          const which = i === 0 ? 'H' : 'W';
          const f = ceil ? '⌈' : '⌊';
          const g = ceil ? '⌉' : '⌋';
          const dil = d[i] > 1 ? `${d[i]}·(${a.kernel[i]} − 1) − 1` : `${a.kernel[i]}`;
          this.report(node, {
            code: 'output-too-small',
            severity: 'error',
            message: `${a.kind} output would be empty: ${which}' = ${f}(${x[i + 1]} + 2·${a.padding[i]} − ${dil})/${a.stride[i]}${g} + 1 = ${dims[i].out}; the input ${formatShape(x)} is smaller than the ${a.kernel.join('×')} window: use a smaller kernel, add padding, or downsample less before this layer`,
          });
          return null;
        }
        const dropped = dims.map((s) => s.droppedRows);
        if (dropped[0] > 0 || dropped[1] > 0) {
          const parts: string[] = [];
          if (dropped[0] > 0) parts.push(lastRows(dropped[0], 'row'));
          if (dropped[1] > 0) parts.push(lastRows(dropped[1], 'column'));
          const i = dropped[0] > 0 ? 0 : 1;
          this.report(node, {
            code: 'stride-drops',
            severity: 'warning',
            message: `stride ${a.stride[i]} does not divide ${x[i + 1]} + 2·${a.padding[i]} − ${d[i] * (a.kernel[i] - 1) + 1} = ${dims[i].span}: ${parts.join(' and ')} of the ${formatShape(x)} input ${dropped[0] + dropped[1] > 1 ? 'are' : 'is'} never seen; adjust the padding${a.kind === 'conv' ? '' : ' or use ceil=true'}`,
          });
        }
        if (!ok) return null;
        return [a.kind === 'conv' ? a.out : x[0], dims[0].out, dims[1].out];
      }
      case 'linear':
        if (x.length !== 1) {
          const at = node.range.start;
          const indent = ' '.repeat(at.character);
          this.report(node, {
            code: 'needs-flat',
            severity: 'error',
            message: `linear needs a flat input, but gets ${formatShape(x)}: insert 'flatten' (giving ${numel(x)}) or 'gap' then 'flatten' before it`,
            fixes: [{ title: "Insert 'flatten' before this layer", edits: [{ range: { start: at, end: at }, newText: `flatten\n${indent}` }] }],
          });
        }
        // Counting as if flattened keeps the figures downstream meaningful.
        return [a.out];
      case 'gap':
        return this.needSpatial(node, x) ? [x[0], 1, 1] : null;
      case 'adaptiveavgpool':
        return this.needSpatial(node, x) ? [x[0], a.size[0], a.size[1]] : null;
      case 'lrn':
        return this.needSpatial(node, x) ? x : null;
      case 'flatten':
        return [numel(x)];
      case 'add':
        return this.addShape(node, inputs);
      case 'concat':
        return this.concatShape(node, inputs);
      default:
        return x;
    }
  }

  private addShape(node: GraphNode, inputs: Shape[]): Shape | null {
    const first = inputs[0];
    const same = inputs.every((s) => s.length === first.length && s.every((d, i) => d === first[i]));
    if (same) return first;
    const channelsOnly = inputs.every((s) => s.length === first.length && s.slice(1).every((d, i) => d === first[i + 1]));
    if (node.residual) {
      const [body, proj] = inputs;
      const fix =
        body.length === 3 && proj.length === 3
          ? `: project the shortcut, as in 'shortcut { conv ${body[0]} k=1${proj[1] !== body[1] ? ` s=${Math.max(1, Math.round(proj[1] / body[1]))}` : ''} bias=false; bn }'`
          : '';
      this.report(node, {
        code: channelsOnly ? 'channel-mismatch' : 'shape-mismatch',
        severity: 'error',
        message: `residual: the body gives ${formatShape(body)} but the shortcut gives ${formatShape(proj)}; they must match to be added${fix}`,
      });
    } else {
      this.report(node, {
        code: channelsOnly ? 'channel-mismatch' : 'shape-mismatch',
        severity: 'error',
        message: `add: the branches give ${inputs.map(formatShape).join(', ')}; they must all match to be added`,
      });
    }
    return first;
  }

  private concatShape(node: GraphNode, inputs: Shape[]): Shape | null {
    const first = inputs[0];
    if (inputs.every((s) => s.length === 1)) return [inputs.reduce((a, s) => a + s[0], 0)];
    const ok = inputs.every((s) => s.length === 3 && s[1] === first[1] && s[2] === first[2]);
    if (!ok) {
      this.report(node, {
        code: 'spatial-mismatch',
        severity: 'error',
        message: `concat: every branch must give the same H×W, but they give ${inputs.map(formatShape).join(', ')}`,
      });
      if (first.length !== 3) return null;
    }
    return [inputs.reduce((a, s) => a + (s.length === 3 ? s[0] : 0), 0), first[1], first[2]];
  }
}

function largestCommonDivisorAtMost(a: number, b: number, limit: number): number {
  for (let g = Math.min(limit, a, b); g > 1; g--) if (a % g === 0 && b % g === 0) return g;
  return 1;
}

/** Shapes, parameters, MACs, memory, receptive fields and totals for one expanded network. */
export function analyzeGraph(graph: Graph, options: AnalysisOptions = {}, out: Diagnostic[] = []): NetworkAnalysis {
  const dtype = options.dtype ?? 'float32';
  const bytes = DTYPE_BYTES[dtype];
  const checker = new ShapeChecker(graph, out);
  const layers: LayerInfo[] = [];
  const tensors: ParamTensor[] = [];
  const fields: (ReceptiveField | null)[] = [];
  for (const node of graph.nodes) {
    const inputShapes = node.inputs.map((i) => layers[i].shape);
    let shape: Shape | null = null;
    if (node.attrs.kind === 'input') shape = options.inputShape ?? node.attrs.shape;
    else if (node.inputs.length > 0 && inputShapes.every((s): s is Shape => s !== null)) shape = checker.shape(node, inputShapes);
    const input = inputShapes[0] ?? null;
    const own = shape ? ownFieldOf(node.attrs, input) : null;
    let rf: ReceptiveField | null = null;
    if (node.attrs.kind === 'input') rf = shape && shape.length === 3 ? INPUT_FIELD : null;
    else if (node.attrs.kind === 'add' || node.attrs.kind === 'concat') {
      const ins = node.inputs.map((i) => fields[i]);
      rf = shape && ins.length && ins.every((f): f is ReceptiveField => f !== null) ? widestField(ins) : null;
    } else if (own && node.inputs.length === 1 && fields[node.inputs[0]]) {
      // Element-wise layers see exactly what their input saw: share the field, compose nothing.
      rf = own === INPUT_FIELD ? fields[node.inputs[0]] : composeField(fields[node.inputs[0]]!, own);
    }
    fields.push(rf);
    const own_tensors = shape ? paramTensorsOf(node.attrs, input, shape) : [];
    let params = 0;
    let buffers = 0;
    for (const t of own_tensors) {
      const n = numel(t.shape);
      if (t.kind === 'param') params += n;
      else buffers += n;
      tensors.push({ name: `${node.path}.${t.role}`, shape: t.shape, kind: t.kind, role: t.role, node: node.id });
    }
    layers.push({
      node: node.id,
      shape,
      inputShapes,
      params,
      buffers,
      macs: shape ? macsOf(node.attrs, input, shape) : 0,
      ops: shape ? opsOf(node.attrs, inputShapes, shape) : 0,
      activationBytes: shape ? numel(shape) * bytes : 0,
      rf,
      ownField: own,
    });
  }
  checkNames(graph, tensors, out);
  const totals = summarize(graph, layers);
  const inputNode = graph.nodes.find((n) => n.attrs.kind === 'input');
  return {
    graph,
    layers,
    totals,
    tensors,
    dtype,
    input: inputNode ? layers[inputNode.id].shape : null,
    output: graph.output >= 0 ? (layers[graph.output]?.shape ?? null) : null,
  };
}

/** Tensors are `path.role`, so two parameterised layers collide exactly when their paths do. */
function checkNames(graph: Graph, tensors: ParamTensor[], out: Diagnostic[]): void {
  const owner = new Map<string, number>();
  let last = -1;
  for (const t of tensors) {
    if (t.node === last) continue;
    last = t.node;
    const node = graph.nodes[t.node];
    const first = owner.get(node.path);
    if (first === undefined) {
      owner.set(node.path, t.node);
      continue;
    }
    out.push({
      code: 'duplicate-label',
      severity: 'error',
      range: node.range,
      message: `parameter name '${t.name}' is already taken by another layer; label one of them differently`,
      related: [{ range: graph.nodes[first].range, message: 'the other layer' }],
    });
  }
}

function summarize(graph: Graph, layers: LayerInfo[]): Totals {
  let params = 0;
  let buffers = 0;
  let macs = 0;
  let ops = 0;
  let activationBytes = 0;
  for (const l of layers) {
    params += l.params;
    buffers += l.buffers;
    macs += l.macs;
    ops += l.ops;
    activationBytes += l.activationBytes;
  }
  return {
    params,
    buffers,
    macs,
    ops,
    activationBytes,
    peakActivationBytes: peakLiveBytes(graph, layers),
    depth: depth(graph),
  };
}

/**
 * Liveness over execution order: a tensor lives from the layer that makes it to its last user
 * (outputs to the end). At each layer its inputs and its output are alive together; nothing is
 * computed in place.
 */
export function peakLiveBytes(graph: Graph, layers: LayerInfo[]): number {
  const n = graph.nodes.length;
  const lastUse = new Array<number>(n).fill(-1);
  for (const node of graph.nodes) {
    lastUse[node.id] = Math.max(lastUse[node.id], node.id);
    for (const i of node.inputs) lastUse[i] = Math.max(lastUse[i], node.id);
  }
  for (const o of [graph.output, ...graph.auxOutputs]) if (o >= 0) lastUse[o] = n;
  const freeAt: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) if (lastUse[i] < n) freeAt[lastUse[i]].push(i);
  let live = 0;
  let peak = 0;
  for (let t = 0; t < n; t++) {
    live += layers[t].activationBytes;
    peak = Math.max(peak, live);
    for (const i of freeAt[t]) live -= layers[i].activationBytes;
  }
  return peak;
}

/** Conv and linear layers on the longest path to the main output. */
function depth(graph: Graph): number {
  const d: number[] = [];
  for (const node of graph.nodes) {
    const own = node.attrs.kind === 'conv' || node.attrs.kind === 'linear' ? 1 : 0;
    d.push(own + Math.max(0, ...node.inputs.map((i) => d[i])));
  }
  return graph.output >= 0 && graph.output < d.length ? d[graph.output] : 0;
}
