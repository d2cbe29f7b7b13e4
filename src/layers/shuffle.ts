/**
 * `shuffle G`: ShuffleNet's channel shuffle: C channels viewed as G×(C/G), transposed, read back
 * (torchvision's channel_shuffle). Output channel k·G + g is input channel g·(C/G) + k.
 */
import { groupsDivide } from './channel-groups';
import type { LayerDef } from './types';

export interface ShuffleAttrs {
  kind: 'shuffle';
  groups: number;
}

export const shuffle: LayerDef<ShuffleAttrs> = {
  kind: 'shuffle',
  family: 'reshape',
  spec: {
    keyword: 'shuffle',
    aliases: [],
    args: [{ name: 'g', aliases: ['groups'], type: 'int', required: true, positional: true, doc: 'groups of channels to interleave; must divide C' }],
    doc: "ShuffleNet's channel shuffle: the channels as G groups of C/G, transposed (torchvision's `channel_shuffle`). No parameters.",
    output: 'same as input',
  },
  build: (args) => ({ kind: 'shuffle', groups: args.num('g', 1) }),
  shape(a, [x], ctx) {
    // The shape holds either way: the figures downstream stay meaningful.
    groupsDivide('shuffle', a.groups, x[0], ctx);
    return x;
  },
  field: () => 'pointwise',
  describe: (a) => `shuffle ${a.groups}`,
};
