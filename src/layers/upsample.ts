/** `upsample 2`, `upsample size=HxW mode=bilinear`: nearest or bilinear resizing, as torch.nn.Upsample. */
import { MAX_DIM, grouped } from './limits';
import { resamplingField, resizeResampling, type ResizeDim } from './resampling';
import { numel, pairText, type LayerDef, type Pair, type Resampling, type Shape } from './types';
import { needSpatial } from './window';

export type UpsampleMode = 'nearest' | 'bilinear';

export interface UpsampleAttrs {
  kind: 'upsample';
  mode: UpsampleMode;
  /** The integer factor per dimension, or null for a resize to `size`. */
  scale: Pair | null;
  size: Pair | null;
  alignCorners: boolean;
}

/** The output size of each dimension. */
export function upsampledSize(a: UpsampleAttrs, x: Shape): Pair {
  return a.scale ? [x[1] * a.scale[0], x[2] * a.scale[1]] : a.size!;
}

/** Both dimensions of the resize, from an image input. */
export function resizeDims(a: UpsampleAttrs, x: Shape): [ResizeDim, ResizeDim] {
  const out = upsampledSize(a, x);
  return [0, 1].map((i) => ({ in: x[i + 1], out: out[i], factor: a.scale?.[i], alignCorners: a.alignCorners })) as [ResizeDim, ResizeDim];
}

const DOT = '·';

export const upsample: LayerDef<UpsampleAttrs> = {
  kind: 'upsample',
  family: 'pool',
  spec: {
    keyword: 'upsample',
    aliases: [],
    args: [
      { name: 'scale', aliases: ['scale_factor', 'factor'], type: 'size', positional: true, doc: 'integer factor: `2`, or `2x3` for height x width (or give `size`)' },
      { name: 'size', aliases: ['output_size'], type: 'size', doc: 'output `HxW`, instead of a factor' },
      { name: 'mode', aliases: [], type: 'choice', choices: ['nearest', 'bilinear'], default: 'nearest', doc: '`nearest` (PyTorch\'s: source pixel `floor(o·H/H\')`) or `bilinear`' },
      {
        name: 'align_corners',
        aliases: ['align'],
        type: 'bool',
        default: 'false',
        doc: 'bilinear only: corner pixels of input and output align (source `o·(H−1)/(H\'−1)`); false: pixel centres scale (`(o + 0.5)·H/H\' − 0.5`)',
      },
    ],
    doc: 'Upsampling by an integer factor or to a size, nearest or bilinear, as `torch.nn.Upsample`.',
    output: "C x H' x W', H' = H·scale or the size",
  },
  build(args) {
    const mode = (args.get('mode') as UpsampleMode | undefined) ?? 'nearest';
    const scale = (args.get('scale') as Pair | undefined) ?? null;
    const size = (args.get('size') as Pair | undefined) ?? null;
    if (!scale && !size) {
      args.error('scale', 'missing-argument', "upsample needs a factor or a size, as in 'upsample 2' or 'upsample size=14x14'");
      return undefined;
    }
    if (scale && size) {
      args.error('size', 'argument-value', 'upsample takes a factor or a size, not both (PyTorch refuses both)');
      return undefined;
    }
    if (mode === 'nearest' && args.written('align_corners')) {
      args.error('align_corners', 'argument-value', 'align_corners is for mode=bilinear: PyTorch refuses it with nearest');
      return undefined;
    }
    return { kind: 'upsample', mode, scale, size, alignCorners: args.bool('align_corners', false) };
  },
  shape(a, [x], ctx) {
    if (!needSpatial('upsample', x, ctx)) return null;
    const [h, w] = upsampledSize(a, x);
    if (Math.max(h, w) > MAX_DIM) {
      ctx.report({ code: 'too-large', severity: 'error', message: `upsample output ${h}×${w} is past the largest size the analysis takes (${grouped(MAX_DIM)})` });
      return null;
    }
    return [x[0], h, w];
  },
  // fvcore's count: one per output value for nearest (a copy), four for bilinear (its taps).
  ops: (a, _x, y) => numel(y) * (a.mode === 'bilinear' ? 4 : 1),
  resampling(a, x) {
    const [h, w] = resizeDims(a, x);
    return [resizeResampling(h, a.mode), resizeResampling(w, a.mode)] as [Resampling, Resampling];
  },
  field(a, x) {
    if (!x || x.length !== 3) return null;
    return resamplingField(upsample.resampling!(a, x));
  },
  formulas(a, x, y) {
    const lines: string[] = [];
    if (a.scale) {
      const h = `${x[1]}${DOT}${a.scale[0]} = ${y[1]}`;
      const w = `${x[2]}${DOT}${a.scale[1]} = ${y[2]}`;
      lines.push(h === w ? `H' = W' = ${h}` : `H' = ${h}, W' = ${w}`);
    } else {
      lines.push(`H' × W' = ${y[1]}×${y[2]} (size)`);
    }
    const ratio = (i: 1 | 2) => (a.scale ? `1/${a.scale[i - 1]}` : `${x[i]}/${y[i]}`);
    const src =
      a.mode === 'nearest'
        ? (i: 1 | 2) => `⌊o${DOT}${ratio(i)}⌋`
        : a.alignCorners
          ? (i: 1 | 2) => `o${DOT}(${x[i]} − 1)/(${y[i]} − 1)`
          : (i: 1 | 2) => `(o + 0.5)${DOT}${ratio(i)} − 0.5`;
    lines.push(src(1) === src(2) ? `source pixel = ${src(1)}` : `source row = ${src(1)}, column = ${src(2)}`);
    return lines;
  },
  describe(a) {
    const parts = ['upsample', a.scale ? pairText(a.scale) : `size ${pairText(a.size!)}`];
    if (a.mode !== 'nearest') parts.push(a.mode);
    if (a.alignCorners) parts.push('align_corners');
    return parts.join(' ');
  },
};
