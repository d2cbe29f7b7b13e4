/** `conv C`: 2-D convolution, as torch.nn.Conv2d. */
import { convSuggestions, largestCommonDivisorAtMost } from './conv-suggest';
import { padArg, paddingOf, sameNeedsOddKernel } from './padding';
import { ONE, ZERO, pairText, type LayerDef, type TensorSpec, type Pair } from './types';
import { effectiveKernel, needSpatial, sizeFormulas, windowedShape } from './window';

export interface ConvAttrs {
  kind: 'conv';
  out: number;
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
  bias: boolean;
}

const DOT = '·';

export const conv: LayerDef<ConvAttrs> = {
  kind: 'conv',
  family: 'conv',
  spec: {
    keyword: 'conv',
    aliases: ['conv2d'],
    args: [
      { name: 'out', aliases: ['channels', 'out_channels'], type: 'int', required: true, positional: true, doc: 'output channels' },
      { name: 'k', aliases: ['kernel', 'kernel_size'], type: 'size', required: true, positional: true, doc: 'kernel size: `3`, `1x7` or `(e1, e2)`' },
      { name: 's', aliases: ['stride'], type: 'size', default: '1', doc: 'stride' },
      padArg('zero padding per side, or `same` for `D*(K-1)/2`'),
      { name: 'd', aliases: ['dilation'], type: 'size', default: '1', doc: 'dilation: the gap between kernel taps' },
      { name: 'g', aliases: ['groups'], type: 'int', default: '1', doc: 'groups: each output channel sees `C_in/g` input channels' },
      { name: 'bias', aliases: [], type: 'bool', default: 'true', doc: 'add a learned bias per output channel' },
    ],
    doc: '2-D convolution, as `torch.nn.Conv2d`.',
    output: "C x H' x W', H' = floor((H + 2P - D(K-1) - 1)/S) + 1",
  },
  build(args) {
    const kernel = args.pair('k', ONE);
    const dilation = args.pair('d', ONE);
    if (sameNeedsOddKernel(args, kernel, dilation)) return undefined;
    return {
      kind: 'conv',
      out: args.num('out', 1),
      kernel,
      stride: args.pair('s', ONE),
      padding: paddingOf(args, kernel, dilation) ?? ZERO,
      dilation,
      groups: args.num('g', 1),
      bias: args.bool('bias', true),
    };
  },
  shape(a, [x], ctx) {
    if (!needSpatial('conv', x, ctx)) return null;
    let ok = true;
    if (x[0] % a.groups !== 0 || a.out % a.groups !== 0) {
      const g = largestCommonDivisorAtMost(x[0], a.out, a.groups);
      ctx.report({
        code: 'groups',
        severity: 'error',
        message: `groups=${a.groups} must divide both the input channels (${x[0]}) and the output channels (${a.out}); g=${g} would`,
      });
      ok = false;
    }
    return windowedShape('conv', x, a.out, a, a.dilation, false, ctx, ok, false);
  },
  params: (a, x) => a.out * (x[0] / a.groups) * a.kernel[0] * a.kernel[1] + (a.bias ? a.out : 0),
  tensors: (a, x) => {
    const t: TensorSpec[] = [{ role: 'weight', shape: [a.out, x[0] / a.groups, a.kernel[0], a.kernel[1]], kind: 'param' }];
    if (a.bias) t.push({ role: 'bias', shape: [a.out], kind: 'param' });
    return t;
  },
  macs: (a, x, y) => y[0] * y[1] * y[2] * (x[0] / a.groups) * a.kernel[0] * a.kernel[1],
  ops: (a, _x, y) => (a.bias ? y[0] * y[1] * y[2] : 0),
  fieldFromAttrs: true,
  field: (a) => ({ size: [effectiveKernel(a.kernel[0], a.dilation[0]), effectiveKernel(a.kernel[1], a.dilation[1])], stride: a.stride, padding: a.padding }),
  formulas(a, x, y, f) {
    const lines = x.length === 3 ? sizeFormulas(x, y, a, a.dilation, false) : [];
    const cin = x[0] / a.groups;
    if (a.groups > 1) lines.push(`C_in/g = ${x[0]}/${a.groups} = ${cin}`);
    lines.push(`params = ${a.out}${DOT}${cin}${DOT}${a.kernel[0]}${DOT}${a.kernel[1]}${a.bias ? ` + ${a.out}` : ''} = ${f.grouped(f.params)}`);
    const mac = `(${y.join(DOT)})${DOT}(${cin}${DOT}${a.kernel[0]}${DOT}${a.kernel[1]})`;
    lines.push(f.flops === '2xmac' ? `FLOPs = 2${DOT}${mac} = ${f.grouped(2 * f.macs)}` : `MACs = ${mac} = ${f.grouped(f.macs)}`);
    return lines;
  },
  describe(a) {
    const parts = [`conv ${a.out}`, `k${pairText(a.kernel)}`];
    if (a.stride[0] !== 1 || a.stride[1] !== 1) parts.push(`s${pairText(a.stride)}`);
    if (a.padding[0] || a.padding[1]) parts.push(`p${pairText(a.padding)}`);
    if (a.dilation[0] !== 1 || a.dilation[1] !== 1) parts.push(`d${pairText(a.dilation)}`);
    if (a.groups !== 1) parts.push(`g${a.groups}`);
    return parts.join(' ');
  },
  suggest: convSuggestions,
  fusion: { foldsBatchNorm: true, takesResidual: true, takesActivation: true },
};
