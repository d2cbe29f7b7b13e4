/** `convtranspose C`: transposed 2-D convolution, as torch.nn.ConvTranspose2d. */
import { MAX_DIM, grouped } from './limits';
import { resamplingField, transposedResampling } from './resampling';
import { ONE, ZERO, formatShape, pairText, type LayerDef, type Pair, type Resampling, type Shape, type TensorSpec } from './types';
import { needSpatial } from './window';

export interface ConvTransposeAttrs {
  kind: 'convtranspose';
  out: number;
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  outputPadding: Pair;
  dilation: Pair;
  groups: number;
  bias: boolean;
}

const DOT = '·';

/** One dimension: `(H − 1)·S − 2P + D(K − 1) + OP + 1`. */
export function transposedOut(size: number, k: number, s: number, p: number, op: number, d: number): number {
  return (size - 1) * s - 2 * p + d * (k - 1) + op + 1;
}

function sizeLine(dim: string, a: ConvTransposeAttrs, x: Shape, i: 0 | 1): string {
  const out = transposedOut(x[i + 1], a.kernel[i], a.stride[i], a.padding[i], a.outputPadding[i], a.dilation[i]);
  return `${dim}' = (${x[i + 1]} − 1)${DOT}${a.stride[i]} − 2${DOT}${a.padding[i]} + ${a.dilation[i]}${DOT}(${a.kernel[i]} − 1) + ${a.outputPadding[i]} + 1 = ${out}`;
}

export const convtranspose: LayerDef<ConvTransposeAttrs> = {
  kind: 'convtranspose',
  family: 'conv',
  spec: {
    keyword: 'convtranspose',
    aliases: ['convtranspose2d'],
    args: [
      { name: 'out', aliases: ['channels', 'out_channels'], type: 'int', required: true, positional: true, doc: 'output channels' },
      { name: 'k', aliases: ['kernel', 'kernel_size'], type: 'size', required: true, positional: true, doc: 'kernel size: `4`, `2x3` or `(e1, e2)`' },
      { name: 's', aliases: ['stride'], type: 'size', default: '1', doc: 'stride: the output grows about S times' },
      { name: 'p', aliases: ['pad', 'padding'], type: 'pad', default: '0', doc: 'rows and columns cut from each side of the output, as PyTorch\'s padding' },
      {
        name: 'op',
        aliases: ['output_padding'],
        type: 'pad',
        default: '0',
        doc: 'output padding: rows and columns added at the bottom and right, smaller than max(S, D); picks which of the sizes a strided conv maps to the input size comes out',
      },
      { name: 'd', aliases: ['dilation'], type: 'size', default: '1', doc: 'dilation: the gap between kernel taps' },
      { name: 'g', aliases: ['groups'], type: 'int', default: '1', doc: 'groups: each output channel sees `C_in/g` input channels' },
      { name: 'bias', aliases: [], type: 'bool', default: 'true', doc: 'add a learned bias per output channel' },
    ],
    doc: 'Transposed 2-D convolution, as `torch.nn.ConvTranspose2d` (weight `C_in x C_out/g x Kh x Kw`).',
    output: "C x H' x W', H' = (H - 1)S - 2P + D(K-1) + OP + 1",
  },
  build(args) {
    const stride = args.pair('s', ONE);
    const dilation = args.pair('d', ONE);
    for (const name of ['p', 'op']) {
      if (args.get(name) === 'same') {
        args.error(name, 'argument-value', `${name}=same is not for convtranspose (PyTorch's ConvTranspose2d has no padding='same'); give the rows`);
        return undefined;
      }
    }
    const outputPadding = args.pair('op', ZERO);
    for (const i of [0, 1]) {
      if (outputPadding[i] >= Math.max(stride[i], dilation[i])) {
        const which = i === 0 ? 'height' : 'width';
        args.error(
          'op',
          'argument-value',
          `output padding ${outputPadding[i]} (${which}) must be smaller than the stride ${stride[i]} or the dilation ${dilation[i]}, as PyTorch requires: at most ${Math.max(stride[i], dilation[i]) - 1}`,
        );
        return undefined;
      }
    }
    return {
      kind: 'convtranspose',
      out: args.num('out', 1),
      kernel: args.pair('k', ONE),
      stride,
      padding: args.pair('p', ZERO),
      outputPadding,
      dilation,
      groups: args.num('g', 1),
      bias: args.bool('bias', true),
    };
  },
  shape(a, [x], ctx) {
    if (!needSpatial('convtranspose', x, ctx)) return null;
    let ok = true;
    if (x[0] % a.groups !== 0 || a.out % a.groups !== 0) {
      ctx.report({
        code: 'groups',
        severity: 'error',
        message: `groups=${a.groups} must divide both the input channels (${x[0]}) and the output channels (${a.out})`,
      });
      ok = false;
    }
    const [h, w] = [0, 1].map((i) => transposedOut(x[i + 1], a.kernel[i], a.stride[i], a.padding[i], a.outputPadding[i], a.dilation[i]));
    if (h < 1 || w < 1) {
      const i = h < 1 ? 0 : 1;
      ctx.report({
        code: 'output-too-small',
        severity: 'error',
        message: `convtranspose output would be empty: ${sizeLine(i === 0 ? 'H' : 'W', a, x, i)}; the padding ${a.padding[i]} cuts more than the ${formatShape(x)} input grows to: use less padding`,
      });
      return null;
    }
    if (Math.max(h, w) > MAX_DIM) {
      ctx.report({ code: 'too-large', severity: 'error', message: `convtranspose output ${h}×${w} is past the largest size the analysis takes (${grouped(MAX_DIM)})` });
      return null;
    }
    return ok ? [a.out, h, w] : null;
  },
  params: (a, x) => x[0] * (a.out / a.groups) * a.kernel[0] * a.kernel[1] + (a.bias ? a.out : 0),
  tensors: (a, x) => {
    const t: TensorSpec[] = [{ role: 'weight', shape: [x[0], a.out / a.groups, a.kernel[0], a.kernel[1]], kind: 'param' }];
    if (a.bias) t.push({ role: 'bias', shape: [a.out], kind: 'param' });
    return t;
  },
  // Each input value meets C_out/g·Kh·Kw weights (fvcore's count); the zeros a strided
  // equivalent conv would insert are not multiplied.
  macs: (a, x) => x[0] * x[1] * x[2] * (a.out / a.groups) * a.kernel[0] * a.kernel[1],
  ops: (a, _x, y) => (a.bias ? y[0] * y[1] * y[2] : 0),
  resampling: (a) =>
    [0, 1].map((i) => transposedResampling(a.kernel[i], a.stride[i], a.padding[i], a.dilation[i])) as [Resampling, Resampling],
  fieldFromAttrs: true,
  field: (a) => resamplingField(convtranspose.resampling!(a, [])),
  formulas(a, x, _y, f) {
    const h = sizeLine('H', a, x, 0);
    const w = sizeLine('W', a, x, 1);
    const lines = h.slice(1) === w.slice(1) ? [`H' = W'${h.slice(2)}`] : [h, w];
    const cout = a.out / a.groups;
    if (a.groups > 1) lines.push(`C_out/g = ${a.out}/${a.groups} = ${cout}`);
    lines.push(`params = ${x[0]}${DOT}${cout}${DOT}${a.kernel[0]}${DOT}${a.kernel[1]}${a.bias ? ` + ${a.out}` : ''} = ${f.grouped(f.params)}`);
    const mac = `(${x.join(DOT)})${DOT}(${cout}${DOT}${a.kernel[0]}${DOT}${a.kernel[1]})`;
    lines.push(f.flops === '2xmac' ? `FLOPs = 2${DOT}${mac} = ${f.grouped(2 * f.macs)}` : `MACs = ${mac} = ${f.grouped(f.macs)}`);
    return lines;
  },
  describe(a) {
    const parts = [`convtranspose ${a.out}`, `k${pairText(a.kernel)}`];
    if (a.stride[0] !== 1 || a.stride[1] !== 1) parts.push(`s${pairText(a.stride)}`);
    if (a.padding[0] || a.padding[1]) parts.push(`p${pairText(a.padding)}`);
    if (a.outputPadding[0] || a.outputPadding[1]) parts.push(`op${pairText(a.outputPadding)}`);
    if (a.dilation[0] !== 1 || a.dilation[1] !== 1) parts.push(`d${pairText(a.dilation)}`);
    if (a.groups !== 1) parts.push(`g${a.groups}`);
    return parts.join(' ');
  },
};
