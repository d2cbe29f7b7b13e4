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
    const rows = adaptiveWindows(x[1], a.size[0]).reduce((s, w) => s + w.end - w.start, 0);
    const cols = adaptiveWindows(x[2], a.size[1]).reduce((s, w) => s + w.end - w.start, 0);
    return x[0] * rows * cols;
  },
  field(a, x) {
    if (!x || x.length !== 3) return null;
    const widest = (size: number, out: number) => Math.max(...adaptiveWindows(size, out).map((w) => w.end - w.start));
    return {
      size: [widest(x[1], a.size[0]), widest(x[2], a.size[1])],
      stride: [Math.max(1, Math.floor(x[1] / a.size[0])), Math.max(1, Math.floor(x[2] / a.size[1]))],
      padding: [0, 0],
    };
  },
  describe: (a) => `adaptiveavgpool ${pairText(a.size)}`,
};
