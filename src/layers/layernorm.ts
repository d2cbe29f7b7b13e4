/**
 * `layernorm`: layer normalisation over the channels at each position of a C×H×W input, as
 * torchvision's ConvNeXt `LayerNorm2d` (NHWC, `nn.LayerNorm(C)`, back to NCHW), or over the
 * features of a flat input, as `nn.LayerNorm(N)`.
 */
import { numel, type LayerDef } from './types';

export interface LayerNormAttrs {
  kind: 'layernorm';
  eps: number;
}

const DOT = '·';

export const layernorm: LayerDef<LayerNormAttrs> = {
  kind: 'layernorm',
  family: 'norm',
  spec: {
    keyword: 'layernorm',
    aliases: [],
    args: [{ name: 'eps', aliases: [], type: 'number', default: '1e-5', doc: 'added to the variance before the square root' }],
    doc: "Layer normalisation over the channels at each position (torchvision's `LayerNorm2d`, as in ConvNeXt), or over the features of a flat input (`nn.LayerNorm(N)`): 2·C learned parameters.",
    output: 'same as input',
  },
  build: (args) => ({ kind: 'layernorm', eps: args.num('eps', 1e-5) }),
  shape: (_a, [x]) => x,
  params: (_a, _x, y) => 2 * y[0],
  tensors: (_a, _x, y) => [
    { role: 'weight', shape: [y[0]], kind: 'param' },
    { role: 'bias', shape: [y[0]], kind: 'param' },
  ],
  // Statistics are computed at inference: see docs/analysis.md.
  ops: (_a, _x, y) => 7 * numel(y),
  field: () => 'pointwise',
  formulas: (_a, _x, y, f) => [`params = 2${DOT}${y[0]} = ${f.grouped(f.params)} (weight, bias)`],
  describe: (a) => (a.eps === 1e-5 ? 'layernorm' : `layernorm eps=${a.eps}`),
};
