/**
 * The network as an ONNX model (opset 17): one input `input` of shape [N, ...input shape] with a
 * symbolic batch N, the main output `output`, then one output per `aux` branch (`aux1`, ...).
 * Initializers carry our parameter names, in `cnn params` order. Every layer maps to one ONNX
 * operator with PyTorch's semantics, except decompositions into standard operators:
 * `adaptiveavgpool` whose bins differ in size (a constant averaging matrix), `lrn` with an
 * even size (ONNX's LRN centres an even window one channel later than PyTorch's), `layernorm`
 * on C×H×W (transposed around LayerNormalization), `groupnorm` (InstanceNormalization of the
 * groups: GroupNormalization is opset 18), `shuffle` (Reshape, Transpose, Reshape).
 * Initializers carry our parameter names, in definition order. Every layer maps to one ONNX
 * operator with PyTorch's semantics, except decompositions into standard operators:
 * `adaptiveavgpool` whose bins differ in size (a constant averaging matrix), `lrn` with an
 * even size (ONNX's LRN centres an even window one channel later than PyTorch's), nearest
 * `upsample` to a size (two Gathers of PyTorch's rows and columns) and `convtranspose` with an
 * output padding of its stride or more (a Pad, and the bias added after it).
 */
import type { NetworkAnalysis } from '../analysis';
import type { GraphNode } from '../graph/types';
import { dispatch, isPointwise, type KindTable, type LayerAttrs, type TensorRole } from '../layers';
import { nearestIndex } from '../layers/resampling';
import { transposedOut } from '../layers/convtranspose';
import { resizeDims } from '../layers/upsample';
import { ExportError, knownShapes, tensorsByNode } from './common';
import { DataType, encodeModel, type AttrValue, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto';

export const ONNX_OPSET = 17;
/** The IR version that opset 17 came with (ONNX 1.12). */
export const ONNX_IR_VERSION = 8;
export const BATCH_DIM = 'N';

export interface OnnxExportOptions {
  /** The .cnn file, recorded in the model's metadata and each node's doc_string. */
  source?: string;
  /** The .cnn file's text: each node's doc_string then quotes the statement it comes from. */
  text?: string;
  producerVersion?: string;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function floatBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return out;
}

const ints = (...v: number[]): AttrValue => ({ ints: v });
const int = (v: number): AttrValue => ({ int: v });
const float = (v: number): AttrValue => ({ float: v });

/** Row i of the [H*W, oh*ow] matrix that PyTorch's adaptive average pooling multiplies by: bin o covers [floor(o*H/oh), ceil((o+1)*H/oh)). */
function adaptivePoolMatrix(h: number, w: number, oh: number, ow: number): Float32Array {
  const m = new Float32Array(h * w * oh * ow);
  for (let i = 0; i < oh; i++) {
    const h0 = Math.floor((i * h) / oh);
    const h1 = Math.ceil(((i + 1) * h) / oh);
    for (let j = 0; j < ow; j++) {
      const w0 = Math.floor((j * w) / ow);
      const w1 = Math.ceil(((j + 1) * w) / ow);
      const v = 1 / ((h1 - h0) * (w1 - w0));
      for (let y = h0; y < h1; y++) for (let x = w0; x < w1; x++) m[(y * w + x) * oh * ow + i * ow + j] = v;
    }
  }
  return m;
}

/** The [C, C, 1, 1] 0/1 kernel that sums squares over PyTorch's LRN window: channels c - floor(size/2) .. c + floor((size-1)/2). */
function lrnBand(c: number, size: number): Float32Array {
  const m = new Float32Array(c * c);
  const lo = Math.floor(size / 2);
  const hi = Math.floor((size - 1) / 2);
  for (let o = 0; o < c; o++) for (let i = Math.max(0, o - lo); i <= Math.min(c - 1, o + hi); i++) m[o * c + i] = 1;
  return m;
}

/**
 * Whether a ceil-mode pool needs ONNX's ceil_mode. Where PyTorch drops a last window that would
 * start in the right padding, its output size equals floor mode's, with the same windows; ONNX's
 * shape inference does not know that rule, so such pools are written in floor mode.
 */
function needsCeil(inShape: number[], a: { kernel: [number, number]; stride: [number, number]; padding: [number, number]; ceil: boolean }): boolean {
  if (!a.ceil) return false;
  return [0, 1].some((i) => {
    const span = inShape[i + 1] + 2 * a.padding[i] - a.kernel[i];
    let ceilOut = Math.ceil(span / a.stride[i]) + 1;
    if ((ceilOut - 1) * a.stride[i] >= inShape[i + 1] + a.padding[i]) ceilOut--;
    return ceilOut !== Math.floor(span / a.stride[i]) + 1;
  });
}

/** What a kind's entry writes with: its node, its values' names, and the graph under construction. */
interface OnnxEmit {
  node: GraphNode;
  /** The first input's value name, and the layer's output value name. */
  x: string;
  y: string;
  inputs: string[];
  inShape: number[];
  param(role: TensorRole): string;
  /** A node; `shape` (without the batch) gives a temporary value its value_info. */
  emit(op: string, inputs: string[], output: string, attrs?: Record<string, AttrValue>, suffix?: string, shape?: number[]): void;
  fresh(base: string): string;
  floatConst(base: string, dims: number[], data: Float32Array): string;
  int64Const(base: string, values: number[]): string;
}

type OnnxEntry = (attrs: LayerAttrs, e: OnnxEmit) => void;

const pads = (p: readonly number[]) => ints(p[0], p[1], p[0], p[1]);

/** Each kind as ONNX operators (opset 17), with PyTorch's semantics. Complete by type. */
const ONNX_OPS = {
  input: () => {},
  conv: (a, e) =>
    e.emit('Conv', a.bias ? [e.x, e.param('weight'), e.param('bias')] : [e.x, e.param('weight')], e.y, {
      kernel_shape: ints(...a.kernel),
      strides: ints(...a.stride),
      pads: pads(a.padding),
      dilations: ints(...a.dilation),
      group: int(a.groups),
    }),
  linear(a, e) {
    if (!isPointwise(a, e.inShape)) return e.emit('Gemm', a.bias ? [e.x, e.param('weight'), e.param('bias')] : [e.x, e.param('weight')], e.y, { transB: int(1) });
    // At every position: a 1×1 Conv, its initializer kept N×C (the state_dict's shape) and reshaped.
    const path = e.node.path;
    const weight = e.fresh(`${path}/weight`);
    e.emit('Reshape', [e.param('weight'), e.int64Const(`${path}.weight_shape`, [a.out, e.inShape[0], 1, 1])], weight, undefined, '/weight');
    e.emit('Conv', a.bias ? [e.x, weight, e.param('bias')] : [e.x, weight], e.y, { kernel_shape: ints(1, 1) });
  },
  bn: (a, e) => e.emit('BatchNormalization', [e.x, e.param('weight'), e.param('bias'), e.param('running_mean'), e.param('running_var')], e.y, { epsilon: float(a.eps) }),
  relu: (_a, e) => e.emit('Relu', [e.x], e.y),
  sigmoid: (_a, e) => e.emit('Sigmoid', [e.x], e.y),
  tanh: (_a, e) => e.emit('Tanh', [e.x], e.y),
  leakyrelu: (a, e) => e.emit('LeakyRelu', [e.x], e.y, { alpha: float(a.slope) }),
  softmax: (_a, e) => e.emit('Softmax', [e.x], e.y, { axis: int(1) }),
  maxpool: (a, e) =>
    e.emit('MaxPool', [e.x], e.y, { kernel_shape: ints(...a.kernel), strides: ints(...a.stride), pads: pads(a.padding), ceil_mode: int(needsCeil(e.inShape, a) ? 1 : 0) }),
  avgpool: (a, e) =>
    e.emit('AveragePool', [e.x], e.y, {
      kernel_shape: ints(...a.kernel),
      strides: ints(...a.stride),
      pads: pads(a.padding),
      ceil_mode: int(needsCeil(e.inShape, a) ? 1 : 0),
      count_include_pad: int(1),
    }),
  gap: (_a, e) => e.emit('GlobalAveragePool', [e.x], e.y),
  adaptiveavgpool(a, e) {
    const [c, h, w] = e.inShape;
    const [oh, ow] = a.size;
    const path = e.node.path;
    if (h === oh && w === ow) {
      e.emit('Identity', [e.x], e.y);
    } else if (h % oh === 0 && w % ow === 0) {
      const k = [h / oh, w / ow];
      e.emit('AveragePool', [e.x], e.y, { kernel_shape: ints(...k), strides: ints(...k) });
    } else {
      // Bins of different sizes: y[n, c] = x[n, c] (as a row of H*W) times a constant [H*W, oh*ow] averaging matrix.
      const rows = e.fresh(`${path}/rows`);
      const pooled = e.fresh(`${path}/pooled`);
      e.emit('Reshape', [e.x, e.int64Const(`${path}.rows_shape`, [-1, h * w])], rows, undefined, '/reshape_in');
      e.emit('MatMul', [rows, e.floatConst(`${path}.pool_matrix`, [h * w, oh * ow], adaptivePoolMatrix(h, w, oh, ow))], pooled, undefined, '/matmul');
      e.emit('Reshape', [pooled, e.int64Const(`${path}.out_shape`, [-1, c, oh, ow])], e.y, undefined, '/reshape_out');
    }
  },
  lrn(a, e) {
    if (a.size % 2 === 1) {
      e.emit('LRN', [e.x], e.y, { size: int(a.size), alpha: float(a.alpha), beta: float(a.beta), bias: float(a.k) });
      return;
    }
    // y = x / (k + alpha/size * S)^beta, S the sum of squares over PyTorch's window: a 1x1 convolution with a 0/1 band.
    const path = e.node.path;
    const c = e.inShape[0];
    const sq = e.fresh(`${path}/square`);
    const sum = e.fresh(`${path}/sum`);
    const scaled = e.fresh(`${path}/scaled`);
    const shifted = e.fresh(`${path}/shifted`);
    const denom = e.fresh(`${path}/denominator`);
    const scalar = (base: string, v: number) => e.floatConst(`${path}.${base}`, [], Float32Array.of(v));
    const shape = e.inShape;
    e.emit('Mul', [e.x, e.x], sq, undefined, '/square', shape);
    e.emit('Conv', [sq, e.floatConst(`${path}.window`, [c, c, 1, 1], lrnBand(c, a.size))], sum, { kernel_shape: ints(1, 1) }, '/window_sum', shape);
    e.emit('Mul', [sum, scalar('alpha_over_size', a.alpha / a.size)], scaled, undefined, '/scale', shape);
    e.emit('Add', [scaled, scalar('k', a.k)], shifted, undefined, '/shift', shape);
    e.emit('Pow', [shifted, scalar('beta', a.beta)], denom, undefined, '/pow', shape);
    e.emit('Div', [e.x, denom], e.y, undefined, '/divide');
  },
  dropout: (_a, e) => e.emit('Identity', [e.x], e.y),
  flatten: (_a, e) => e.emit('Flatten', [e.x], e.y, { axis: int(1) }),
  add: (_a, e) => e.emit(e.inputs.length === 2 ? 'Add' : 'Sum', e.inputs, e.y),
  // Mul broadcasts as numpy does: a [N, C, 1, 1] gate against [N, C, H, W].
  mul(_a, e) {
    let acc = e.inputs[0];
    for (let i = 1; i < e.inputs.length; i++) {
      const out = i === e.inputs.length - 1 ? e.y : e.fresh(`${e.node.path}/product${i}`);
      e.emit('Mul', [acc, e.inputs[i]], out, undefined, i === e.inputs.length - 1 ? '' : `/product${i}`);
      acc = out;
    }
    if (e.inputs.length === 1) e.emit('Identity', [e.x], e.y);
  },
  concat: (_a, e) => e.emit('Concat', e.inputs, e.y, { axis: int(1) }),
  layernorm(a, e) {
    const norm = (x: string, y: string) => e.emit('LayerNormalization', [x, e.param('weight'), e.param('bias')], y, { axis: int(-1), epsilon: float(a.eps) }, e.inShape.length === 3 ? '/norm' : '');
    if (e.inShape.length !== 3) return norm(e.x, e.y);
    // Over the channels at each position: the channels last, as LayerNorm2d's permutes.
    const path = e.node.path;
    const nhwc = e.fresh(`${path}/nhwc`);
    const normed = e.fresh(`${path}/normed`);
    e.emit('Transpose', [e.x], nhwc, { perm: ints(0, 2, 3, 1) }, '/to_nhwc');
    norm(nhwc, normed);
    e.emit('Transpose', [normed], e.y, { perm: ints(0, 3, 1, 2) }, '/to_nchw');
  },
  groupnorm(a, e) {
    // Opset 17 has no GroupNormalization: each group as one instance of InstanceNormalization, then the per-channel affine.
    const path = e.node.path;
    const c = e.inShape[0];
    const perChannel = e.inShape.length === 3 ? [c, 1, 1] : [c];
    const grouped = e.fresh(`${path}/grouped`);
    const normed = e.fresh(`${path}/normed`);
    const back = e.fresh(`${path}/ungrouped`);
    const scaled = e.fresh(`${path}/scaled`);
    const weight = e.fresh(`${path}/weight`);
    const bias = e.fresh(`${path}/bias`);
    e.emit('Reshape', [e.x, e.int64Const(`${path}.group_shape`, [0, a.groups, -1])], grouped, undefined, '/group');
    e.emit('InstanceNormalization', [grouped, e.floatConst(`${path}.ones`, [a.groups], new Float32Array(a.groups).fill(1)), e.floatConst(`${path}.zeros`, [a.groups], new Float32Array(a.groups))], normed, { epsilon: float(a.eps) }, '/norm');
    e.emit('Reshape', [normed, e.int64Const(`${path}.shape`, [0, ...e.inShape])], back, undefined, '/ungroup');
    e.emit('Reshape', [e.param('weight'), e.int64Const(`${path}.channel_shape`, perChannel)], weight, undefined, '/weight');
    e.emit('Reshape', [e.param('bias'), e.int64Const(`${path}.channel_shape`, perChannel)], bias, undefined, '/bias');
    e.emit('Mul', [back, weight], scaled, undefined, '/scale');
    e.emit('Add', [scaled, bias], e.y, undefined, '/shift');
  },
  scale: (_a, e) => e.emit('Mul', [e.x, e.param('weight')], e.y),
  shuffle(a, e) {
    const path = e.node.path;
    const [c, ...rest] = e.inShape;
    const split = e.fresh(`${path}/split`);
    const swapped = e.fresh(`${path}/transposed`);
    e.emit('Reshape', [e.x, e.int64Const(`${path}.split_shape`, [0, a.groups, c / a.groups, ...rest])], split, undefined, '/split');
    e.emit('Transpose', [split], swapped, { perm: ints(0, 2, 1, ...rest.map((_, i) => i + 3)) }, '/transpose');
    e.emit('Reshape', [swapped, e.int64Const(`${path}.shape`, [0, ...e.inShape])], e.y, undefined, '/merge');
  },
  slice(a, e) {
    const path = e.node.path;
    const end = a.end ?? e.inShape[0];
    e.emit('Slice', [e.x, e.int64Const(`${path}.starts`, [a.start]), e.int64Const(`${path}.ends`, [end]), e.int64Const(`${path}.axes`, [1])], e.y);
  },
  relu6: (_a, e) => e.emit('Clip', [e.x, scalarConst(e, 'min', 0), scalarConst(e, 'max', 6)], e.y),
  // ONNX's HardSwish is x·max(0, min(1, x/6 + 1/2)), PyTorch's function; it takes no attributes.
  hardswish: (_a, e) => e.emit('HardSwish', [e.x], e.y),
  // PyTorch's min(max(x + 3, 0), 6)/6 is ONNX's max(0, min(1, alpha·x + beta)) with alpha 1/6, not ONNX's default 0.2.
  hardsigmoid: (_a, e) => e.emit('HardSigmoid', [e.x], e.y, { alpha: float(1 / 6), beta: float(0.5) }),
  // Opset 17 has neither SiLU nor Gelu (Gelu is opset 20): both as their formulas.
  silu(_a, e) {
    const s = e.fresh(`${e.node.path}/sigmoid`);
    e.emit('Sigmoid', [e.x], s, undefined, '/sigmoid');
    e.emit('Mul', [e.x, s], e.y, undefined, '/mul');
  },
  gelu(a, e) {
    const path = e.node.path;
    const value = (name: string) => e.fresh(`${path}/${name}`);
    let phi: string;
    if (a.approximate === 'tanh') {
      // 1 + tanh(√(2/π)·(x + 0.044715·x³)), as PyTorch computes it.
      const [sq, cube, scaledCube, inner, u, t] = ['square', 'cube', 'scaled_cube', 'inner', 'u', 'tanh'].map(value);
      e.emit('Mul', [e.x, e.x], sq, undefined, '/square');
      e.emit('Mul', [sq, e.x], cube, undefined, '/cube');
      e.emit('Mul', [cube, scalarConst(e, 'cube_coefficient', 0.044715)], scaledCube, undefined, '/scale_cube');
      e.emit('Add', [e.x, scaledCube], inner, undefined, '/inner');
      e.emit('Mul', [inner, scalarConst(e, 'sqrt_2_over_pi', Math.sqrt(2 / Math.PI))], u, undefined, '/scale');
      e.emit('Tanh', [u], t, undefined, '/tanh');
      phi = t;
    } else {
      // 1 + erf(x/√2).
      const [z, erf] = ['z', 'erf'].map(value);
      e.emit('Mul', [e.x, scalarConst(e, 'sqrt_half', Math.SQRT1_2)], z, undefined, '/z');
      e.emit('Erf', [z], erf, undefined, '/erf');
      phi = erf;
    }
    const [onePlus, product] = ['one_plus', 'product'].map(value);
    e.emit('Add', [phi, scalarConst(e, 'one', 1)], onePlus, undefined, '/one_plus');
    e.emit('Mul', [e.x, onePlus], product, undefined, '/product');
    e.emit('Mul', [product, scalarConst(e, 'half', 0.5)], e.y, undefined, '/half');
  },
  identity: (_a, e) => e.emit('Identity', [e.x], e.y),
  upsample(a, e) {
    const path = e.node.path;
    // PyTorch's nearest by a factor is floor(o/factor): asymmetric coordinates, rounded down. Its bilinear
    // scales pixel centres (half_pixel, which clamps at the edges as PyTorch does) or corners.
    const attrs: Record<string, AttrValue> =
      a.mode === 'nearest'
        ? { mode: { string: 'nearest' }, coordinate_transformation_mode: { string: 'asymmetric' }, nearest_mode: { string: 'floor' } }
        : { mode: { string: 'linear' }, coordinate_transformation_mode: { string: a.alignCorners ? 'align_corners' : 'half_pixel' } };
    if (a.scale) {
      e.emit('Resize', [e.x, '', e.floatConst(`${path}.scales`, [4], Float32Array.of(1, 1, a.scale[0], a.scale[1]))], e.y, attrs);
      return;
    }
    if (a.mode === 'nearest') {
      // onnxruntime's asymmetric coordinate o/(out/in) falls below a whole number where PyTorch's
      // o·(in/out) does not (14 to 16 pixels, and 47 other size pairs up to 40): gather PyTorch's rows and columns.
      const dims = resizeDims(a, e.inShape);
      const rows = e.fresh(`${path}/rows`);
      const index = (i: 0 | 1) => e.int64Const(`${path}.${i ? 'columns' : 'rows'}`, Array.from({ length: dims[i].out }, (_, o) => nearestIndex(o, dims[i])));
      e.emit('Gather', [e.x, index(0)], rows, { axis: int(2) }, '/rows', [e.inShape[0], dims[0].out, e.inShape[2]]);
      e.emit('Gather', [rows, index(1)], e.y, { axis: int(3) }, '/columns');
      return;
    }
    // The batch is symbolic, so the output size is the input's N and C and the constant H', W'.
    const nc = e.fresh(`${path}/batch_channels`);
    const sizes = e.fresh(`${path}/sizes`);
    e.emit('Shape', [e.x], nc, { start: int(0), end: int(2) }, '/shape');
    e.emit('Concat', [nc, e.int64Const(`${path}.size`, [...a.size!])], sizes, { axis: int(0) }, '/sizes');
    e.emit('Resize', [e.x, '', '', sizes], e.y, attrs);
  },
  convtranspose(a, e) {
    // onnxruntime refuses an output padding of the stride or more, which PyTorch allows below the
    // dilation: those rows are cut from the end padding instead, and rows past the full output
    // (which only the bias reaches) are padded on after the transposed conv.
    const inPads = [0, 1].map((i) => (a.outputPadding[i] < a.stride[i] ? a.padding[i] : Math.max(a.padding[i] - a.outputPadding[i], 0)));
    const extra = [0, 1].map((i) => (a.outputPadding[i] < a.stride[i] ? 0 : Math.max(a.outputPadding[i] - a.padding[i], 0)));
    const attrs = {
      kernel_shape: ints(...a.kernel),
      strides: ints(...a.stride),
      pads: ints(a.padding[0], a.padding[1], inPads[0], inPads[1]),
      output_padding: ints(...[0, 1].map((i) => (a.outputPadding[i] < a.stride[i] ? a.outputPadding[i] : 0))),
      dilations: ints(...a.dilation),
      group: int(a.groups),
    };
    if (!extra[0] && !extra[1]) {
      e.emit('ConvTranspose', a.bias ? [e.x, e.param('weight'), e.param('bias')] : [e.x, e.param('weight')], e.y, attrs);
      return;
    }
    const path = e.node.path;
    const out = [0, 1].map((i) => transposedOut(e.inShape[i + 1], a.kernel[i], a.stride[i], a.padding[i], a.outputPadding[i], a.dilation[i]));
    const full = e.fresh(`${path}/transposed`);
    e.emit('ConvTranspose', [e.x, e.param('weight')], full, attrs, '/transposed', [a.out, out[0] - extra[0], out[1] - extra[1]]);
    const padded = a.bias ? e.fresh(`${path}/padded`) : e.y;
    e.emit('Pad', [full, e.int64Const(`${path}.output_padding`, [0, 0, 0, 0, 0, 0, extra[0], extra[1]])], padded, undefined, '/output_padding', a.bias ? [a.out, ...out] : undefined);
    if (!a.bias) return;
    const bias = e.fresh(`${path}/bias`);
    e.emit('Reshape', [e.param('bias'), e.int64Const(`${path}.bias_shape`, [a.out, 1, 1])], bias, undefined, '/bias_shape');
    e.emit('Add', [padded, bias], e.y, undefined, '/bias');
  },
} satisfies KindTable<OnnxEntry>;

/** A float32 scalar initializer named after the layer: `features.3.max`. */
function scalarConst(e: OnnxEmit, name: string, v: number): string {
  return e.floatConst(`${e.node.path}.${name}`, [], Float32Array.of(v));
}

/**
 * Where a node comes from, for its doc_string: `file:line: statement`, and the block call that
 * made it (`in Basic, called at line 12`).
 */
function sourceLine(node: GraphNode, opts: OnnxExportOptions): string {
  const line = node.range.start.line + 1;
  const where = `${opts.source ? `${opts.source}:` : 'line '}${line}`;
  const text = opts.text?.slice(node.range.start.offset, node.range.end.offset).split(/\r\n|\r|\n/)[0].trim();
  const call = node.calls.length ? ` (in ${node.calls[node.calls.length - 1].block}, called at line ${node.calls[node.calls.length - 1].range.start.line + 1})` : '';
  return `${where}${text ? `: ${text.length > 160 ? `${text.slice(0, 157)}...` : text}` : ''}${call}`;
}

/**
 * Builds the ONNX model of `net` with the given weights (every tensor of `net.tensors`, by name).
 * Throws ExportError, one line, for a network with unknown shapes or weights that do not fit.
 */
export function exportOnnx(net: NetworkAnalysis, weights: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): Uint8Array {
  const g = net.graph;
  const shapes = knownShapes(net);
  const byNode = tensorsByNode(net);

  const initializers: OnnxTensor[] = [];
  const used = new Set<string>();
  for (const t of net.tensors) {
    const data = weights.get(t.name);
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (!data) throw new ExportError(`no weights for '${t.name}' [${t.shape.join(', ')}]`);
    if (data.length !== n) throw new ExportError(`weights '${t.name}' have ${data.length} values; [${t.shape.join(', ')}] needs ${n}`);
    initializers.push({ name: t.name, dims: t.shape, dataType: DataType.FLOAT, raw: floatBytes(data) });
    used.add(t.name);
  }

  /** A name not taken yet: `base`, else `base_1`, `base_2`... */
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const constant = (base: string, dims: number[], raw: Uint8Array, dataType: OnnxTensor['dataType']): string => {
    const name = fresh(base);
    initializers.push({ name, dims, dataType, raw });
    return name;
  };
  const floatConst = (base: string, dims: number[], data: Float32Array) => constant(base, dims, floatBytes(data), DataType.FLOAT);
  const int64Const = (base: string, values: number[]) => constant(base, [values.length], int64Bytes(values), DataType.INT64);

  // Value names: the graph's input and outputs by their public names, every other layer by its path.
  const outputNames = ['output', ...g.auxOutputs.map((_, i) => `aux${i + 1}`)];
  for (const n of ['input', ...outputNames]) used.add(n);
  const names: string[] = new Array(g.nodes.length);
  const inputNode = g.nodes.find((n) => n.attrs.kind === 'input');
  if (!inputNode) throw new ExportError('the network has no input');
  names[inputNode.id] = 'input';
  [g.output, ...g.auxOutputs].forEach((id, i) => {
    if (names[id] === undefined) names[id] = outputNames[i];
  });
  for (const node of g.nodes) if (names[node.id] === undefined) names[node.id] = fresh(node.path);
  const publicNames = new Set(['input', ...outputNames]);

  const nodes: OnnxNode[] = [];
  const nodeNames = new Set<string>();
  const nodeName = (base: string): string => {
    let name = base;
    for (let i = 1; nodeNames.has(name); i++) name = `${base}_${i}`;
    nodeNames.add(name);
    return name;
  };
  const valueInfo: OnnxValueInfo[] = [];
  const emit = (node: GraphNode, op: string, inputs: string[], output: string, attrs?: Record<string, AttrValue>, suffix = '', shape?: number[]) => {
    nodes.push({ op, inputs, outputs: [output], name: nodeName(node.path + suffix), attrs, doc: sourceLine(node, opts) });
    if (shape) valueInfo.push({ name: output, dims: [BATCH_DIM, ...shape] });
  };

  for (const node of g.nodes) {
    if (node.attrs.kind === 'input') continue;
    const t = byNode.get(node.id) ?? {};
    const ctx: OnnxEmit = {
      node,
      x: names[node.inputs[0]],
      y: names[node.id],
      inputs: node.inputs.map((i) => names[i]),
      inShape: shapes[node.inputs[0]],
      param(role) {
        const p = t[role];
        if (!p) throw new ExportError(`'${node.path}' has no ${role} tensor`);
        return p.name;
      },
      emit: (op, inputs, output, attrs, suffix, shape) => emit(node, op, inputs, output, attrs, suffix, shape),
      fresh,
      floatConst,
      int64Const,
    };
    dispatch<OnnxEntry>(ONNX_OPS, node.attrs, ctx);
    if (!publicNames.has(names[node.id])) valueInfo.push({ name: names[node.id], dims: [BATCH_DIM, ...shapes[node.id]], doc: node.path });
  }

  // An output whose layer already carries another public name (the input, the main output) gets an Identity.
  const outputs: OnnxValueInfo[] = [];
  [g.output, ...g.auxOutputs].forEach((id, i) => {
    const name = outputNames[i];
    if (names[id] !== name) nodes.push({ op: 'Identity', inputs: [names[id]], outputs: [name], name: nodeName(`${name}/identity`) });
    outputs.push({ name, dims: [BATCH_DIM, ...shapes[id]], doc: i === 0 ? `the main output (${g.nodes[id].path})` : `aux output (${g.nodes[id].path})` });
  });

  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'cnn-designer',
    producerVersion: opts.producerVersion ?? '0.1.0',
    doc: `${g.network}${opts.source ? ` from ${opts.source}` : ''}, exported by cnn export`,
    metadata: { network: g.network, ...(opts.source ? { source: opts.source } : {}) },
    graph: {
      name: g.network,
      nodes,
      initializers,
      inputs: [{ name: 'input', dims: [BATCH_DIM, ...shapes[inputNode.id]] }],
      outputs,
      valueInfo,
    },
  });
}
