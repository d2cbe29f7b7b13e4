/** `adaptiveavgpool HxW`: PyTorch's AdaptiveAvgPool2d. */
import { ONE, pairText, type LayerDef, type Pair } from './types';
import { needSpatial } from './window';

export interface AdaptiveAvgPoolAttrs {
  kind: 'adaptiveavgpool';
  size: Pair;
}

/** Sizes of PyTorch's adaptive pooling windows along one dimension. */
export function adaptiveWindows(size: number, out: number): { start: number; end: number }[] {
  const w: { start: number; end: number }[] = [];
  for (let i = 0; i < out; i++) w.push({ start: Math.floor((i * size) / out), end: Math.ceil(((i + 1) * size) / out) });
  return w;
}

/** The sum and the largest of the window sizes along one dimension, without making the windows (`out` may be millions). */
function windowSizes(size: number, out: number): { sum: number; widest: number } {
  let sum = 0;
  let widest = 0;
  for (let i = 0; i < out; i++) {
    const n = Math.ceil(((i + 1) * size) / out) - Math.floor((i * size) / out);
    sum += n;
    if (n > widest) widest = n;
  }
  return { sum, widest };
}

export const adaptiveavgpool: LayerDef<AdaptiveAvgPoolAttrs> = {
  kind: 'adaptiveavgpool',
  family: 'pool',
  spec: {
    keyword: 'adaptiveavgpool',
    aliases: [],
    args: [{ name: 'size', aliases: ['output_size'], type: 'size', required: true, positional: true, doc: 'output `HxW`' }],
    doc: "PyTorch's AdaptiveAvgPool2d: windows from floor(i·H/h) to ceil((i+1)·H/h).",
    output: 'C x H x W',
  },
  build: (args) => ({ kind: 'adaptiveavgpool', size: args.pair('size', ONE) }),
  shape: (a, [x], ctx) => (needSpatial('adaptiveavgpool', x, ctx) ? [x[0], a.size[0], a.size[1]] : null),
  ops(a, [x]) {
    if (!x || x.length !== 3) return 0;
    return x[0] * windowSizes(x[1], a.size[0]).sum * windowSizes(x[2], a.size[1]).sum;
  },
  field(a, x) {
    if (!x || x.length !== 3) return null;
    return {
      size: [windowSizes(x[1], a.size[0]).widest, windowSizes(x[2], a.size[1]).widest],
      stride: [Math.max(1, Math.floor(x[1] / a.size[0])), Math.max(1, Math.floor(x[2] / a.size[1]))],
      padding: [0, 0],
    };
  },
  describe: (a) => `adaptiveavgpool ${pairText(a.size)}`,
};
