/** `lrn`: local response normalisation across channels, as torch.nn.LocalResponseNorm. */
import { numel, type LayerDef } from './types';
import { needSpatial } from './window';

export interface LrnAttrs {
  kind: 'lrn';
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

export const lrn: LayerDef<LrnAttrs> = {
  kind: 'lrn',
  family: 'norm',
  spec: {
    keyword: 'lrn',
    aliases: [],
    args: [
      { name: 'size', aliases: [], type: 'int', default: '5', positional: true, doc: 'channels in the window' },
      { name: 'alpha', aliases: [], type: 'number', default: '1e-4', doc: 'scale' },
      { name: 'beta', aliases: [], type: 'number', default: '0.75', doc: 'exponent' },
      { name: 'k', aliases: [], type: 'number', default: '2', doc: 'additive constant' },
    ],
    doc: 'Local response normalisation across channels, as `torch.nn.LocalResponseNorm`.',
    output: 'same as input',
  },
  build: (args) => ({ kind: 'lrn', size: args.num('size', 5), alpha: args.num('alpha', 1e-4), beta: args.num('beta', 0.75), k: args.num('k', 2) }),
  shape: (_a, [x], ctx) => (needSpatial('lrn', x, ctx) ? x : null),
  // The window's squares and sums, then scale, shift, power and divide.
  ops: (a, _x, y) => numel(y) * (a.size + 3),
  field: () => 'pointwise',
};
