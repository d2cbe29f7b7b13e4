/** `input CxHxW` or `input N`: the network input; the batch is a run setting. */
import type { LayerDef } from './types';

export interface InputAttrs {
  kind: 'input';
  shape: number[];
}

export const input: LayerDef<InputAttrs> = {
  kind: 'input',
  family: 'input',
  spec: {
    keyword: 'input',
    aliases: [],
    args: [{ name: 'shape', aliases: [], type: 'shape', required: true, positional: true, doc: '`CxHxW` for images, `N` for a flat input' }],
    doc: 'The network input. The batch is a run setting, not part of the shape.',
    output: 'the given shape',
  },
  build: (args) => ({ kind: 'input', shape: args.get('shape') as number[] }),
  shape: (a) => a.shape,
  field: (_a, x) => (x && x.length === 3 ? 'pointwise' : null),
  describe: (a) => `input ${a.shape.join('x')}`,
};
