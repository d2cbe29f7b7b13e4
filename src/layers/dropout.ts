/** `dropout P`: identity at inference. */
import type { LayerDef } from './types';

export interface DropoutAttrs {
  kind: 'dropout';
  p: number;
}

export const dropout: LayerDef<DropoutAttrs> = {
  kind: 'dropout',
  family: 'act',
  spec: {
    keyword: 'dropout',
    aliases: [],
    args: [{ name: 'p', aliases: [], type: 'prob', default: '0.5', positional: true, doc: 'drop probability in training; identity at inference' }],
    doc: 'Dropout: identity at inference.',
    output: 'same as input',
  },
  build: (args) => ({ kind: 'dropout', p: args.num('p', 0.5) }),
  shape: (_a, [x]) => x,
  field: () => 'pointwise',
  describe: (a) => `dropout ${a.p}`,
  fusion: { alias: true },
};
