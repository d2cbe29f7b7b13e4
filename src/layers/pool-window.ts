/** What max and average pooling share: arguments, the padding rule, shapes, fields and formulas. */
import { padArg, paddingOf, sameNeedsOddKernel } from './padding';
import { ONE, ZERO, pairText, type ArgSpec, type BoundArgs, type FormulaContext, type Pair, type ReceptiveField, type Shape, type ShapeContext, type SuggestSite, type Suggestion } from './types';
import { dropsRows, paddingWhere } from './suggest';
import { needSpatial, sizeFormulas, windowOut, windowedShape } from './window';

export interface PoolWindow {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  ceil: boolean;
}

export const POOL_ARGS: ArgSpec[] = [
  { name: 'k', aliases: ['kernel', 'kernel_size'], type: 'size', required: true, positional: true, doc: 'kernel size: `3`, `1x7` or `(e1, e2)`' },
  { name: 's', aliases: ['stride'], type: 'size', default: 'k', doc: 'stride; defaults to the kernel' },
  padArg('implicit padding per side (at most half the kernel), or `same` for `(K-1)/2`'),
  { name: 'ceil', aliases: ['ceil_mode'], type: 'bool', default: 'false', doc: 'round the output size up (the last window must start inside the input or left padding)' },
];

/** The window of a pool statement; undefined (reported at `p`) where PyTorch would refuse the padding. */
export function buildPoolWindow(kind: string, args: BoundArgs): PoolWindow | undefined {
  const kernel = args.pair('k', ONE);
  if (sameNeedsOddKernel(args, kernel, ONE)) return undefined;
  const padding = paddingOf(args, kernel, ONE) ?? ZERO;
  if (args.written('p') && (padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1])) {
    args.error('p', 'argument-value', `${kind} padding ${padding.join('x')} is more than half the kernel ${kernel.join('x')}: PyTorch refuses it; use p <= k/2`);
    return undefined;
  }
  return { kernel, stride: args.pair('s', kernel), padding, ceil: args.bool('ceil', false) };
}

export function poolShape(kind: string, a: PoolWindow, x: Shape, ctx: ShapeContext): Shape | null {
  if (!needSpatial(kind, x, ctx)) return null;
  return windowedShape(kind, x, x[0], a, ONE, a.ceil, ctx);
}

export const poolOps = (a: PoolWindow, _x: readonly (Shape | null)[], y: Shape) => y[0] * y[1] * y[2] * a.kernel[0] * a.kernel[1];

export const poolField = (a: PoolWindow): ReceptiveField => ({ size: a.kernel, stride: a.stride, padding: a.padding });

export const poolFormulas = (a: PoolWindow, x: Shape, y: Shape, _f: FormulaContext) => sizeFormulas(x, y, a, ONE, a.ceil);

export function describePool(kind: string, a: PoolWindow): string {
  const parts = [kind, `k${pairText(a.kernel)}`];
  if (a.stride[0] !== a.kernel[0] || a.stride[1] !== a.kernel[1]) parts.push(`s${pairText(a.stride)}`);
  if (a.padding[0] || a.padding[1]) parts.push(`p${pairText(a.padding)}`);
  if (a.ceil) parts.push('ceil');
  return parts.join(' ');
}

/**
 * The stride-drop warning's two remedies, as it words them: `ceil=true` (one more window, which
 * PyTorch keeps where it starts inside the input), and the least padding, within PyTorch's
 * half-the-kernel limit, with which every row is seen. Both only where they leave nothing unseen.
 */
export function poolSuggestions(a: PoolWindow, site: SuggestSite): Suggestion[] {
  const x = site.inputs[0];
  if (!x || x.length !== 3 || !site.problems.some((p) => p.code === 'stride-drops')) return [];
  const out: Suggestion[] = [];
  if (!a.ceil && !dropsRows(x, a.kernel, a.stride, a.padding, ONE, true)) {
    const [h, w] = poolOutput(x, a, true, a.padding);
    out.push({ title: `Set ceil=true (output ${h}×${w}: every input row is seen)`, fixes: ['stride-drops'], preferred: true, edit: { set: [['ceil', 'true']] } });
  }
  const pad = [0, 1].map((i) => paddingWhere(x[i + 1], a.kernel[i], a.stride[i], 1, a.ceil, a.padding[i], Math.floor(a.kernel[i] / 2), (_o, dropped) => dropped === 0));
  if (pad[0] !== undefined && pad[1] !== undefined && (pad[0] !== a.padding[0] || pad[1] !== a.padding[1])) {
    const [h, w] = poolOutput(x, a, a.ceil, pad as number[]);
    out.push({ title: `Set p=${pairText(pad as number[])} (output ${h}×${w}: every input row is seen)`, fixes: ['stride-drops'], preferred: out.length === 0, edit: { set: [['p', pairText(pad as number[])]] } });
  }
  return out;
}

function poolOutput(x: Shape, a: PoolWindow, ceil: boolean, p: readonly number[]): number[] {
  return [0, 1].map((i) => windowOut(x[i + 1], a.kernel[i], a.stride[i], p[i], 1, ceil));
}
