import type { Diagnostic, RelatedInfo } from '../language/diagnostics';
import type { ExpansionCache, TemplateLayer, TemplateSpan } from '../graph/cache';
import type { Graph, GraphNode } from '../graph/types';
import type { Range } from '../language/range';
import { layerDef, type LayerProblem, type ShapeContext } from '../layers';
import type { Position } from '../language/range';
import { MAX_COUNT, MAX_TENSOR_VALUES, approx, grouped } from '../layers/limits';
import { stateDictOrder } from './tensor-order';
import { INPUT_FIELD, composeField, formatShape, macsOf, numel, opsOf, ownFieldOf, paramTensorsOf, widestField } from './layer-math';
import { composeExact, exactOfAffine, publicField, widestExact, type ExactField } from './field';
import { DTYPE_BYTES, type DType, type LayerInfo, type ParamTensor, type ReceptiveField, type Shape, type Totals } from './types';

export interface AnalysisOptions {
  dtype?: DType;
  /** Replaces the shape that the network's `input` declares (e.g. AlexNet at 224 instead of 227). */
  inputShape?: Shape;
  /** Counts the layer figures reused from block templates (graphs expanded with this cache). */
  cache?: ExpansionCache;
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

/**
 * The shape rule's window on the analysis: what a layer kind reports lands at the layer (a
 * merge at its composition's keyword), with the chain of block calls that made it. One object,
 * pointed at each layer in turn.
 */
class LayerReports implements ShapeContext {
  node!: GraphNode;

  constructor(private readonly out: Diagnostic[]) {}

  get start(): Position {
    return this.node.range.start;
  }

  get residual(): boolean {
    return !!this.node.residual;
  }

  report(p: LayerProblem): void {
    const node = this.node;
    const related: RelatedInfo[] = node.calls.map((c) => ({ range: c.range, message: `in this call of ${c.block}` }));
    const range = layerDef(node.attrs).merge ? node.nameRange : node.range;
    this.out.push({ ...p, range, related: related.length ? related : undefined });
  }
}

/**
 * Learned parameters a layer holds, from its shapes (the counts of its tensors), or -1 for a
 * layer without tensors.
 */
function paramCount(node: GraphNode, input: Shape | null, shape: Shape): number {
  const def = layerDef(node.attrs);
  if (!def.params) return -1;
  return input ? def.params(node.attrs, input, shape) : -1;
}

/** Shapes, parameters, MACs, memory, receptive fields and totals for one expanded network. */
export function analyzeGraph(graph: Graph, options: AnalysisOptions = {}, out: Diagnostic[] = []): NetworkAnalysis {
  const dtype = options.dtype ?? 'float32';
  const a = new GraphAnalyzer(graph, options, DTYPE_BYTES[dtype], out);
  const nodes = graph.nodes;
  const spans = graph.spans;
  let next = 0;
  for (let id = 0; id < nodes.length; ) {
    if (spans && next < spans.length && spans[next].start === id) {
      id += a.span(spans[next++]);
      continue;
    }
    a.node(id++);
  }
  const { layers, owners } = a;
  checkNames(graph, owners, out);
  const totals = summarize(graph, layers);
  for (const [what, n] of [['parameters', totals.params], ['multiply-accumulates', totals.macs]] as const) {
    if (n > MAX_COUNT) out.push({ code: 'too-large', severity: 'error', range: graph.nameRange, message: `${graph.network} has ${approx(n)} ${what} in all, more than can be counted exactly (${approx(MAX_COUNT)})` });
  }
  const inputNode = graph.nodes.find((n) => n.attrs.kind === 'input');
  return new Analysis(
    graph,
    layers,
    totals,
    dtype,
    inputNode ? layers[inputNode.id].shape : null,
    graph.output >= 0 ? (layers[graph.output]?.shape ?? null) : null,
    owners,
  );
}

class GraphAnalyzer {
  readonly layers: LayerInfo[] = [];
  readonly fields: (ReceptiveField | null)[] = [];
  /** By node: the field pixel by pixel, where an upsampling or transposed conv upstream makes pixels' fields differ (field.ts). */
  private readonly exact: (ExactField | undefined)[] = [];
  /** Nodes that own parameters, for the name check and the tensor list. */
  readonly owners: number[] = [];
  private readonly reports: LayerReports;

  constructor(
    private readonly graph: Graph,
    private readonly options: AnalysisOptions,
    private readonly bytes: number,
    private readonly out: Diagnostic[],
  ) {
    this.reports = new LayerReports(out);
  }

  /** The layer's own window; a conv's or pool's (its attributes' alone) kept in the cache. */
  private ownField(node: GraphNode, input: Shape | null): ReceptiveField | null {
    const a = node.attrs;
    const memo = this.options.cache && layerDef(a).fieldFromAttrs ? this.options.cache.ownFields : undefined;
    if (!memo) return ownFieldOf(a, input);
    let f = memo.get(a) as ReceptiveField | null | undefined;
    if (f === undefined) memo.set(a, (f = ownFieldOf(a, input)));
    return f;
  }

  /** Receptive field at a layer's output, from its own field and its inputs' fields. */
  private field(node: GraphNode, shape: Shape | null, own: ReceptiveField | null, input: Shape | null): ReceptiveField | null {
    const kind = node.attrs.kind;
    const ins = node.inputs;
    const fields = this.fields;
    if (kind === 'input') return shape && shape.length === 3 ? INPUT_FIELD : null;
    const def = layerDef(node.attrs);
    if (def.merge) {
      if (!shape || !ins.length) return null;
      const merged: ReceptiveField[] = [];
      let exact = false;
      for (const i of ins) {
        const f = fields[i];
        if (f === null) return null;
        merged.push(f);
        if (this.exact[i]) exact = true;
      }
      if (!exact) return widestField(merged);
      return this.keep(node.id, widestExact(ins.map((i) => this.exact[i] ?? exactOfAffine(fields[i]!))));
    }
    if (own && ins.length === 1 && fields[ins[0]]) {
      const prev = fields[ins[0]]!;
      const prevExact = this.exact[ins[0]];
      // Element-wise layers see exactly what their input saw: share the field, compose nothing.
      if (own === INPUT_FIELD) {
        this.exact[node.id] = prevExact;
        return prev;
      }
      if (!def.resampling && !prevExact) return composeField(prev, own);
      const dims = composeExact(prevExact ?? exactOfAffine(prev), def.resampling && input ? def.resampling(node.attrs, input) : own);
      return dims && this.keep(node.id, dims);
    }
    return null;
  }

  /** The figures of an exact field, keeping it for the layers after this one where pixels' fields differ. */
  private keep(id: number, dims: ExactField): ReceptiveField {
    const { rf, exact } = publicField(dims);
    this.exact[id] = exact;
    return rf;
  }

  /** The last one-input list of shapes: consecutive layers often see the same shape array. */
  private lastShape: Shape | null = null;
  private lastSingle: (Shape | null)[] = [null];

  node(id: number): void {
    const node = this.graph.nodes[id];
    const layers = this.layers;
    const ins = node.inputs;
    let inputShapes: (Shape | null)[];
    let known = ins.length > 0;
    if (ins.length === 1) {
      const s = layers[ins[0]].shape;
      if (s !== this.lastShape) {
        this.lastShape = s;
        this.lastSingle = [s];
      }
      inputShapes = this.lastSingle;
      known = s !== null;
    } else {
      inputShapes = new Array(ins.length);
      for (let j = 0; j < ins.length; j++) {
        const s = layers[ins[j]].shape;
        inputShapes[j] = s;
        if (s === null) known = false;
      }
    }
    let shape: Shape | null = null;
    this.reports.node = node;
    if (node.attrs.kind === 'input') shape = this.options.inputShape ?? node.attrs.shape;
    else if (known) shape = layerDef(node.attrs).shape(node.attrs, inputShapes as Shape[], this.reports);
    if (shape && numel(shape) > MAX_TENSOR_VALUES) {
      this.reports.report({
        code: 'too-large',
        severity: 'error',
        message: `${node.attrs.kind === 'input' ? 'the input' : `${node.attrs.kind} output`} ${formatShape(shape)} has ${approx(numel(shape))} values, more than the ${grouped(MAX_TENSOR_VALUES)} a tensor may hold`,
      });
      shape = null;
    }
    const input = ins.length ? inputShapes[0] : null;
    const own = shape ? this.ownField(node, input) : null;
    const rf = this.field(node, shape, own, input);
    this.fields.push(rf);
    let params = 0;
    let buffers = 0;
    if (shape) {
      const count = paramCount(node, input, shape);
      if (count > MAX_TENSOR_VALUES) {
        this.reports.report({
          code: 'too-large',
          severity: 'error',
          message: `${node.attrs.kind} would have ${approx(count)} parameters, more than the ${grouped(MAX_TENSOR_VALUES)} a tensor may hold`,
        });
      } else if (count >= 0) {
        params = count;
        const def = layerDef(node.attrs);
        buffers = def.buffers && input ? def.buffers(node.attrs, input, shape) : 0;
        this.owners.push(id);
      }
    }
    let macs = shape ? macsOf(node.attrs, input, shape) : 0;
    if (macs > MAX_COUNT) {
      this.reports.report({ code: 'too-large', severity: 'error', message: `${node.attrs.kind} would take ${approx(macs)} multiply-accumulates, more than can be counted exactly (${approx(MAX_COUNT)})` });
      macs = 0;
    }
    layers.push({
      node: node.id,
      shape,
      inputShapes,
      params,
      buffers,
      macs,
      ops: shape ? opsOf(node.attrs, inputShapes, shape) : 0,
      activationBytes: shape ? numel(shape) * this.bytes : 0,
      rf,
      ownField: own,
    });
  }

  /**
   * The layers of a block call copied from a template (see graph/cache.ts): their figures come
   * from the template where it has seen this input shape, receptive fields are composed anew.
   * Returns the number of layers.
   */
  span(span: TemplateSpan): number {
    const t = span.template;
    const n = t.nodes.length;
    const inShape = this.layers[span.input].shape;
    const key = inShape ? `${inShape.join('x')}|${this.bytes}` : undefined;
    const memo = key === undefined ? undefined : t.analyses.get(key);
    const nodes = this.graph.nodes;
    if (memo) {
      for (let k = 0; k < n; k++) {
        const id = span.start + k;
        const m = memo[k];
        const rf = this.field(nodes[id], m.shape, m.ownField as ReceptiveField | null, m.inputShapes[0] ?? null);
        this.fields.push(rf);
        if (m.owner) this.owners.push(id);
        this.layers.push({
          node: id,
          shape: m.shape,
          inputShapes: m.inputShapes,
          params: m.params,
          buffers: m.buffers,
          macs: m.macs,
          ops: m.ops,
          activationBytes: m.activationBytes,
          rf,
          ownField: m.ownField as ReceptiveField | null,
        });
      }
      if (this.options.cache) this.options.cache.analysisHits += n;
      return n;
    }
    const reported = this.out.length;
    for (let k = 0; k < n; k++) this.node(span.start + k);
    if (key !== undefined && this.out.length === reported) {
      const layers: TemplateLayer[] = [];
      let o = this.owners.length - 1;
      while (o >= 0 && this.owners[o] >= span.start) o--;
      const owned = new Set(this.owners.slice(o + 1));
      for (let k = 0; k < n; k++) {
        const l = this.layers[span.start + k];
        layers.push({
          shape: l.shape,
          inputShapes: l.inputShapes,
          params: l.params,
          buffers: l.buffers,
          macs: l.macs,
          ops: l.ops,
          activationBytes: l.activationBytes,
          ownField: l.ownField,
          owner: owned.has(span.start + k),
        });
      }
      t.analyses.set(key, layers);
    }
    return n;
  }
}

/**
 * A network's analysis. Its tensors are listed when first asked for: the editor never needs
 * them, and a long network has many. (A getter on the class: one in an object literal would
 * give every analysis a shape of its own.)
 */
class Analysis implements NetworkAnalysis {
  #owners: number[];
  #tensors: ParamTensor[] | undefined;

  constructor(
    readonly graph: Graph,
    readonly layers: LayerInfo[],
    readonly totals: Totals,
    readonly dtype: DType,
    readonly input: Shape | null,
    readonly output: Shape | null,
    owners: number[],
  ) {
    this.#owners = owners;
  }

  get tensors(): ParamTensor[] {
    return (this.#tensors ??= tensorsOf(this.graph, this.layers, this.#owners));
  }
}

function tensorsOf(graph: Graph, layers: LayerInfo[], owners: number[]): ParamTensor[] {
  const byNode = new Map<number, ParamTensor[]>();
  for (const id of owners) {
    const node = graph.nodes[id];
    const l = layers[id];
    const bare = layerDef(node.attrs).namedByPath;
    const list: ParamTensor[] = [];
    for (const t of paramTensorsOf(node.attrs, l.inputShapes[0] ?? null, l.shape)) {
      const p: ParamTensor = { name: bare ? node.path : `${node.path}.${t.role}`, shape: t.shape, kind: t.kind, role: t.role, node: node.id };
      if (t.fill !== undefined) p.fill = t.fill;
      list.push(p);
    }
    byNode.set(id, list);
  }
  return stateDictOrder(graph, byNode);
}

/** The name of a layer's first tensor: `path.weight`, or the path itself for a bare parameter. */
function firstTensorName(node: GraphNode): string {
  return layerDef(node.attrs).namedByPath ? node.path : `${node.path}.weight`;
}

/**
 * Tensors are `path.role`, so two parameterised layers collide exactly when their paths do. A
 * bare parameter (`scale`, named `path`) also collides with a layer inside its path, which
 * PyTorch would make a module of the same name, and with a layer its path is inside.
 */
function checkNames(graph: Graph, owners: number[], out: Diagnostic[]): void {
  const owner = new Map<string, number>();
  let bare: number[] | undefined;
  for (let k = 0; k < owners.length; k++) {
    const id = owners[k];
    const node = graph.nodes[id];
    if (layerDef(node.attrs).namedByPath) (bare ??= []).push(id);
    const first = owner.get(node.path);
    if (first === undefined) {
      owner.set(node.path, id);
      continue;
    }
    out.push({
      code: 'duplicate-label',
      severity: 'error',
      range: node.range,
      message: `parameter name '${firstTensorName(node)}' is already taken by another layer; label one of them differently`,
      related: [{ range: graph.nodes[first].range, message: 'the other layer' }],
    });
  }
  if (!bare) return;
  // Each proper prefix of an owner's path, with the first owner below it.
  const below = new Map<string, number>();
  for (const id of owners) {
    const path = graph.nodes[id].path;
    for (let i = path.indexOf('.'); i >= 0; i = path.indexOf('.', i + 1)) {
      const prefix = path.slice(0, i);
      if (!below.has(prefix)) below.set(prefix, id);
    }
  }
  for (const id of bare) {
    const node = graph.nodes[id];
    const path = node.path;
    let other = below.get(path);
    if (other === undefined) {
      for (let i = path.indexOf('.'); i >= 0 && other === undefined; i = path.indexOf('.', i + 1)) other = owner.get(path.slice(0, i));
    }
    if (other === undefined) continue;
    const o = graph.nodes[other];
    out.push({
      code: 'duplicate-label',
      severity: 'error',
      range: node.range,
      message: o.path.startsWith(`${path}.`)
        ? `parameter name '${path}' is also the prefix of '${firstTensorName(o)}': PyTorch cannot hold a parameter and a module of one name; label one of them differently`
        : `parameter name '${path}' lies inside the layer '${o.path}', which PyTorch cannot hold; label one of them differently`,
      related: [{ range: o.range, message: 'the other layer' }],
    });
  }
}

function summarize(graph: Graph, layers: LayerInfo[]): Totals {
  let params = 0;
  let buffers = 0;
  let macs = 0;
  let auxMacs = 0;
  let ops = 0;
  let activationBytes = 0;
  const nodes = graph.nodes;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    params += l.params;
    buffers += l.buffers;
    // torchvision publishes its figures without the auxiliary heads, which run only in training.
    if (nodes[i].aux) auxMacs += l.macs;
    else macs += l.macs;
    ops += l.ops;
    activationBytes += l.activationBytes;
  }
  return {
    params,
    buffers,
    macs,
    auxMacs,
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
  // Indexed loops: these run once per analysis, often before the optimiser has seen them,
  // and a for-of there allocates an iterator result per element.
  const nodes = graph.nodes;
  for (let k = 0; k < n; k++) {
    const node = nodes[k];
    if (lastUse[node.id] < node.id) lastUse[node.id] = node.id;
    const ins = node.inputs;
    for (let j = 0; j < ins.length; j++) if (lastUse[ins[j]] < node.id) lastUse[ins[j]] = node.id;
  }
  if (graph.output >= 0) lastUse[graph.output] = n;
  for (let j = 0; j < graph.auxOutputs.length; j++) if (graph.auxOutputs[j] >= 0) lastUse[graph.auxOutputs[j]] = n;
  // Tensors freed after each step, as linked lists: head[t] → next[i] → ... (-1 ends).
  const head = new Array<number>(n).fill(-1);
  const next = new Array<number>(n).fill(-1);
  for (let i = n - 1; i >= 0; i--) {
    const t = lastUse[i];
    if (t >= 0 && t < n) {
      next[i] = head[t];
      head[t] = i;
    }
  }
  let live = 0;
  let peak = 0;
  for (let t = 0; t < n; t++) {
    live += layers[t].activationBytes;
    peak = Math.max(peak, live);
    for (let i = head[t]; i >= 0; i = next[i]) live -= layers[i].activationBytes;
  }
  return peak;
}

/** Conv and linear layers on the longest path to the main output. */
function depth(graph: Graph): number {
  const d = new Array<number>(graph.nodes.length).fill(0);
  for (let k = 0; k < graph.nodes.length; k++) {
    const node = graph.nodes[k];
    let deepest = 0;
    const ins = node.inputs;
    for (let j = 0; j < ins.length; j++) if (d[ins[j]] > deepest) deepest = d[ins[j]];
    // The weighted layers: those that count multiply-accumulates.
    d[node.id] = deepest + (layerDef(node.attrs).macs ? 1 : 0);
  }
  return graph.output >= 0 && graph.output < d.length ? d[graph.output] : 0;
}
