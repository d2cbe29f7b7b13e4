/** `bn` (alias `batchnorm`): batch normalisation in inference mode, over channels or features. */
import { numel, type LayerDef } from './types';

export interface BnAttrs {
  kind: 'bn';
  eps: number;
}

const DOT = '·';

export const bn: LayerDef<BnAttrs> = {
  kind: 'bn',
  family: 'norm',
  spec: {
    keyword: 'bn',
    aliases: ['batchnorm'],
    args: [{ name: 'eps', aliases: [], type: 'number', default: '1e-5', doc: 'added to the variance before the square root' }],
    doc: 'Batch normalisation in inference mode: 2·C learned parameters, running mean and variance as buffers.',
    output: 'same as input',
  },
  build: (args) => ({ kind: 'bn', eps: args.num('eps', 1e-5) }),
  shape: (_a, [x]) => x,
  params: (_a, _x, y) => (y.length ? 2 * y[0] : -1),
  buffers: (_a, _x, y) => (y.length ? 2 * y[0] : 0),
  tensors: (_a, _x, y) => [
    { role: 'weight', shape: [y[0]], kind: 'param' },
    { role: 'bias', shape: [y[0]], kind: 'param' },
    { role: 'running_mean', shape: [y[0]], kind: 'buffer' },
    { role: 'running_var', shape: [y[0]], kind: 'buffer' },
  ],
  ops: (_a, _x, y) => 2 * numel(y),
  field: () => 'pointwise',
  formulas: (_a, _x, y, f) => [`params = 2${DOT}${y[0]} = ${f.grouped(f.params)} (weight, bias); buffers 2${DOT}${y[0]} = ${f.grouped(f.buffers)} (running mean, variance)`],
  fusion: { affine: true, takesActivation: true },
};
