/** `groupnorm G`: group normalisation, as torch.nn.GroupNorm(G, C) with its affine weight and bias. */
import { groupsDivide } from './channel-groups';
import { numel, type LayerDef } from './types';

export interface GroupNormAttrs {
  kind: 'groupnorm';
  groups: number;
  eps: number;
}

const DOT = '·';

export const groupnorm: LayerDef<GroupNormAttrs> = {
  kind: 'groupnorm',
  family: 'norm',
  spec: {
    keyword: 'groupnorm',
    aliases: [],
    args: [
      { name: 'g', aliases: ['groups', 'num_groups'], type: 'int', required: true, positional: true, doc: 'groups of channels, each normalised over its channels and positions; must divide C' },
      { name: 'eps', aliases: [], type: 'number', default: '1e-5', doc: 'added to the variance before the square root' },
    ],
    doc: 'Group normalisation, as `torch.nn.GroupNorm(G, C)`: 2·C learned parameters.',
    output: 'same as input',
  },
  build: (args) => ({ kind: 'groupnorm', groups: args.num('g', 1), eps: args.num('eps', 1e-5) }),
  shape(a, [x], ctx) {
    // The shape holds either way: the figures downstream stay meaningful.
    groupsDivide('groupnorm', a.groups, x[0], ctx);
    return x;
  },
  params: (_a, _x, y) => 2 * y[0],
  tensors: (_a, _x, y) => [
    { role: 'weight', shape: [y[0]], kind: 'param' },
    { role: 'bias', shape: [y[0]], kind: 'param' },
  ],
  ops: (_a, _x, y) => 7 * numel(y),
  field: () => 'pointwise',
  formulas: (a, _x, y, f) => [`C/G = ${y[0]}/${a.groups} = ${y[0] / a.groups} channels per group`, `params = 2${DOT}${y[0]} = ${f.grouped(f.params)} (weight, bias)`],
  describe: (a) => `groupnorm ${a.groups}${a.eps === 1e-5 ? '' : ` eps=${a.eps}`}`,
};
