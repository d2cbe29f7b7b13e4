/**
 * Stage 1 of the import: the ONNX graph as our layer graph. Each operator maps to a layer kind
 * (or to nothing: Identity, a zero Pad, a Flatten of a flat tensor), with the patterns exporters
 * write folded on the way: a Conv or MatMul followed by the Add of its bias, `x * sigmoid(x)`,
 * a Pad before a convolution or a pool, the Shape/Gather/Concat arithmetic behind a Reshape to
 * [N, -1], and our own exporter's adaptive pooling as a matrix product. Constants (initializers
 * and Constant nodes) are folded where they feed shapes. Every layer's shape comes from the
 * kind's own shape rule, so a layer that does not fit its input is refused here, at its node.
 */
import { defOfKind, LAYER_DEFS, layerDef, type LayerAttrs, type LayerKind, type LayerProblem, type Pair, type Shape, type TensorRole } from '../layers';
import { adaptiveWindows } from '../layers/adaptiveavgpool';
import type { GeluAttrs } from '../layers/gelu';
import { DT, dataTypeName, floatValues, ImportError, intValues, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-model';

export interface ImportTensor {
  data: Float32Array;
  shape: number[];
  /**
   * The initializer it holds, when the values are one initializer's as they are (not transposed,
   * scaled or broadcast) and no other tensor holds it: exporters merge equal initializers (the
   * zero biases of folded batch norms), and a merged one's name is only one of its users'.
   */
  source?: string;
}

/** One layer of the recovered graph. */
export interface ImportLayer {
  id: number;
  attrs: LayerAttrs;
  inputs: number[];
  shape: Shape;
  tensors: Partial<Record<TensorRole, ImportTensor>>;
  /** The ONNX node in words, for messages: `node 12 of 65, '/conv1/Conv' (Conv)`. */
  origin: string;
  /** The module path the node's name gives (`layer1.0.conv1`), '' when it gives none. */
  module: string;
  /** For a layer with tensors: the parameter path its own initializers' names give, if they are names and agree. */
  named?: string;
}

export interface LayerGraph {
  /** In execution order; layers[0] is the input. */
  layers: ImportLayer[];
  output: number;
  /** The initializers that became weights or were read as constants. */
  usedInitializers: Set<string>;
  /** Float initializers that hold weights (more than one value), for the final check. */
  weightInitializers: Set<string>;
  warnings: string[];
}

/** A constant: an initializer, a Constant node's value, or shape arithmetic (which may hold the symbolic batch). */
interface Const {
  t: 'const';
  dims: number[];
  dataType: number;
  /** Where it comes from, for messages and the used-initializer check. */
  name: string;
  tensor?: OnnxTensor;
  floats?: Float32Array;
  ints?: (number | 'N')[];
}

/** A batch of tensors: one layer's output. */
interface LayerValue {
  t: 'layer';
  id: number;
}

/** A Pad not yet applied: the next convolution or pool takes it as padding. */
interface PadValue {
  t: 'pad';
  of: number;
  /** [top, left, bottom, right] */
  pads: number[];
  value: number;
  origin: string;
}

/** Our exporter's uneven adaptive pooling: rows of H*W per (sample, channel), then times the averaging matrix. */
interface RowsValue {
  t: 'rows';
  of: number;
  matrix?: { data: Float32Array; dims: number[] };
}

/**
 * The steps of the patterns that reshape a layer's output on the way to one layer: channels last
 * around a LayerNormalization, ShuffleNet's channel shuffle ([N, g, C/g, H, W], transposed,
 * merged), and GroupNorm as InstanceNormalization of [N, g, -1] with the affine after it.
 */
type PatternValue =
  /** Layer `of`'s output turned channels-last ([N, H, W, C]); layer norms, pointwise linears and element-wise formulas keep it so. */
  | { t: 'nhwc'; of: number }
  /**
   * A layer norm written out, as torch.onnx writes it before opset 17: mean (ReduceMean over the
   * last axis), centred (Sub), squared (Pow 2), variance (ReduceMean), plus eps (Add), deviation
   * (Sqrt), normalised (Div), scaled (Mul by the weight); the Add of the bias makes the layer.
   */
  | { t: 'lnf'; of: number; nhwc: boolean; stage: LnStage; eps?: number; weight?: ImportTensor; origin: string; module: string; made?: number }
  | { t: 'split'; of: number; groups: number }
  | { t: 'swapped'; of: number; groups: number }
  | { t: 'grouped'; of: number; groups: number }
  | { t: 'gnormed'; of: number; groups: number; eps: number }
  /** A group norm whose affine may follow (Mul by the weight, Add of the bias); a layer once anything else reads it. */
  | { t: 'gn'; of: number; groups: number; eps: number; weight?: ImportTensor; origin: string; module: string; made?: number };

/**
 * An element-wise formula of one layer's output and scalar constants, built while its nodes come
 * (torch.onnx writes GELU as Div, Erf, Add, Mul, Mul); when something else reads it, it is
 * recognised by its values as the layer it computes (gelu, its tanh form, a scale), or refused.
 */
type Expr = { op: 'x' } | { op: 'c'; v: number } | { op: 'add' | 'sub' | 'mul' | 'div' | 'pow'; a: Expr; b: Expr } | { op: 'Erf' | 'Tanh'; a: Expr };

interface ExprValue {
  t: 'expr';
  of: number;
  /** Of layer `of`'s output channels-last (ConvNeXt's GELU between its pointwise linears). */
  nhwc: boolean;
  e: Expr;
  origin: string;
  module: string;
  /** The layer it became, once read. */
  made?: number;
}

type LnStage = 'mean' | 'centred' | 'squared' | 'variance' | 'shifted' | 'deviation' | 'normalised' | 'scaled';

type Value = Const | LayerValue | PadValue | RowsValue | PatternValue | ExprValue;

const BATCH = 'N';

/** A convolution (whose bias may be a batch norm the exporter folded into it). */
export function isConv(a: LayerAttrs): a is Extract<LayerAttrs, { kind: 'conv' }> {
  return a.kind === 'conv';
}

/** How a node is named in messages. */
export function nodeOrigin(n: OnnxNode, count: number): string {
  return `node ${n.index + 1} of ${count}${n.name ? `, '${n.name}'` : ''} (${n.op})`;
}

/**
 * The dotted module path a node's name gives: PyTorch's `/layer2/layer2.0/downsample/downsample.0/Conv`
 * is `layer2.0.downsample.0` (a numbered child repeats its parent's scope name), our exporter's `layer1.0.conv1` (or
 * `conv1/reshape_in`) is itself. Generated names (`Conv_12`, `node_3`) give none.
 */
export function modulePath(name: string, op: string): string {
  if (!name) return '';
  if (name.includes('/')) {
    const parts = name.split('/').filter((p) => p !== '');
    // PyTorch: the last part is the operator (`Conv`, `Relu_1`); ours: a suffix after the path.
    const scopes = name.startsWith('/') ? parts.slice(0, -1) : parts.slice(0, 1);
    // A child of a Sequential repeats its parent's scope name: `downsample` then `downsample.0`.
    let path = '';
    let prev = '';
    for (const s of scopes) {
      path = !path ? s : s.startsWith(`${prev}.`) ? path + s.slice(prev.length) : `${path}.${s}`;
      prev = s;
    }
    return path;
  }
  if (new RegExp(`^(${op}|node|${op.toLowerCase()})(_\\d+)?$`).test(name) || /^[A-Za-z]+_\d+$/.test(name)) return '';
  return name;
}

/** `x.weight` → `x`: a parameter path from an initializer's name, unless the exporter generated the name. */
function pathOfInitializer(name: string | undefined, suffix: string): string | undefined {
  if (!name || name.startsWith('onnx::') || !name.endsWith(`.${suffix}`)) return undefined;
  const path = name.slice(0, -suffix.length - 1);
  return path && !/^\d+$/.test(path) ? path : undefined;
}

function pairEq(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The registry's names of kinds this file would otherwise spell (a kind is spelt in few files,
 * test/architecture.test.ts): the scale layer, and the activations whose ONNX operator is their
 * name capitalised (Relu, Sigmoid, Tanh).
 */
const SCALE = LAYER_DEFS.scale.kind;
function activationKind(op: string): LayerKind | undefined {
  const k = op.toLowerCase();
  return k in LAYER_DEFS && LAYER_DEFS[k as LayerKind].family === 'act' ? (k as LayerKind) : undefined;
}
/** gelu's `approximate` choices, from its registry entry. */
const GELU_FORMS: readonly string[] = LAYER_DEFS.gelu.spec?.args.find((a) => a.name === 'approximate')?.choices ?? [];

class Mapper {
  readonly layers: ImportLayer[] = [];
  private readonly values = new Map<string, Value>();
  private readonly consumers = new Map<string, number>();
  readonly used = new Set<string>();
  readonly weightInits = new Set<string>();
  readonly warnings: string[] = [];
  private readonly nodeCount: number;
  private origin = '';
  private node!: OnnxNode;

  constructor(private readonly model: OnnxModel) {
    this.nodeCount = model.graph.nodes.length;
  }

  fail(message: string): never {
    throw new ImportError(`${this.origin}: ${message}`);
  }

  // ---- values -------------------------------------------------------------------------------

  private value(name: string): Value {
    const v = this.values.get(name);
    if (v) return v;
    const init = this.model.graph.initializers.get(name);
    if (init) {
      const c: Const = { t: 'const', dims: init.dims, dataType: init.dataType, name, tensor: init };
      this.values.set(name, c);
      return c;
    }
    this.fail(`input '${name}' is produced by no earlier node (is the graph sorted?)`);
  }

  private input(i: number): Value {
    const name = this.node.inputs[i];
    if (name === undefined || name === '') this.fail(`input ${i + 1} is missing`);
    return this.value(name);
  }

  private hasInput(i: number): boolean {
    const name = this.node.inputs[i];
    return name !== undefined && name !== '';
  }

  private layerInput(i: number): number {
    const v = this.input(i);
    if (v.t === 'layer') return v.id;
    if (v.t === 'gn') return this.groupNormLayer(v);
    if (v.t === 'expr' && !v.nhwc) return this.exprLayer(v);
    if (v.t === 'lnf' && !v.nhwc && (v.stage === 'normalised' || v.stage === 'scaled')) return this.lnLayer(v);
    if (v.t === 'expr' || v.t === 'nhwc' || (v.t === 'lnf' && v.nhwc)) this.fail('it takes a channels-last tensor (after a Transpose to [N, H, W, C]); the language has layers there only for a layer norm, a pointwise linear (MatMul) and element-wise formulas, until the Transpose back');
    if (v.t === 'lnf') this.fail(`it takes a part of a layer norm's formula (the ${v.stage} value), not a layer`);
    if (v.t === 'pad') this.fail(`a Pad feeds it; only a convolution or a pool can take a Pad as its padding`);
    if (v.t === 'const') this.fail(`input ${i + 1} ('${this.node.inputs[i]}') is a constant where a tensor of the batch is expected`);
    this.fail(`it takes a reshaped or transposed tensor (${PATTERN_WORDS[v.t]}) that the language cannot express`);
  }

  /** A pending group norm as a layer: the weight and bias it has (ones and zeros where the model has none). */
  private groupNormLayer(v: Extract<PatternValue, { t: 'gn' }>, bias?: ImportTensor): number {
    if (v.made !== undefined && !bias) return v.made;
    const c = this.layers[v.of].shape[0];
    const weight = v.weight ?? { data: new Float32Array(c).fill(1), shape: [c] };
    const origin = this.origin;
    this.origin = v.origin;
    const id = this.addLayer({ kind: 'groupnorm', groups: v.groups, eps: v.eps }, [v.of], { weight, bias: bias ?? { data: new Float32Array(c), shape: [c] } });
    this.layers[id].module = v.module;
    this.origin = origin;
    v.made = id;
    return id;
  }

  private constInput(i: number, what: string): Const {
    const v = this.input(i);
    if (v.t !== 'const') this.fail(`its ${what} (input ${i + 1}) must be a constant (an initializer), not computed from the input`);
    if (v.tensor) this.used.add(v.name);
    return v;
  }

  private floats(c: Const): Float32Array {
    if (c.floats) return c.floats;
    if (c.ints) {
      if (c.ints.some((v) => v === BATCH)) this.fail(`'${c.name}' depends on the batch size, where a constant is needed`);
      c.floats = Float32Array.from(c.ints as number[]);
      return c.floats;
    }
    c.floats = floatValues(c.tensor!, this.origin);
    return c.floats;
  }

  private ints(c: Const): (number | 'N')[] {
    if (c.ints) return c.ints;
    if (c.tensor) {
      if (c.dataType === DT.STRING) this.fail(`'${c.name}' holds strings where numbers are expected`);
      c.ints = intValues(c.tensor, this.origin);
    } else c.ints = Array.from(c.floats!);
    return c.ints;
  }

  private numbers(c: Const, what: string): number[] {
    const v = this.ints(c);
    if (v.some((x) => x === BATCH)) this.fail(`its ${what} depends on the batch size`);
    return v as number[];
  }

  /** A weight from a constant: its values as float32, with the initializer's name when it is one. */
  private weight(c: Const, shape: number[], exact = true): ImportTensor {
    const data = this.floats(c);
    if (data.length !== shape.reduce((a, d) => a * d, 1)) this.fail(`tensor '${c.name}' has ${data.length} values; [${shape.join(', ')}] needs ${shape.reduce((a, d) => a * d, 1)}`);
    if (c.tensor && data.length > 1) this.weightInits.add(c.name);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) this.fail(`tensor '${c.name}' holds ${Number.isNaN(data[i]) ? 'NaN' : 'an infinity'} at index ${i}`);
    }
    return { data, shape, source: exact && c.tensor ? c.name : undefined };
  }

  private setOutput(v: Value, i = 0): void {
    const name = this.node.outputs[i];
    if (name) this.values.set(name, v);
  }

  private layerOf(id: number): ImportLayer {
    return this.layers[id];
  }

  /** The output `i` of this node must feed nothing (BatchNormalization's statistics, MaxPool's indices, Dropout's mask). */
  private unusedOutputs(from: number, what: string): void {
    for (let i = from; i < this.node.outputs.length; i++) {
      const name = this.node.outputs[i];
      if (name && (this.consumers.get(name) ?? 0) > 0) this.fail(`its ${what} output '${name}' is used; only the first output can be imported`);
    }
  }

  // ---- attributes ---------------------------------------------------------------------------

  private attr(name: string): OnnxAttribute | undefined {
    return this.node.attrs.get(name);
  }

  private int(name: string, dflt: number): number {
    const a = this.attr(name);
    return a?.i ?? dflt;
  }

  private float(name: string, dflt: number): number {
    const a = this.attr(name);
    return a?.f ?? dflt;
  }

  private intList(name: string): number[] | undefined {
    const a = this.attr(name);
    return a ? a.ints : undefined;
  }

  private str(name: string, dflt: string): string {
    return this.attr(name)?.s ?? dflt;
  }

  /** Only the attributes this mapping reads (and a few that change nothing) are accepted: an unknown one could change the meaning. */
  private onlyAttrs(...known: string[]): void {
    for (const name of this.node.attrs.keys()) if (!known.includes(name)) this.fail(`attribute '${name}' is not supported`);
  }

  // ---- layers -------------------------------------------------------------------------------

  /** Adds a layer, its shape from the kind's own rule; a problem the rule reports is this node's error. */
  addLayer(attrs: LayerAttrs, inputs: number[], tensors: ImportLayer['tensors'] = {}): number {
    const def = defOfKind(attrs.kind);
    const problems: LayerProblem[] = [];
    const inShapes = inputs.map((i) => this.layers[i].shape);
    const shape = def.shape(attrs as never, inShapes, { report: (p) => problems.push(p), start: { line: 0, character: 0, offset: 0 }, residual: false });
    const error = problems.find((p) => p.severity === 'error');
    if (error || !shape) this.fail(`as '${attrs.kind}' on ${inShapes.map((s) => `[${s.join('x')}]`).join(' and ')}: ${error?.message ?? 'no output shape'}`);
    const id = this.layers.length;
    const node = this.node;
    this.layers.push({ id, attrs, inputs, shape, tensors, origin: this.origin, module: node ? modulePath(node.name, node.op) : '' });
    return id;
  }

  private emitLayer(attrs: LayerAttrs, inputs: number[], tensors: ImportLayer['tensors'] = {}): void {
    this.setOutput({ t: 'layer', id: this.addLayer(attrs, inputs, tensors) });
  }

  private spatial(id: number): Shape {
    const s = this.layers[id].shape;
    if (s.length !== 3) this.fail(`it needs a C x H x W input, and gets [${s.join('x')}]`);
    return s;
  }

  /**
   * The symmetric padding of a window operator, from `pads` or `auto_pad` (SAME_* where the
   * total splits evenly), plus a Pad folded into it. Asymmetric padding cannot be written.
   */
  private windowPads(inShape: Shape, kernel: Pair, stride: Pair, dilation: Pair, extra: number[] | undefined): Pair {
    const autoPad = this.str('auto_pad', 'NOTSET');
    let pads: number[];
    if (autoPad === 'NOTSET') pads = this.intList('pads') ?? [0, 0, 0, 0];
    else if (autoPad === 'VALID') pads = [0, 0, 0, 0];
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      pads = [0, 0, 0, 0];
      for (let i = 0; i < 2; i++) {
        const size = inShape[i + 1];
        const out = Math.ceil(size / stride[i]);
        const total = Math.max(0, (out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - size);
        const small = Math.floor(total / 2);
        pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[i + 2] = total - pads[i];
      }
    } else this.fail(`auto_pad '${autoPad}' is not an ONNX value`);
    if (pads.length !== 4) this.fail(`pads [${pads.join(', ')}] are not those of a 2-D window`);
    if (extra) pads = pads.map((p, i) => p + extra[i]);
    if (pads[0] !== pads[2] || pads[1] !== pads[3]) {
      this.fail(`the padding [top ${pads[0]}, left ${pads[1]}, bottom ${pads[2]}, right ${pads[3]}] differs between sides; the language pads both sides of a dimension alike`);
    }
    return [pads[0], pads[1]];
  }

  private pair(name: string, dflt: Pair): Pair {
    const v = this.intList(name);
    if (!v) return dflt;
    if (v.length !== 2) this.fail(`${name} [${v.join(', ')}] is not that of a 2-D window (only 2-D convolutions and pools are supported)`);
    return [v[0], v[1]];
  }

  /** The input of a window operator: a layer, or a Pad of one (returned as extra padding). */
  private windowInput(padValueOk: (value: number) => boolean): { id: number; extra?: number[] } {
    const v = this.input(0);
    if (v.t !== 'pad') return { id: this.layerInput(0) };
    if (!padValueOk(v.value)) this.fail(`the Pad before it (${v.origin}) pads with ${v.value}, which its own padding cannot express`);
    return { id: v.of, extra: v.pads };
  }

  // ---- the operators ------------------------------------------------------------------------

  conv(): void {
    this.onlyAttrs('kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad');
    const { id, extra } = this.windowInput((v) => v === 0);
    const x = this.spatial(id);
    const w = this.constInput(1, 'weight');
    if (w.dims.length !== 4) this.fail(`weight '${w.name}' has ${w.dims.length} dimensions; only 2-D convolutions are supported`);
    const kernel: Pair = this.pair('kernel_shape', [w.dims[2], w.dims[3]]);
    if (!pairEq(kernel, [w.dims[2], w.dims[3]])) this.fail(`kernel_shape [${kernel.join(', ')}] differs from the weight's [${w.dims.slice(2).join(', ')}]`);
    const stride = this.pair('strides', [1, 1]);
    const dilation = this.pair('dilations', [1, 1]);
    const groups = this.int('group', 1);
    const padding = this.windowPads(x, kernel, stride, dilation, extra);
    const out = w.dims[0];
    if (x[0] !== w.dims[1] * groups) this.fail(`weight '${w.name}' [${w.dims.join(', ')}] with group ${groups} needs ${w.dims[1] * groups} input channels, and the input has ${x[0]}`);
    // A [N, C] matrix reshaped to [N, C, 1, 1] is a linear layer at every position (our exporter's `linear pointwise=true`).
    const pointwise = w.tensor?.dims.length === 2 && pairEq(kernel, [1, 1]) && pairEq(stride, [1, 1]) && pairEq(dilation, [1, 1]) && pairEq(padding, [0, 0]) && groups === 1;
    const tensors: ImportLayer['tensors'] = { weight: this.weight(w, pointwise ? [w.dims[0], w.dims[1]] : w.dims) };
    if (this.hasInput(2)) {
      const b = this.constInput(2, 'bias');
      if (b.dims.reduce((a, d) => a * d, 1) !== out) this.fail(`bias '${b.name}' has ${b.dims.join('x')} values; the convolution has ${out} outputs`);
      tensors.bias = this.weight(b, [out]);
    }
    if (pointwise) return this.emitLayer({ kind: 'linear', out, bias: !!tensors.bias, pointwise: true }, [id], tensors);
    this.emitLayer({ kind: 'conv', out, kernel, stride, padding, dilation, groups, bias: !!tensors.bias }, [id], tensors);
  }

  gemm(): void {
    this.onlyAttrs('alpha', 'beta', 'transA', 'transB');
    if (this.int('transA', 0) !== 0) this.fail('transA=1 (a transposed input) is not a linear layer');
    const id = this.layerInput(0);
    const x = this.layers[id].shape;
    if (x.length !== 1) this.fail(`it needs a flat input and gets [${x.join('x')}] (a Flatten is missing)`);
    const b = this.constInput(1, 'weight');
    if (b.dims.length !== 2) this.fail(`weight '${b.name}' is not a matrix`);
    const transB = this.int('transB', 0) === 1;
    const [n, k] = transB ? b.dims : [b.dims[1], b.dims[0]];
    if (k !== x[0]) this.fail(`weight '${b.name}' [${b.dims.join(', ')}] takes ${k} inputs, and the input has ${x[0]}`);
    const alpha = this.float('alpha', 1);
    const beta = this.float('beta', 1);
    let weight = this.weight(b, [n, k], transB && alpha === 1);
    if (!transB || alpha !== 1) {
      const src = weight.data;
      const data = new Float32Array(n * k);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data[i * k + j] = alpha * (transB ? src[i * k + j] : src[j * n + i]);
      weight = { data, shape: [n, k] };
    }
    const tensors: ImportLayer['tensors'] = { weight };
    if (this.hasInput(2)) {
      const c = this.constInput(2, 'bias');
      const count = c.dims.reduce((a, d) => a * d, 1);
      if (!(count === n || count === 1) || c.dims.length > 2 || (c.dims.length === 2 && c.dims[0] !== 1)) this.fail(`bias '${c.name}' [${c.dims.join(', ')}] does not broadcast to [${n}]`);
      const values = this.floats(c);
      if (count === n && beta === 1) tensors.bias = this.weight(c, [n], c.dims.length === 1);
      else {
        this.weight(c, [count]);
        tensors.bias = { data: Float32Array.from({ length: n }, (_, i) => beta * values[count === 1 ? 0 : i]), shape: [n] };
      }
    }
    this.emitLayer({ kind: 'linear', out: n, bias: !!tensors.bias }, [id], tensors);
  }

  matmul(): void {
    this.onlyAttrs();
    const a = this.input(0);
    if (a.t === 'rows') {
      const m = this.constInput(1, 'matrix');
      if (m.dims.length !== 2) this.fail(`'${m.name}' is not a matrix`);
      this.setOutput({ t: 'rows', of: a.of, matrix: { data: this.floats(m), dims: m.dims } });
      return;
    }
    const cl = this.nhwcOf(a);
    if (cl !== undefined) return this.pointwiseMatMul(cl);
    const id = this.layerInput(0);
    const x = this.layers[id].shape;
    if (x.length !== 1) this.fail(`as a linear layer it needs a flat input and gets [${x.join('x')}] (channels first: torch's nn.Linear runs on channels-last tensors, after a Transpose)`);
    const b = this.constInput(1, 'weight');
    if (b.dims.length !== 2 || b.dims[0] !== x[0]) this.fail(`weight '${b.name}' [${b.dims.join(', ')}] is not a [${x[0]}, N] matrix`);
    const [k, n] = b.dims;
    const src = this.weight(b, b.dims).data;
    const data = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data[i * k + j] = src[j * n + i];
    this.emitLayer({ kind: 'linear', out: n, bias: false }, [id], { weight: { data, shape: [n, k] } });
  }

  /** nn.Linear on a channels-last tensor: `linear pointwise=true`, its weight the transposed [C, N] matrix. */
  private pointwiseMatMul(of: number): void {
    const c = this.layers[of].shape[0];
    const b = this.constInput(1, 'weight');
    if (b.dims.length !== 2 || b.dims[0] !== c) this.fail(`weight '${b.name}' [${b.dims.join(', ')}] is not a [${c}, N] matrix for the ${c} channels of its channels-last input`);
    const [k, n] = b.dims;
    const src = this.weight(b, b.dims).data;
    const data = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data[i * k + j] = src[j * n + i];
    const id = this.addLayer({ kind: 'linear', out: n, bias: false, pointwise: true }, [of], { weight: { data, shape: [n, k] } });
    this.setOutput({ t: 'nhwc', of: id });
  }

  /** The layer a channels-last value holds, its formula or layer norm made a layer; undefined for another value. */
  private nhwcOf(v: Value): number | undefined {
    if (v.t === 'nhwc') return v.of;
    if (v.t === 'expr' && v.nhwc) return this.exprLayer(v);
    if (v.t === 'lnf' && v.nhwc && (v.stage === 'normalised' || v.stage === 'scaled')) return this.lnLayer(v);
    return undefined;
  }

  batchnorm(): void {
    this.onlyAttrs('epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs');
    if (this.int('training_mode', 0) !== 0) this.fail('training_mode=1 (batch statistics) is not inference; export the model in eval mode');
    this.unusedOutputs(1, 'running statistics');
    const id = this.layerInput(0);
    const c = this.layers[id].shape[0];
    const roles: [TensorRole, string][] = [
      ['weight', 'Scale'],
      ['bias', 'B'],
      ['running_mean', 'mean'],
      ['running_var', 'var'],
    ];
    const tensors: ImportLayer['tensors'] = {};
    roles.forEach(([role, what], i) => {
      const t = this.constInput(i + 1, what);
      if (t.dims.reduce((a, d) => a * d, 1) !== c) this.fail(`its ${what} '${t.name}' has ${t.dims.join('x')} values; the input has ${c} channels`);
      tensors[role] = this.weight(t, [c]);
    });
    if ([...tensors.running_var!.data].some((v) => v < 0)) this.fail('its variance holds a negative value');
    this.emitLayer({ kind: 'bn', eps: this.float('epsilon', 1e-5) }, [id], tensors);
  }

  activation(kind: LayerKind): void {
    this.onlyAttrs();
    this.emitLayer({ kind } as LayerAttrs, [this.layerInput(0)]);
  }

  leakyrelu(): void {
    this.onlyAttrs('alpha');
    this.emitLayer({ kind: 'leakyrelu', slope: this.float('alpha', 0.01) }, [this.layerInput(0)]);
  }

  softmax(): void {
    this.onlyAttrs('axis');
    const id = this.layerInput(0);
    const s = this.layers[id].shape;
    const opset = this.model.opset;
    let axis = this.int('axis', opset >= 13 ? -1 : 1);
    if (axis < 0) axis += s.length + 1;
    const flatLike = s.length === 1 || (s[1] === 1 && s[2] === 1);
    // Before opset 13 the input is seen as [N, rest]: over channels only when nothing follows them.
    const overChannels = axis === 1 && (opset >= 13 || flatLike);
    if (!overChannels && !(s.length === 1 && axis === 1)) this.fail(`softmax over axis ${axis} of [N, ${s.join(', ')}]; the language's softmax is over the channels (axis 1)`);
    this.emitLayer({ kind: 'softmax' }, [id]);
  }

  clip(): void {
    this.onlyAttrs('min', 'max');
    const id = this.layerInput(0);
    let lo = this.float('min', -Infinity);
    let hi = this.float('max', Infinity);
    if (this.model.opset >= 11) {
      if (this.hasInput(1)) lo = this.floats(this.constInput(1, 'min'))[0];
      if (this.hasInput(2)) hi = this.floats(this.constInput(2, 'max'))[0];
    }
    if (lo === 0 && hi === Infinity) this.emitLayer({ kind: 'relu' }, [id]);
    else if (lo === 0 && hi === 6) this.emitLayer({ kind: 'relu6' }, [id]);
    else this.fail(`Clip(${lo}, ${hi}) is neither relu (0, inf) nor relu6 (0, 6)`);
  }

  hardsigmoid(): void {
    this.onlyAttrs('alpha', 'beta');
    const alpha = this.float('alpha', 0.2);
    const beta = this.float('beta', 0.5);
    // PyTorch's hardsigmoid is relu6(x + 3) / 6.
    if (Math.abs(alpha - 1 / 6) > 1e-6 || Math.abs(beta - 0.5) > 1e-6) this.fail(`HardSigmoid(alpha=${alpha}, beta=${beta}) is not PyTorch's hardsigmoid (alpha=1/6, beta=0.5)`);
    this.emitLayer({ kind: 'hardsigmoid' }, [this.layerInput(0)]);
  }

  hardswish(): void {
    this.onlyAttrs();
    this.emitLayer({ kind: 'hardswish' }, [this.layerInput(0)]);
  }

  pool(kind: 'maxpool' | 'avgpool'): void {
    const isMax = kind === 'maxpool';
    this.onlyAttrs('kernel_shape', 'strides', 'pads', 'auto_pad', 'ceil_mode', ...(isMax ? ['dilations', 'storage_order'] : ['count_include_pad']));
    if (isMax) this.unusedOutputs(1, 'indices');
    const { id, extra } = this.windowInput((v) => (isMax ? v === -Infinity || (v === 0 && this.nonNegative(this.input(0) as PadValue)) : v === 0));
    const x = this.spatial(id);
    const kernel = this.pair('kernel_shape', [0, 0]);
    if (!this.attr('kernel_shape')) this.fail('kernel_shape is missing');
    const stride = this.pair('strides', [1, 1]);
    if (!pairEq(this.pair('dilations', [1, 1]), [1, 1])) this.fail('dilated pooling is not supported');
    const own = this.windowPads(x, kernel, stride, [1, 1], undefined);
    const padding = this.windowPads(x, kernel, stride, [1, 1], extra);
    if (!isMax && this.int('count_include_pad', 0) === 0 && (own[0] || own[1])) {
      this.fail(`it averages without counting its padding (count_include_pad=0); the language's avgpool counts it, as PyTorch's default`);
    }
    const ceil = this.int('ceil_mode', 0) === 1;
    this.emitLayer({ kind, kernel, stride, padding, ceil } as LayerAttrs, [id]);
  }

  /** A zero Pad before a max pool is the pool's own padding when nothing it pads can be negative. */
  private nonNegative(p: PadValue): boolean {
    const k = this.layers[p.of].attrs.kind as string;
    return ['relu', 'relu6', 'sigmoid', 'hardsigmoid'].includes(k);
  }

  globalAveragePool(): void {
    this.onlyAttrs();
    const id = this.layerInput(0);
    this.spatial(id);
    this.emitLayer({ kind: 'gap' }, [id]);
  }

  globalMaxPool(): void {
    this.onlyAttrs();
    const id = this.layerInput(0);
    const [, h, w] = this.spatial(id);
    this.emitLayer({ kind: 'maxpool', kernel: [h, w], stride: [h, w], padding: [0, 0], ceil: false }, [id]);
  }

  reduceMean(): void {
    this.onlyAttrs('axes', 'keepdims', 'noop_with_empty_axes');
    const v = this.input(0);
    const raw = this.hasInput(1) ? this.numbers(this.constInput(1, 'axes'), 'axes') : this.intList('axes') ?? [];
    // A mean over the last axis of a channels-last or flat tensor starts (or, of the squares, goes on with) a layer norm.
    const src = v.t === 'nhwc' ? { of: v.of, nhwc: true } : v.t === 'layer' && this.layers[v.id].shape.length === 1 ? { of: v.id, nhwc: false } : v.t === 'lnf' && v.stage === 'squared' ? { of: v.of, nhwc: v.nhwc } : undefined;
    if (src && raw.length === 1 && this.int('keepdims', 1) === 1) {
      const rank = src.nhwc ? 4 : 2;
      if ((raw[0] < 0 ? raw[0] + rank : raw[0]) === rank - 1) {
        this.setOutput({ t: 'lnf', of: src.of, nhwc: src.nhwc, stage: v.t === 'lnf' ? 'variance' : 'mean', origin: this.origin, module: modulePath(this.node.name, this.node.op) });
        return;
      }
    }
    const id = this.layerInput(0);
    const s = this.spatial(id);
    const axes = raw.map((a) => (a < 0 ? a + 4 : a)).sort();
    if (!pairEq(axes, [2, 3])) this.fail(`a mean over axes [${axes.join(', ')}] of [N, ${s.join(', ')}]; only the spatial mean (axes 2 and 3) is a layer (gap)`);
    const gap = this.addLayer({ kind: 'gap' }, [id]);
    if (this.int('keepdims', 1) === 1) this.setOutput({ t: 'layer', id: gap });
    else this.setOutput({ t: 'layer', id: this.addLayer({ kind: 'flatten' }, [gap]) });
  }

  lrn(): void {
    this.onlyAttrs('size', 'alpha', 'beta', 'bias');
    const size = this.int('size', 0);
    if (size % 2 === 0) this.fail(`an LRN of even size ${size} centres its window one channel away from PyTorch's; only odd sizes are supported`);
    this.emitLayer({ kind: 'lrn', size, alpha: this.float('alpha', 1e-4), beta: this.float('beta', 0.75), k: this.float('bias', 1) }, [this.layerInput(0)]);
  }

  dropout(): void {
    this.onlyAttrs('ratio', 'is_test', 'seed');
    this.unusedOutputs(1, 'mask');
    const id = this.layerInput(0);
    let p = this.float('ratio', 0.5);
    if (this.hasInput(1)) p = this.floats(this.constInput(1, 'ratio'))[0];
    if (this.hasInput(2) && this.floats(this.constInput(2, 'training_mode'))[0] !== 0) this.fail('training_mode is true: dropout at inference is not supported');
    if (!(p >= 0 && p < 1)) this.fail(`ratio ${p} is not in [0, 1)`);
    this.emitLayer({ kind: 'dropout', p }, [id]);
  }

  flatten(): void {
    this.onlyAttrs('axis');
    const axis = this.int('axis', 1);
    const id = this.layerInput(0);
    if (axis !== 1) this.fail(`Flatten at axis ${axis} merges the batch or keeps more than it; only axis 1 is a layer (flatten)`);
    this.flattenOf(id);
  }

  private flattenOf(id: number): void {
    if (this.layers[id].shape.length === 1) this.setOutput({ t: 'layer', id });
    else this.emitLayer({ kind: 'flatten' }, [id]);
  }

  reshape(): void {
    this.onlyAttrs('allowzero');
    const v = this.input(0);
    const target = this.ints(this.constInput(1, 'shape'));
    if (v.t === 'const') {
      this.setOutput({ ...v, dims: this.reshapeDims(v.dims, target) });
      return;
    }
    if (v.t === 'rows') return this.unrows(v, target);
    if (v.t === 'swapped' || v.t === 'gnormed') return this.reshapeBack(v, target);
    const id = this.layerInput(0);
    const s = this.layers[id].shape;
    const numel = s.reduce((a, d) => a * d, 1);
    const batchLike = (d: number | 'N', rest: number): boolean => d === BATCH || (d === 0 && this.int('allowzero', 0) === 0) || (d === -1 && rest > 0 && numel % rest === 0) || d === this.fixedBatch();
    if (target.length === 2 && batchLike(target[0], target[1] === -1 ? 0 : (target[1] as number)) && (target[1] === -1 || target[1] === numel) && target[0] !== target[1]) {
      return this.flattenOf(id);
    }
    const batch0 = target[0] === BATCH || target[0] === 0 || target[0] === this.fixedBatch();
    if (s.length === 3 && target.length === 5 && batch0 && pairEq(target.slice(3) as number[], [s[1], s[2]]) && typeof target[1] === 'number' && target[1] > 0 && s[0] % target[1] === 0 && (target[2] === s[0] / target[1] || target[2] === -1)) {
      // ShuffleNet's channel shuffle starts with [N, g, C/g, H, W].
      this.setOutput({ t: 'split', of: id, groups: target[1] });
      return;
    }
    if (target.length === 3 && batch0 && typeof target[1] === 'number' && target[1] > 0 && s[0] % target[1] === 0 && (target[2] === -1 || target[2] === numel / target[1])) {
      // GroupNorm as exported: the groups as the instances of an InstanceNormalization.
      this.setOutput({ t: 'grouped', of: id, groups: target[1] });
      return;
    }
    if (s.length === 3 && target.length === 2 && target[0] === -1 && target[1] === s[1] * s[2]) {
      // Our exporter's uneven adaptive pooling starts with rows of H*W: [N*C, H*W].
      this.setOutput({ t: 'rows', of: id });
      return;
    }
    const rest = target.slice(1);
    if (target.length === s.length + 1 && batchLike(target[0], numel) && rest.every((d, i) => d === s[i] || (d === 0 && this.int('allowzero', 0) === 0))) {
      this.setOutput({ t: 'layer', id });
      return;
    }
    this.fail(`a Reshape of [N, ${s.join(', ')}] to [${target.join(', ')}] is not expressible; only a flatten to [N, -1] is`);
  }

  /** Back to [N, C, H, W] after a shuffle's transpose or a group norm's instance normalisation. */
  private reshapeBack(v: Extract<PatternValue, { t: 'swapped' } | { t: 'gnormed' }>, target: (number | 'N')[]): void {
    const s = this.layers[v.of].shape;
    const numel = s.reduce((a, d) => a * d, 1);
    const batch0 = target[0] === BATCH || target[0] === 0 || target[0] === this.fixedBatch() || (target[0] === -1 && target.slice(1).every((d) => typeof d === 'number' && d > 0));
    const rest = target.slice(1);
    const same = rest.length === s.length && rest.every((d, i) => d === s[i] || (d === -1 && rest.filter((x) => x === -1).length === 1 && numel % (rest as number[]).filter((x) => x !== -1).reduce((a, x) => a * x, 1) === 0));
    if (!batch0 || !same) this.fail(`a Reshape to [${target.join(', ')}] does not give back the [N, ${s.join(', ')}] of the ${v.t === 'swapped' ? 'channel shuffle' : 'group norm'} it ends`);
    if (v.t === 'swapped') this.emitLayer({ kind: 'shuffle', groups: v.groups }, [v.of]);
    else this.setOutput({ t: 'gn', of: v.of, groups: v.groups, eps: v.eps, origin: this.origin, module: modulePath(this.node.name, this.node.op) });
  }

  transpose(): void {
    this.onlyAttrs('perm');
    const v = this.input(0);
    const perm = this.intList('perm') ?? [];
    const is = (...p: number[]) => pairEq(perm, p);
    if ((v.t === 'layer' || v.t === 'expr' || v.t === 'gn') && is(0, 2, 3, 1)) {
      const id = this.layerInput(0);
      if (this.layers[id].shape.length === 3) return this.setOutput({ t: 'nhwc', of: id });
    }
    const cl = this.nhwcOf(v);
    if (cl !== undefined && is(0, 3, 1, 2)) return this.setOutput({ t: 'layer', id: cl });
    if (v.t === 'split' && is(0, 2, 1, 3, 4)) return this.setOutput({ t: 'swapped', of: v.of, groups: v.groups });
    this.fail(`a Transpose with perm [${perm.join(', ')}] of ${v.t === 'nhwc' ? 'a channels-last tensor' : 'this tensor'} is not expressible; only the turn to channels-last and back (around layer norms, pointwise linears and element-wise formulas) and ShuffleNet's channel shuffle are`);
  }

  layerNormalization(): void {
    this.onlyAttrs('axis', 'epsilon', 'stash_type');
    this.unusedOutputs(1, 'mean and inverse deviation');
    const v = this.input(0);
    const of = v.t === 'nhwc' ? v.of : this.layerInput(0);
    const s = this.layers[of].shape;
    const rank = v.t === 'nhwc' ? 4 : s.length + 1;
    let axis = this.int('axis', -1);
    if (axis < 0) axis += rank;
    if (axis !== rank - 1 || (v.t !== 'nhwc' && s.length !== 1)) this.fail(`a layer norm over axes ${axis} to ${rank - 1} of ${v.t === 'nhwc' ? 'a channels-last' : 'an'} [N, ${s.join(', ')}] tensor; the language normalises the channels at each position (or a flat tensor's features)`);
    const c = s[0];
    const tensors: ImportLayer['tensors'] = { weight: this.perChannel(this.constInput(1, 'Scale'), c, 'Scale') };
    tensors.bias = this.hasInput(2) ? this.perChannel(this.constInput(2, 'bias'), c, 'bias') : { data: new Float32Array(c), shape: [c] };
    const eps = this.float('epsilon', 1e-5);
    if (v.t === 'nhwc') this.setOutput({ t: 'nhwc', of: this.addLayer({ kind: 'layernorm', eps }, [of], tensors) });
    else this.emitLayer({ kind: 'layernorm', eps }, [of], tensors);
  }

  instanceNormalization(): void {
    this.onlyAttrs('epsilon');
    const v = this.input(0);
    if (v.t !== 'grouped') this.fail('an instance norm is expressible only as a group norm (after a Reshape to [N, groups, -1])');
    const ones = this.floats(this.constInput(1, 'Scale'));
    const zeros = this.floats(this.constInput(2, 'bias'));
    if (ones.some((x) => x !== 1) || zeros.some((x) => x !== 0)) this.fail("a group norm's instance normalisation must have scale 1 and bias 0 (the affine comes after it)");
    this.setOutput({ t: 'gnormed', of: v.of, groups: v.groups, eps: this.float('epsilon', 1e-5) });
  }

  /** Slice of a shape (constants), or of a tensor's channels: a `slice` layer. */
  sliceLayer(): void {
    const v = this.input(0);
    if (v.t === 'const') return this.slice();
    this.onlyAttrs('starts', 'ends', 'axes');
    const id = this.layerInput(0);
    const s = this.layers[id].shape;
    const get = (i: number, attr: string) => (this.model.opset >= 10 ? (this.hasInput(i) ? this.numbers(this.constInput(i, attr), attr) : undefined) : this.intList(attr));
    const starts = get(1, 'starts') ?? [];
    const ends = get(2, 'ends') ?? [];
    const axes = (get(3, 'axes') ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + s.length + 1 : a));
    const steps = (this.model.opset >= 10 ? get(4, 'steps') : undefined) ?? starts.map(() => 1);
    if (starts.length !== 1 || axes[0] !== 1 || steps[0] !== 1) this.fail(`a Slice along axes [${axes.join(', ')}] (steps [${steps.join(', ')}]); the language slices channels (axis 1) with step 1`);
    this.channelSlice(id, starts[0], ends[0]);
  }

  private channelSlice(id: number, from: number, to: number): void {
    const c = this.layers[id].shape[0];
    const clamp = (x: number) => Math.min(c, Math.max(0, x < 0 ? x + c : x));
    const start = clamp(from);
    const end = clamp(to);
    if (end <= start) this.fail(`the slice [${from}, ${to}) of ${c} channels is empty`);
    this.emitLayer({ kind: 'slice', start, end: end === c ? null : end }, [id]);
  }

  split(): void {
    this.onlyAttrs('axis', 'split', 'num_outputs');
    const id = this.layerInput(0);
    const s = this.layers[id].shape;
    let axis = this.int('axis', 0);
    if (axis < 0) axis += s.length + 1;
    if (axis !== 1) this.fail(`a Split along axis ${axis}; the language splits channels (axis 1)`);
    const n = this.node.outputs.length;
    const sizes = this.hasInput(1) ? this.numbers(this.constInput(1, 'split'), 'split') : this.intList('split') ?? (s[0] % n === 0 ? new Array(n).fill(s[0] / n) : undefined);
    if (!sizes || sizes.length !== n || sizes.reduce((a, x) => a + x, 0) !== s[0]) this.fail(`the split sizes do not add up to the ${s[0]} channels`);
    let at = 0;
    sizes.forEach((size, i) => {
      const name = this.node.outputs[i];
      if (name && (this.consumers.get(name) ?? 0) > 0) {
        const slice = this.addLayer({ kind: 'slice', start: at, end: at + size === s[0] ? null : at + size }, [id]);
        this.values.set(name, { t: 'layer', id: slice });
      }
      at += size;
    });
  }

  /** The batch size fixed in the graph's input, when it is a number. */
  private fixedBatch(): number | undefined {
    const d = this.model.graph.inputs.find((i) => !this.model.graph.initializers.has(i.name))?.dims?.[0];
    return typeof d === 'number' ? d : undefined;
  }

  private unrows(v: RowsValue, target: (number | 'N')[]): void {
    const [c, h, w] = this.layers[v.of].shape;
    if (!v.matrix || target.length !== 4 || target[1] !== c) this.fail(`a Reshape of merged batch and channel rows to [${target.join(', ')}] is not expressible`);
    const [oh, ow] = [target[2] as number, target[3] as number];
    const { data, dims } = v.matrix;
    if (!pairEq(dims, [h * w, oh * ow])) this.fail(`the matrix [${dims.join(', ')}] before it is not an adaptive pooling of ${h}x${w} to ${oh}x${ow}`);
    // The matrix must be PyTorch's adaptive average pooling: bin (i, j) averages rows floor(i*H/oh) to ceil((i+1)*H/oh).
    const rows = adaptiveWindows(h, oh);
    const cols = adaptiveWindows(w, ow);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) {
            const inside = y >= rows[i].start && y < rows[i].end && x >= cols[j].start && x < cols[j].end;
            const expect = inside ? 1 / ((rows[i].end - rows[i].start) * (cols[j].end - cols[j].start)) : 0;
            if (Math.abs(data[(y * w + x) * oh * ow + i * ow + j] - expect) > 1e-6) this.fail(`the matrix before it is not PyTorch's adaptive average pooling of ${h}x${w} to ${oh}x${ow}`);
          }
    const id = this.addLayer({ kind: 'adaptiveavgpool', size: [oh, ow] }, [v.of]);
    this.setOutput({ t: 'layer', id });
  }

  private reshapeDims(dims: number[], target: (number | 'N')[]): number[] {
    const n = dims.reduce((a, d) => a * d, 1);
    const out = target.map((d, i) => (d === 0 ? dims[i] : d));
    if (out.some((d) => d === BATCH)) this.fail('a constant reshaped by the batch size');
    const known = (out as number[]).filter((d) => d !== -1).reduce((a, d) => a * d, 1);
    return (out as number[]).map((d) => (d === -1 ? n / known : d));
  }

  squeeze(): void {
    this.onlyAttrs('axes');
    const v = this.input(0);
    const axes = this.hasInput(1) ? this.numbers(this.constInput(1, 'axes'), 'axes') : this.intList('axes');
    if (v.t === 'const') {
      const keep = v.dims.map((d, i) => (axes ? !axes.map((a) => (a < 0 ? a + v.dims.length : a)).includes(i) : d !== 1));
      this.setOutput({ ...v, dims: v.dims.filter((_, i) => keep[i]) });
      return;
    }
    const id = this.layerInput(0);
    const s = this.layers[id].shape;
    const norm = (axes ?? [2, 3]).map((a) => (a < 0 ? a + s.length + 1 : a)).sort();
    if (s.length === 3 && s[1] === 1 && s[2] === 1 && pairEq(norm, [2, 3])) return this.flattenOf(id);
    this.fail(`a Squeeze of [N, ${s.join(', ')}] at axes [${norm.join(', ')}] is not expressible; only [N, C, 1, 1] to [N, C] is (a flatten)`);
  }

  unsqueeze(): void {
    this.onlyAttrs('axes');
    const v = this.input(0);
    if (v.t !== 'const') this.fail('an Unsqueeze of a tensor of the batch is not expressible');
    const axes = this.hasInput(1) ? this.numbers(this.constInput(1, 'axes'), 'axes') : this.intList('axes') ?? [];
    const dims = [...v.dims];
    const rank = dims.length + axes.length;
    for (const a of axes.map((x) => (x < 0 ? x + rank : x)).sort((p, q) => p - q)) dims.splice(a, 0, 1);
    this.setOutput({ ...v, dims });
  }

  shape(): void {
    this.onlyAttrs('start', 'end');
    const v = this.input(0);
    let dims: (number | 'N')[];
    if (v.t === 'const') dims = v.dims;
    else if (v.t === 'layer') dims = [BATCH, ...this.layers[v.id].shape];
    else this.fail('the shape of this value is not known');
    const r = dims.length;
    const clamp = (x: number) => Math.min(r, Math.max(0, x < 0 ? x + r : x));
    dims = dims.slice(clamp(this.int('start', 0)), clamp(this.int('end', r)));
    this.setOutput({ t: 'const', dims: [dims.length], dataType: DT.INT64, name: this.node.outputs[0], ints: dims });
  }

  gather(): void {
    this.onlyAttrs('axis');
    const data = this.input(0);
    if (data.t !== 'const') this.fail('a Gather from a tensor of the batch is not expressible');
    if (this.int('axis', 0) !== 0 || data.dims.length !== 1) this.fail('only a Gather of entries from a shape is supported');
    const idx = this.constInput(1, 'indices');
    const values = this.ints(data);
    const picked = this.numbers(idx, 'indices').map((i) => values[i < 0 ? i + values.length : i]);
    if (picked.some((p) => p === undefined)) this.fail('an index is out of range');
    this.setOutput({ t: 'const', dims: idx.dims, dataType: data.dataType, name: this.node.outputs[0], ints: picked });
  }

  concat(): void {
    this.onlyAttrs('axis');
    const vals = this.node.inputs.map((_, i) => this.input(i));
    if (vals.every((v) => v.t === 'const')) {
      const consts = vals as Const[];
      if (consts.some((c) => c.dims.length !== 1)) this.fail('only a Concat of 1-D constants (shapes) is supported');
      const ints = consts.flatMap((c) => this.ints(c));
      this.setOutput({ t: 'const', dims: [ints.length], dataType: DT.INT64, name: this.node.outputs[0], ints });
      return;
    }
    const ids = vals.map((_, i) => this.layerInput(i));
    const rank = this.layers[ids[0]].shape.length + 1;
    let axis = this.int('axis', 1);
    if (axis < 0) axis += rank;
    if (axis !== 1) this.fail(`a concatenation along axis ${axis}; the language concatenates channels (axis 1)`);
    if (ids.length === 1) {
      this.setOutput({ t: 'layer', id: ids[0] });
      return;
    }
    this.emitLayer({ kind: 'concat' }, ids);
  }

  /** Add, Sub, Mul, Div: of two tensors (merges and patterns), or of constants (shape arithmetic). */
  binary(op: 'Add' | 'Sub' | 'Mul' | 'Div'): void {
    this.onlyAttrs();
    const a = this.input(0);
    const b = this.input(1);
    if (a.t === 'const' && b.t === 'const') return this.foldBinary(op, a, b);
    const c = (a.t === 'const' ? a : b.t === 'const' ? b : undefined) as Const | undefined;
    const other = c === a ? b : a;
    if (c?.tensor) this.used.add(c.name);
    if (this.lnFormula(op, a, b)) return;
    if (this.formula(op, a, b)) return;
    if (op === 'Add' && !c) return this.emitLayer({ kind: 'add' }, [this.layerInput(0), this.layerInput(1)]);
    if (op === 'Add' && c && other.t === 'gn' && other.weight && other.made === undefined) {
      this.setOutput({ t: 'layer', id: this.groupNormLayer(other, this.perChannel(c, this.layers[other.of].shape[0], 'bias')) });
      return;
    }
    if (op === 'Add' && c) return this.biasAdd(this.input(c === a ? 1 : 0), c);
    if (op === 'Mul' && c && other.t === 'gn' && !other.weight && other.made === undefined) {
      this.setOutput({ ...other, weight: this.perChannel(c, this.layers[other.of].shape[0], 'weight') });
      return;
    }
    if (op === 'Mul' && c) return this.scaleBy(this.layerInput(c === a ? 1 : 0), c);
    if (op === 'Mul') return this.mul(this.layerInput(0), this.layerInput(1));
    this.fail(`${op} of ${a.t === 'const' ? 'a constant' : 'a tensor'} and ${b.t === 'const' ? 'a constant' : 'a tensor'} is not expressible`);
  }


  // ---- element-wise formulas ----------------------------------------------------------------

  /** A value as a term of a formula of layer `of` (channels-last when `nhwc`): the layer itself, a formula of it, or a scalar constant. */
  private term(v: Value, of: number | undefined, nhwc = false): Expr | undefined {
    if (v.t === 'const') {
      if (v.dims.reduce((x, d) => x * d, 1) !== 1 || v.dataType === DT.STRING) return undefined;
      const f = this.floats(v)[0];
      if (v.tensor) this.used.add(v.name);
      return { op: 'c', v: f };
    }
    const base = baseOf(v);
    if (base) return base.nhwc === nhwc && (of === undefined || base.of === of) ? { op: 'x' } : undefined;
    if (v.t === 'expr' && v.made === undefined) return v.nhwc === nhwc && (of === undefined || v.of === of) ? v.e : undefined;
    return undefined;
  }

  /**
   * Extends or starts a formula: an operation on a formula, a layer times itself, a layer divided
   * by or to the power of a scalar, and a layer times a scalar (a scale until it goes on); of a
   * layer's output as it is, or channels-last.
   */
  private formula(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow', a: Value, b: Value): boolean {
    const ea = a.t === 'expr' && a.made === undefined ? a : undefined;
    const eb = b.t === 'expr' && b.made === undefined ? b : undefined;
    const ba = baseOf(a);
    const bb = baseOf(b);
    let x: { of: number; nhwc: boolean };
    if (ea ?? eb) x = { of: (ea ?? eb)!.of, nhwc: (ea ?? eb)!.nhwc };
    else if (ba && bb && ba.of === bb.of && ba.nhwc === bb.nhwc && op === 'Mul') x = ba;
    else if (ba && b.t === 'const' && (op === 'Div' || op === 'Pow' || op === 'Mul' || op === 'Sub') && this.term(b, undefined)) x = ba;
    else if (bb && a.t === 'const' && op === 'Mul' && this.term(a, undefined)) x = bb;
    else return false;
    const ta = this.term(a, x.of, x.nhwc);
    const tb = this.term(b, x.of, x.nhwc);
    if (!ta || !tb) return false;
    const e: Expr = { op: op.toLowerCase() as 'add', a: ta, b: tb };
    this.setOutput({ t: 'expr', of: x.of, nhwc: x.nhwc, e, origin: this.origin, module: modulePath(this.node.name, this.node.op) });
    return true;
  }

  /** Erf and Tanh of a formula (or of a layer) go on with it; Tanh of a layer as it is is the tanh layer. */
  unaryFormula(op: 'Erf' | 'Tanh'): void {
    this.onlyAttrs();
    const v = this.input(0);
    if (v.t === 'expr' && v.made === undefined) {
      this.setOutput({ ...v, made: undefined, e: { op, a: v.e }, origin: this.origin, module: modulePath(this.node.name, this.node.op) });
      return;
    }
    const cl = v.t === 'nhwc' ? v.of : undefined;
    if (op === 'Tanh' && cl === undefined) return this.activation(activationKind(op)!);
    const id = cl ?? this.layerInput(0);
    this.setOutput({ t: 'expr', of: id, nhwc: cl !== undefined, e: { op, a: { op: 'x' } }, origin: this.origin, module: modulePath(this.node.name, this.node.op) });
  }

  // ---- layer norms written out --------------------------------------------------------------

  /** The next step of a layer norm's formula, when `a` and `b` are one; false when they are not. */
  private lnFormula(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: Value, b: Value): boolean {
    const at = (stage: LnStage, v: Value): v is Extract<PatternValue, { t: 'lnf' }> => v.t === 'lnf' && v.stage === stage && v.made === undefined;
    const next = (from: Extract<PatternValue, { t: 'lnf' }>, stage: LnStage, extra: Partial<Extract<PatternValue, { t: 'lnf' }>> = {}) => {
      this.setOutput({ ...from, ...extra, stage, origin: this.origin, module: from.module });
      return true;
    };
    const c = a.t === 'const' ? a : b.t === 'const' ? b : undefined;
    const other = c === a ? b : a;
    const base = baseOf(a);
    if (op === 'Sub' && at('mean', b) && base && base.of === b.of && base.nhwc === b.nhwc) return next(b, 'centred');
    if (op === 'Add' && c && at('variance', other)) {
      const t = this.term(c, undefined);
      if (t?.op !== 'c') this.fail(`the epsilon '${c.name}' of a layer norm must be one value`);
      return next(other, 'shifted', { eps: t.v });
    }
    if (op === 'Div' && at('centred', a) && at('deviation', b) && a.of === b.of) return next(b, 'normalised');
    if (op === 'Mul' && c && at('normalised', other)) return next(other, 'scaled', { weight: this.perChannel(c, this.layers[other.of].shape[0], 'weight') });
    if (op === 'Add' && c && at('scaled', other)) {
      const id = this.lnLayer(other, this.perChannel(c, this.layers[other.of].shape[0], 'bias'));
      this.setOutput(other.nhwc ? { t: 'nhwc', of: id } : { t: 'layer', id });
      return true;
    }
    if (a.t === 'lnf' || b.t === 'lnf') this.fail(`${op} of a layer norm's ${((a.t === 'lnf' ? a : b) as { stage: string }).stage} value is not the next step of a layer norm (mean, centre, square, mean, add eps, sqrt, divide, weight, bias)`);
    return false;
  }

  /** A layer norm from its formula: the weight and bias it has (ones and zeros where it has none). */
  private lnLayer(v: Extract<PatternValue, { t: 'lnf' }>, bias?: ImportTensor): number {
    if (v.made !== undefined) return v.made;
    const c = this.layers[v.of].shape[0];
    const origin = this.origin;
    this.origin = v.origin;
    const id = this.addLayer({ kind: 'layernorm', eps: v.eps ?? 1e-5 }, [v.of], { weight: v.weight ?? { data: new Float32Array(c).fill(1), shape: [c] }, bias: bias ?? { data: new Float32Array(c), shape: [c] } });
    this.layers[id].module = v.module;
    this.origin = origin;
    v.made = id;
    return id;
  }

  sqrt(): void {
    this.onlyAttrs();
    const v = this.input(0);
    if (v.t !== 'lnf' || v.stage !== 'shifted') this.fail("a Sqrt is expressible only as the deviation of a layer norm's formula (of its variance plus eps)");
    this.setOutput({ ...v, stage: 'deviation', origin: this.origin });
  }

  pow(): void {
    this.onlyAttrs();
    const a = this.input(0);
    const b = this.input(1);
    if (a.t === 'const' && b.t === 'const') this.fail('a Pow of constants is not supported');
    if (a.t === 'lnf' && a.stage === 'centred' && b.t === 'const' && this.term(b, undefined)?.op === 'c' && (this.term(b, undefined) as { v: number }).v === 2) {
      this.setOutput({ ...a, stage: 'squared', origin: this.origin });
      return;
    }
    if (!this.formula('Pow', a, b)) this.fail('only a power of a tensor to a scalar constant, inside an element-wise formula (GELU), is supported');
  }

  /** A formula read by something else: the layer it computes. */
  private exprLayer(v: ExprValue): number {
    if (v.made !== undefined) return v.made;
    const origin = this.origin;
    this.origin = v.origin;
    const attrs = recognise(v.e);
    if (!attrs) this.fail(`the element-wise formula ${exprText(v.e)} of the tensor before it is not a layer (gelu, its tanh form and a product with a constant are)`);
    let id: number;
    if (attrs === 'same') id = v.of;
    else if (typeof attrs === 'number') {
      const s = this.layers[v.of].shape;
      const shape = s.length === 3 ? [s[0], 1, 1] : [s[0]];
      id = this.addLayer({ kind: SCALE, init: 1 }, [v.of], { weight: { data: new Float32Array(s[0]).fill(attrs), shape } });
    } else id = this.addLayer(attrs, [v.of]);
    if (id !== v.of) this.layers[id].module = v.module;
    this.origin = origin;
    v.made = id;
    return id;
  }

  // ---- resampling ---------------------------------------------------------------------------

  /** Resize (opset 10 and later) and Upsample: PyTorch's nearest (asymmetric, floor) or bilinear. */
  resize(): void {
    this.onlyAttrs('mode', 'coordinate_transformation_mode', 'nearest_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'scales', 'antialias', 'keep_aspect_ratio_policy', 'axes');
    const id = this.layerInput(0);
    const [c, h, w] = this.spatial(id);
    const mode = this.str('mode', 'nearest');
    const ctm = this.str('coordinate_transformation_mode', this.node.op === 'Upsample' || this.model.opset < 11 ? 'asymmetric' : 'half_pixel');
    if (this.int('antialias', 0) !== 0) this.fail('antialiased resizing is not expressible');
    if (this.attr('axes')) this.fail('a Resize with axes is not supported');
    // Opset 10 and Upsample: (X, scales); 11 and later: (X, roi, scales, sizes).
    const legacy = this.node.op === 'Upsample' || this.model.opset < 11;
    let scales: number[] | undefined;
    let sizes: number[] | undefined;
    if (legacy) scales = this.attr('scales')?.floats ?? (this.hasInput(1) ? Array.from(this.floats(this.constInput(1, 'scales'))) : undefined);
    else {
      if (this.hasInput(2)) {
        const sc = this.constInput(2, 'scales');
        if (sc.dims.reduce((a, d) => a * d, 1) > 0) scales = Array.from(this.floats(sc));
      }
      if (this.hasInput(3)) sizes = this.ints(this.constInput(3, 'sizes')).map((d, i) => (d === BATCH ? (i === 0 ? -1 : NaN) : d)) as number[];
    }
    let factor: Pair | null = null;
    let size: Pair | null = null;
    if (sizes) {
      if (sizes.length !== 4 || sizes[1] !== c) this.fail(`sizes [${sizes.join(', ')}] do not keep the batch and the ${c} channels`);
      size = [sizes[2], sizes[3]];
      if (size[0] % h === 0 && size[1] % w === 0) factor = [size[0] / h, size[1] / w];
    } else if (scales) {
      if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) this.fail(`scales [${scales.join(', ')}] resize the batch or the channels`);
      if (!Number.isInteger(scales[2]) || !Number.isInteger(scales[3]) || scales[2] < 1 || scales[3] < 1) this.fail(`scales ${scales[2]}x${scales[3]} are not whole factors; the language's upsample takes integer factors or a size`);
      factor = [scales[2], scales[3]];
    } else this.fail('it has neither scales nor sizes');
    let attrs: LayerAttrs;
    if (mode === 'nearest') {
      const nearest = this.str('nearest_mode', 'round_prefer_floor');
      if (ctm !== 'asymmetric' || (nearest !== 'floor' && !legacy)) this.fail(`nearest resizing with coordinate_transformation_mode '${ctm}' and nearest_mode '${nearest}' is not PyTorch's (asymmetric, floor)`);
      // By a factor, PyTorch's floor(o / f) is exact; to a size that is not a multiple, onnxruntime may differ by a pixel (docs/import.md).
      attrs = { kind: 'upsample', mode: 'nearest', scale: factor, size: factor ? null : size, alignCorners: false };
    } else if (mode === 'linear' || mode === 'bilinear') {
      if (!['half_pixel', 'pytorch_half_pixel', 'align_corners'].includes(ctm)) this.fail(`linear resizing with coordinate_transformation_mode '${ctm}' is not PyTorch's (half_pixel or align_corners)`);
      const alignCorners = ctm === 'align_corners';
      attrs = { kind: 'upsample', mode: 'bilinear', scale: sizes ? null : factor, size: sizes ? size : null, alignCorners };
    } else this.fail(`'${mode}' resizing is not expressible; the language's upsample is nearest or bilinear`);
    this.emitLayer(attrs, [id]);
  }

  convTranspose(): void {
    this.onlyAttrs('kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad', 'output_padding');
    if (this.attr('output_shape')) this.fail('output_shape is not supported; export with pads and output_padding');
    const id = this.layerInput(0);
    const x = this.spatial(id);
    const w = this.constInput(1, 'weight');
    if (w.dims.length !== 4) this.fail(`weight '${w.name}' has ${w.dims.length} dimensions; only 2-D transposed convolutions are supported`);
    const kernel: Pair = this.pair('kernel_shape', [w.dims[2], w.dims[3]]);
    if (!pairEq(kernel, [w.dims[2], w.dims[3]])) this.fail(`kernel_shape [${kernel.join(', ')}] differs from the weight's [${w.dims.slice(2).join(', ')}]`);
    const stride = this.pair('strides', [1, 1]);
    const dilation = this.pair('dilations', [1, 1]);
    const groups = this.int('group', 1);
    const autoPad = this.str('auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') this.fail(`auto_pad '${autoPad}' is not supported on a transposed convolution`);
    const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : this.intList('pads') ?? [0, 0, 0, 0];
    if (pads.length !== 4) this.fail(`pads [${pads.join(', ')}] are not those of a 2-D window`);
    const op0 = this.pair('output_padding', [0, 0]);
    // Less padding at the end is more output padding: the output is (H-1)S + D(K-1) + 1 - begin - end + op.
    const outputPadding: Pair = [op0[0] + pads[0] - pads[2], op0[1] + pads[1] - pads[3]];
    if (outputPadding.some((p) => p < 0)) this.fail(`the padding [top ${pads[0]}, left ${pads[1]}, bottom ${pads[2]}, right ${pads[3]}] cuts more at the end than at the start, which the language cannot express`);
    if (x[0] !== w.dims[0]) this.fail(`weight '${w.name}' [${w.dims.join(', ')}] takes ${w.dims[0]} input channels, and the input has ${x[0]}`);
    const out = w.dims[1] * groups;
    const tensors: ImportLayer['tensors'] = { weight: this.weight(w, w.dims) };
    if (this.hasInput(2)) {
      const b = this.constInput(2, 'bias');
      if (b.dims.reduce((a, d) => a * d, 1) !== out) this.fail(`bias '${b.name}' has ${b.dims.join('x')} values; the transposed convolution has ${out} outputs`);
      tensors.bias = this.weight(b, [out]);
    }
    this.emitLayer({ kind: 'convtranspose', out, kernel, stride, padding: [pads[0], pads[1]], outputPadding, dilation, groups, bias: !!tensors.bias }, [id], tensors);
  }

  gelu(): void {
    this.onlyAttrs('approximate');
    const approximate = this.str('approximate', 'none');
    if (!GELU_FORMS.includes(approximate)) this.fail(`approximate '${approximate}' is not one of ${GELU_FORMS.join(', ')}`);
    this.emitLayer({ kind: 'gelu', approximate: approximate as GeluAttrs['approximate'] }, [this.layerInput(0)]);
  }

  private foldBinary(op: string, a: Const, b: Const): void {
    const x = this.ints(a);
    const y = this.ints(b);
    const n = Math.max(x.length, y.length);
    if (!(x.length === n || x.length === 1) || !(y.length === n || y.length === 1)) this.fail('constants of different sizes');
    const intType = a.dataType === DT.INT64 || a.dataType === DT.INT32;
    const out: (number | 'N')[] = [];
    for (let i = 0; i < n; i++) {
      const p = x[x.length === 1 ? 0 : i];
      const q = y[y.length === 1 ? 0 : i];
      if (p === BATCH || q === BATCH) {
        if ((op === 'Mul' || op === 'Div') && q === 1) out.push(p);
        else if (op === 'Mul' && p === 1) out.push(q);
        else this.fail('arithmetic on the batch size is not supported');
        continue;
      }
      const v = op === 'Add' ? p + q : op === 'Sub' ? p - q : op === 'Mul' ? p * q : intType ? Math.trunc(p / q) : p / q;
      out.push(v);
    }
    const dims = x.length >= y.length ? a.dims : b.dims;
    this.setOutput({ t: 'const', dims, dataType: a.dataType, name: this.node.outputs[0], ints: intType ? out : undefined, floats: intType ? undefined : Float32Array.from(out as number[]) });
  }

  /** A constant of one value per channel ([C], [C, 1, 1], [1, C, 1, 1]) as a [C] tensor. */
  private perChannel(c: Const, channels: number, what: string): ImportTensor {
    const count = c.dims.reduce((x, d) => x * d, 1);
    const lead = c.dims.slice(0, c.dims.length - (c.dims.length >= 3 ? 2 : 0));
    if (count !== channels || (c.dims.length >= 3 && c.dims.slice(-2).some((d) => d !== 1)) || lead.filter((d) => d !== 1).length > 1) {
      this.fail(`its ${what} '${c.name}' [${c.dims.join(', ')}] is not one value per channel (${channels})`);
    }
    return this.weight(c, [channels], c.dims.length === 1);
  }

  /** A tensor times a constant per channel (or one for all): a scale layer. */
  private scaleBy(id: number, c: Const): void {
    const s = this.layers[id].shape;
    const channels = s[0];
    const count = c.dims.reduce((x, d) => x * d, 1);
    const shape = s.length === 3 ? [channels, 1, 1] : [channels];
    let weight: ImportTensor;
    if (count === 1) {
      const v = this.floats(c)[0];
      if (v === 1) {
        this.setOutput({ t: 'layer', id });
        return;
      }
      this.weight(c, [1]);
      weight = { data: new Float32Array(channels).fill(v), shape };
    } else {
      // The values as they are (ConvNeXt's [C, 1, 1] layer_scale), under the initializer's name.
      weight = { ...this.perChannel(c, channels, 'factor'), shape };
      if (c.tensor) weight.source = c.name;
    }
    this.emitLayer({ kind: SCALE, init: 1 }, [id], { weight });
  }

  /** A tensor plus a constant: the bias of the convolution or linear layer before it. */
  private biasAdd(v: Value, c: Const): void {
    const cl = v.t === 'nhwc' ? v.of : undefined;
    if (v.t !== 'layer' && cl === undefined) this.fail('an Add of a constant to this value is not expressible');
    const id = v.t === 'layer' ? v.id : cl!;
    const l = this.layers[id];
    const out = l.shape[0];
    const count = c.dims.reduce((x, d) => x * d, 1);
    // Channels-last, a bias is one value per channel along the last axis.
    const broadcastsPerChannel =
      cl !== undefined ? count === out && c.dims.slice(0, -1).every((d) => d === 1) : l.shape.length === 3 ? count === out && c.dims.slice(-2).every((d) => d === 1) || (c.dims.length === 1 && count === 1) : count === out && c.dims.length <= 2;
    // conv, linear, convtranspose: the layers with a bias of their own.
    const fuses = 'bias' in l.attrs && !l.attrs.bias && this.consumersOfLayer(id) === 1;
    if (!fuses || !broadcastsPerChannel) this.fail(`an Add of the constant '${c.name}' [${c.dims.join(', ')}] is not expressible here (only as the bias of the convolution or linear layer just before it)`);
    this.used.add(c.name);
    l.tensors.bias = this.weight(c, [out], c.dims.length === 1);
    (l.attrs as { bias: boolean }).bias = true;
    this.setOutput(v);
  }

  /** How many nodes read the output of layer `id` (its value may have several names through Identity). */
  private consumersOfLayer(id: number): number {
    let n = 0;
    for (const [name, v] of this.values) if ((v.t === 'layer' && v.id === id) || (v.t === 'nhwc' && v.of === id)) n += this.consumers.get(name) ?? 0;
    return n;
  }

  /** `x * sigmoid(x)` is SiLU, `x * hardsigmoid(x)` hardswish; another product of two tensors is the `mul` merge (squeeze-and-excitation). */
  private mul(a: number, b: number): void {
    for (const [x, s] of [
      [a, b],
      [b, a],
    ]) {
      const sig = this.layers[s];
      if ((sig.attrs.kind === 'sigmoid' || sig.attrs.kind === 'hardsigmoid') && sig.inputs[0] === x && this.consumersOfLayer(s) === 1 && s === this.layers.length - 1) {
        // torch.onnx writes hardswish before opset 14 as x * HardSigmoid(x).
        sig.attrs = { kind: sig.attrs.kind === 'sigmoid' ? 'silu' : 'hardswish' };
        sig.origin = this.origin;
        sig.module = modulePath(this.node.name, this.node.op) || sig.module;
        this.setOutput({ t: 'layer', id: s });
        return;
      }
    }
    this.emitLayer({ kind: 'mul' }, [a, b]);
  }

  sum(): void {
    this.onlyAttrs();
    const ids = this.node.inputs.map((_, i) => this.layerInput(i));
    if (ids.length === 1) this.setOutput({ t: 'layer', id: ids[0] });
    else this.emitLayer({ kind: 'add' }, ids);
  }

  pad(): void {
    this.onlyAttrs('mode', 'pads', 'value');
    const mode = this.str('mode', 'constant');
    const id = this.layerInput(0);
    const s = this.spatial(id);
    let pads: number[];
    let value: number;
    if (this.model.opset >= 11) {
      pads = this.numbers(this.constInput(1, 'pads'), 'pads');
      value = this.hasInput(2) ? this.floats(this.constInput(2, 'constant_value'))[0] : 0;
      if (this.hasInput(3)) this.fail('a Pad with axes is not supported');
    } else {
      pads = this.intList('pads') ?? [];
      value = this.float('value', 0);
    }
    if (pads.length !== 8) this.fail(`pads [${pads.join(', ')}] are not those of a 4-D tensor`);
    if (pads.every((p) => p === 0)) {
      this.setOutput({ t: 'layer', id });
      return;
    }
    if (mode !== 'constant') this.fail(`'${mode}' padding is not expressible; the language pads with zeros`);
    if (pads[0] || pads[1] || pads[4] || pads[5]) this.fail('it pads the batch or the channels');
    if (pads.some((p) => p < 0)) this.fail('negative padding (cropping) is not expressible');
    void s;
    this.setOutput({ t: 'pad', of: id, pads: [pads[2], pads[3], pads[6], pads[7]], value, origin: this.origin });
  }

  constant(): void {
    const a = [...this.node.attrs.values()][0];
    if (!a || this.node.attrs.size !== 1) this.fail('a Constant needs exactly one value attribute');
    const name = this.node.outputs[0];
    let c: Const;
    if (a.name === 'value' && a.t) c = { t: 'const', dims: a.t.dims, dataType: a.t.dataType, name, tensor: a.t };
    else if (a.name === 'value_float') c = { t: 'const', dims: [], dataType: DT.FLOAT, name, floats: Float32Array.of(a.f ?? 0) };
    else if (a.name === 'value_floats') c = { t: 'const', dims: [a.floats.length], dataType: DT.FLOAT, name, floats: Float32Array.from(a.floats) };
    else if (a.name === 'value_int') c = { t: 'const', dims: [], dataType: DT.INT64, name, ints: [a.i ?? 0] };
    else if (a.name === 'value_ints') c = { t: 'const', dims: [a.ints.length], dataType: DT.INT64, name, ints: a.ints };
    else this.fail(`a Constant with '${a.name}' is not supported`);
    this.setOutput(c);
  }

  constantOfShape(): void {
    this.onlyAttrs('value');
    const dims = this.numbers(this.constInput(0, 'shape'), 'shape');
    const v = this.attr('value')?.t;
    const fill = v ? floatValues(v, this.origin)[0] : 0;
    const n = dims.reduce((a, d) => a * d, 1);
    const dataType = v?.dataType ?? DT.FLOAT;
    const isInt = dataType === DT.INT64 || dataType === DT.INT32;
    this.setOutput({ t: 'const', dims, dataType, name: this.node.outputs[0], ints: isInt ? new Array(n).fill(fill) : undefined, floats: isInt ? undefined : new Float32Array(n).fill(fill) });
  }

  cast(): void {
    this.onlyAttrs('to', 'saturate');
    const v = this.input(0);
    if (v.t !== 'const') {
      // A cast of a float tensor to float changes nothing; any other is not a layer.
      if (this.int('to', DT.FLOAT) === DT.FLOAT) {
        this.setOutput(v);
        return;
      }
      this.fail(`a Cast of a tensor to ${dataTypeName(this.int('to', 0))} is not expressible`);
    }
    const to = this.int('to', DT.FLOAT);
    const isInt = to === DT.INT64 || to === DT.INT32;
    this.setOutput({ t: 'const', dims: v.dims, dataType: to, name: this.node.outputs[0], ints: isInt ? this.ints(v).map((x) => (x === BATCH ? x : Math.trunc(x))) : undefined, floats: isInt ? undefined : this.floats(v) });
  }

  private slice(): void {
    this.onlyAttrs('starts', 'ends', 'axes');
    const v = this.input(0);
    if (v.t !== 'const' || v.dims.length !== 1) this.fail('only a Slice of a shape (a 1-D constant) is supported');
    const get = (i: number, attr: string) => (this.model.opset >= 10 ? (this.hasInput(i) ? this.numbers(this.constInput(i, attr), attr) : undefined) : this.intList(attr));
    const starts = get(1, 'starts') ?? [0];
    const ends = get(2, 'ends') ?? [Infinity];
    const steps = this.model.opset >= 10 ? get(4, 'steps') ?? [1] : [1];
    if (starts.length !== 1 || steps[0] !== 1) this.fail('only a simple Slice of a shape is supported');
    const values = this.ints(v);
    const n = values.length;
    const clamp = (x: number) => Math.min(n, Math.max(0, x < 0 ? x + n : x));
    const out = values.slice(clamp(starts[0]), clamp(ends[0]));
    this.setOutput({ t: 'const', dims: [out.length], dataType: v.dataType, name: this.node.outputs[0], ints: out });
  }

  /**
   * torch.onnx keeps one of equal initializers (ConvNeXt's zero biases, its ones) and gives the
   * others' names to Identity nodes of it: those names are the parameters' own.
   */
  identity(): void {
    const v = this.input(0);
    const out = this.node.outputs[0];
    if (v.t === 'const' && v.tensor && out && !out.includes('/') && !out.startsWith('onnx::') && !this.model.graph.initializers.has(out)) {
      this.setOutput({ t: 'const', dims: v.dims, dataType: v.dataType, name: out, tensor: v.tensor });
      return;
    }
    this.setOutput(v);
  }

  // ---- the graph ----------------------------------------------------------------------------

  run(): LayerGraph {
    const g = this.model.graph;
    const inputs = g.inputs.filter((i) => !g.initializers.has(i.name));
    if (inputs.length !== 1) this.failAt(`the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); a network takes one`);
    const input = inputs[0];
    if (input.elemType !== DT.FLOAT) this.failAt(`input '${input.name}' is ${input.elemType === undefined ? 'not a tensor' : dataTypeName(input.elemType)}; a network takes float32`);
    const dims = input.dims;
    if (!dims || !(dims.length === 4 || dims.length === 2)) {
      this.failAt(`input '${input.name}' has ${dims ? `${dims.length} dimensions` : 'no shape'}; a network takes [N, C, H, W] images or [N, F] vectors`);
    }
    const sizes = dims.slice(1);
    sizes.forEach((d, i) => {
      const what = dims.length === 4 ? ['channels', 'height', 'width'][i] : 'features';
      if (typeof d !== 'number') this.failAt(`input '${input.name}' has a dynamic ${what} (${d === null ? 'unknown' : `'${d}'`}); export the model at a fixed input size (a symbolic batch is fine)`);
      if (d < 1) this.failAt(`input '${input.name}' has ${what} ${d}`);
    });
    this.origin = `input '${input.name}'`;
    this.addLayer({ kind: 'input', shape: sizes as number[] }, []);
    this.values.set(input.name, { t: 'layer', id: 0 });

    if (g.outputs.length === 0) this.failAt('the graph has no output');
    if (g.outputs.length > 1) this.failAt(`the graph has ${g.outputs.length} outputs (${g.outputs.map((o) => o.name).join(', ')}); only networks with one output are imported`);
    const outName = g.outputs[0].name;

    // The nodes the output needs, and how many of them read each value.
    const producer = new Map<string, OnnxNode>();
    for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
    const needed = new Set<OnnxNode>();
    const stack = [outName];
    while (stack.length) {
      const p = producer.get(stack.pop()!);
      if (!p || needed.has(p)) continue;
      needed.add(p);
      for (const i of p.inputs) if (i) stack.push(i);
    }
    for (const n of needed) for (const i of n.inputs) if (i) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
    this.consumers.set(outName, (this.consumers.get(outName) ?? 0) + 1);

    for (const n of g.nodes) {
      if (!needed.has(n)) continue;
      this.node = n;
      this.origin = nodeOrigin(n, this.nodeCount);
      if (n.domain && n.domain !== 'ai.onnx') this.fail(`operators of the domain '${n.domain}' are not supported`);
      const handler = OPS[n.op];
      if (!handler) this.fail(`${n.op} is not supported${UNSUPPORTED_WHY[n.op] ? `: ${UNSUPPORTED_WHY[n.op]}` : ''}`);
      handler(this);
    }
    let out = this.values.get(outName);
    if ((out?.t === 'expr' && !out.nhwc) || out?.t === 'gn') out = { t: 'layer', id: out.t === 'expr' ? this.exprLayer(out) : this.groupNormLayer(out) };
    this.origin = `output '${outName}'`;
    if (!out) this.failAt(`output '${outName}' is produced by no node`);
    if (out.t !== 'layer') this.failAt(`output '${outName}' is ${out.t === 'const' ? 'a constant' : 'not a tensor the language can express'}`);
    this.checkOutputShape(g.outputs[0].dims, this.layers[out.id].shape, outName);
    nameFromInitializers(this.layers);
    return { layers: this.layers, output: out.id, usedInitializers: this.used, weightInitializers: this.weightInits, warnings: this.warnings };
  }

  private checkOutputShape(dims: (number | string | null)[] | undefined, shape: Shape, name: string): void {
    if (!dims) return;
    const rest = dims.slice(1);
    if (rest.length !== shape.length || rest.some((d, i) => typeof d === 'number' && d !== shape[i])) {
      this.failAt(`output '${name}' is declared [${dims.join(', ')}] but the layers give [N, ${shape.join(', ')}]`);
    }
  }

  private failAt(message: string): never {
    throw new ImportError(message);
  }
}

/** Each layer's `named` path from its initializers, where they are its own and their names agree. */
function nameFromInitializers(layers: ImportLayer[]): void {
  const uses = new Map<string, number>();
  for (const l of layers) for (const t of Object.values(l.tensors)) if (t.source) uses.set(t.source, (uses.get(t.source) ?? 0) + 1);
  for (const l of layers) {
    const paths = new Set<string | undefined>();
    for (const [role, t] of Object.entries(l.tensors)) {
      if (t.source && uses.get(t.source)! > 1) delete t.source;
      // A kind named by its path (scale) has its tensor named so too: `features.1.0.layer_scale`.
      paths.add(t.source ? (layerDef(l.attrs).namedByPath ? t.source : pathOfInitializer(t.source, role)) : undefined);
    }
    paths.delete(undefined);
    if (paths.size === 1) l.named = [...paths][0];
  }
}

/** Operators the language has no layer for, with the reason in a user's words. */
const UNSUPPORTED_WHY: Record<string, string> = {
  Loop: 'control flow (loops) has no counterpart in the language',
  If: 'control flow (conditionals) has no counterpart in the language',
  Scan: 'control flow (scans) has no counterpart in the language',
  LSTM: 'recurrent layers are not in the language',
  GRU: 'recurrent layers are not in the language',
  RNN: 'recurrent layers are not in the language',
};

const PATTERN_WORDS: Record<PatternValue['t'] | 'rows', string> = {
  rows: 'batch and channels merged',
  nhwc: 'channels last',
  lnf: 'a layer norm written out',
  split: 'channels split into groups',
  swapped: 'channel groups transposed',
  grouped: 'channels in groups',
  gnormed: 'groups normalised',
  gn: 'a group norm',
};

/** Abramowitz and Stegun 7.1.26 (error below 1.5e-7): enough to tell GELU's two forms apart. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}

function evalExpr(e: Expr, x: number): number {
  switch (e.op) {
    case 'x':
      return x;
    case 'c':
      return e.v;
    case 'Erf':
      return erf(evalExpr(e.a, x));
    case 'Tanh':
      return Math.tanh(evalExpr(e.a, x));
    default: {
      const a = evalExpr(e.a, x);
      const b = evalExpr(e.b, x);
      return e.op === 'add' ? a + b : e.op === 'sub' ? a - b : e.op === 'mul' ? a * b : e.op === 'div' ? a / b : Math.pow(a, b);
    }
  }
}

function exprText(e: Expr): string {
  switch (e.op) {
    case 'x':
      return 'x';
    case 'c':
      return formatConst(e.v);
    case 'Erf':
    case 'Tanh':
      return `${e.op.toLowerCase()}(${exprText(e.a)})`;
    default:
      return `(${exprText(e.a)} ${{ add: '+', sub: '-', mul: '*', div: '/', pow: '^' }[e.op]} ${exprText(e.b)})`;
  }
}

/** A layer's output as a formula's variable: as it is, or channels-last. */
function baseOf(v: Value): { of: number; nhwc: boolean } | undefined {
  if (v.t === 'layer') return { of: v.id, nhwc: false };
  if (v.t === 'nhwc') return { of: v.of, nhwc: true };
  return undefined;
}

const formatConst = (v: number) => String(Number(v.toPrecision(6)));

const SAMPLES = [-4, -2.5, -1.3, -0.7, -0.2, 0.1, 0.45, 1, 1.7, 3, 5];

/** The layer a formula of x computes, by its values: gelu, gelu's tanh form, x·c (a scale: its factor), x itself. */
function recognise(e: Expr): LayerAttrs | number | 'same' | undefined {
  const ys = SAMPLES.map((x) => evalExpr(e, x));
  const close = (f: (x: number) => number, tol: number) => SAMPLES.every((x, i) => Math.abs(ys[i] - f(x)) <= tol * Math.max(1, Math.abs(f(x))));
  const c = ys[SAMPLES.indexOf(1)];
  if (close((x) => c * x, 1e-6)) return Math.fround(c) === 1 ? 'same' : c;
  if (close((x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), 1e-5)) return { kind: 'gelu', approximate: 'none' };
  if (close((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), 1e-5)) return { kind: 'gelu', approximate: GELU_FORMS.find((f) => f !== 'none') as GeluAttrs['approximate'] };
  return undefined;
}

const OPS: Record<string, (m: Mapper) => void> = {
  Conv: (m) => m.conv(),
  Gemm: (m) => m.gemm(),
  MatMul: (m) => m.matmul(),
  BatchNormalization: (m) => m.batchnorm(),
  Relu: (m) => m.activation(activationKind('Relu')!),
  Sigmoid: (m) => m.activation(activationKind('Sigmoid')!),
  Tanh: (m) => m.unaryFormula('Tanh'),
  LeakyRelu: (m) => m.leakyrelu(),
  Softmax: (m) => m.softmax(),
  Clip: (m) => m.clip(),
  HardSigmoid: (m) => m.hardsigmoid(),
  HardSwish: (m) => m.hardswish(),
  MaxPool: (m) => m.pool('maxpool'),
  AveragePool: (m) => m.pool('avgpool'),
  GlobalAveragePool: (m) => m.globalAveragePool(),
  GlobalMaxPool: (m) => m.globalMaxPool(),
  ReduceMean: (m) => m.reduceMean(),
  LRN: (m) => m.lrn(),
  Dropout: (m) => m.dropout(),
  Flatten: (m) => m.flatten(),
  Reshape: (m) => m.reshape(),
  Squeeze: (m) => m.squeeze(),
  Unsqueeze: (m) => m.unsqueeze(),
  Shape: (m) => m.shape(),
  Gather: (m) => m.gather(),
  Concat: (m) => m.concat(),
  Add: (m) => m.binary('Add'),
  Sub: (m) => m.binary('Sub'),
  Mul: (m) => m.binary('Mul'),
  Div: (m) => m.binary('Div'),
  Sum: (m) => m.sum(),
  Pad: (m) => m.pad(),
  Constant: (m) => m.constant(),
  ConstantOfShape: (m) => m.constantOfShape(),
  Cast: (m) => m.cast(),
  Slice: (m) => m.sliceLayer(),
  Split: (m) => m.split(),
  Transpose: (m) => m.transpose(),
  LayerNormalization: (m) => m.layerNormalization(),
  InstanceNormalization: (m) => m.instanceNormalization(),
  Identity: (m) => m.identity(),
  Erf: (m) => m.unaryFormula('Erf'),
  Sqrt: (m) => m.sqrt(),
  Pow: (m) => m.pow(),
  Resize: (m) => m.resize(),
  Upsample: (m) => m.resize(),
  ConvTranspose: (m) => m.convTranspose(),
  Gelu: (m) => m.gelu(),
};

/** Maps the model's graph to layers (stage 1). Throws ImportError naming the node that cannot be mapped. */
export function mapOperators(model: OnnxModel): LayerGraph {
  return new Mapper(model).run();
}
