/**
 * `linear N` (alias `fc`): fully connected, as torch.nn.Linear; its input must be flat. With
 * `pointwise=true` it is applied at every position of a C×H×W input to its C channels, as
 * torchvision's ConvNeXt applies nn.Linear to a channels-last tensor: a 1×1 convolution whose
 * weight is `N × C` (what its state_dict holds), so every engine runs it as that convolution.
 */
import type { ConvAttrs } from './conv';
import { formatShape, numel, type LayerDef, type TensorSpec } from './types';

export interface LinearAttrs {
  kind: 'linear';
  out: number;
  bias: boolean;
  /** At every position of a C×H×W input (a flat one is one position); absent: false. */
  pointwise?: true;
}

/** The 1×1 convolution a pointwise linear is: the same weights, in the same order. */
export function pointwiseConv(a: LinearAttrs): ConvAttrs {
  return { kind: 'conv', out: a.out, kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, bias: a.bias };
}

/** A pointwise linear on an image-shaped input; the others are nn.Linear on a flat vector. */
export const isPointwise = (a: LinearAttrs, input: readonly number[]): boolean => !!a.pointwise && input.length === 3;

/** The features each position holds: C for a pointwise linear on C×H×W, else all of them. */
const features = (a: LinearAttrs, x: readonly number[]) => (isPointwise(a, x) ? x[0] : numel(x));

const DOT = '·';

export const linear: LayerDef<LinearAttrs> = {
  kind: 'linear',
  family: 'linear',
  spec: {
    keyword: 'linear',
    aliases: ['fc'],
    args: [
      { name: 'out', aliases: ['features', 'out_features'], type: 'int', required: true, positional: true, doc: 'output features' },
      { name: 'bias', aliases: [], type: 'bool', default: 'true', doc: 'add a learned bias per output' },
      {
        name: 'pointwise',
        aliases: [],
        type: 'bool',
        default: 'false',
        doc: "apply at every position of a C×H×W input, to its C channels (torchvision's ConvNeXt: nn.Linear on channels-last); weight N×C",
      },
    ],
    doc: 'Fully connected layer, as `torch.nn.Linear`; its input must be flat (`flatten` first), or, with `pointwise=true`, it is applied at every position.',
    output: 'N, or N x H x W with pointwise=true',
  },
  build(args) {
    const a: LinearAttrs = { kind: 'linear', out: args.num('out', 1), bias: args.bool('bias', true) };
    if (args.bool('pointwise', false)) a.pointwise = true;
    return a;
  },
  shape(a, [x], ctx) {
    if (isPointwise(a, x)) return [a.out, x[1], x[2]];
    if (x.length !== 1 && !a.pointwise) {
      const at = ctx.start;
      ctx.report({
        code: 'needs-flat',
        severity: 'error',
        message: `linear needs a flat input, but gets ${formatShape(x)}: insert 'flatten' (giving ${numel(x)}) or 'gap' then 'flatten' before it`,
        fixes: [{ title: "Insert 'flatten' before this layer", edits: [{ range: { start: at, end: at }, newText: `flatten\n${' '.repeat(at.character)}` }] }],
      });
    }
    // Counting as if flattened keeps the figures downstream meaningful.
    return [a.out];
  },
  params: (a, x) => a.out * features(a, x) + (a.bias ? a.out : 0),
  tensors: (a, x) => {
    const t: TensorSpec[] = [{ role: 'weight', shape: [a.out, features(a, x)], kind: 'param' }];
    if (a.bias) t.push({ role: 'bias', shape: [a.out], kind: 'param' });
    return t;
  },
  // Counted at every position it is applied, as a 1×1 convolution is.
  macs: (a, x) => numel(x) * a.out,
  ops: (a, _x, y) => (a.bias ? numel(y) : 0),
  field: (a, x) => (x && isPointwise(a, x) ? 'pointwise' : null),
  formulas(a, x, _y, f) {
    const n = features(a, x);
    const at = isPointwise(a, x) ? `${DOT}${x[1]}${DOT}${x[2]}` : '';
    return [
      `params = ${n}${DOT}${a.out}${a.bias ? ` + ${a.out}` : ''} = ${f.grouped(f.params)}`,
      f.flops === '2xmac' ? `FLOPs = 2${DOT}${n}${DOT}${a.out}${at} = ${f.grouped(2 * f.macs)}` : `MACs = ${n}${DOT}${a.out}${at} = ${f.grouped(f.macs)}`,
    ];
  },
  describe: (a) => `linear ${a.out}${a.pointwise ? ' pointwise=true' : ''}`,
  fusion: { foldsBatchNorm: true, takesActivation: true },
};
