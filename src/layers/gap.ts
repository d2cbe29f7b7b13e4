/** `gap` (alias `globalavgpool`): global average pool to C x 1 x 1. */
import { numel, type LayerDef } from './types';
import { needSpatial } from './window';

export interface GapAttrs {
  kind: 'gap';
}

export const gap: LayerDef<GapAttrs> = {
  kind: 'gap',
  family: 'pool',
  spec: { keyword: 'gap', aliases: ['globalavgpool'], args: [], doc: 'Global average pool.', output: 'C x 1 x 1' },
  build: () => ({ kind: 'gap' }),
  shape: (_a, [x], ctx) => (needSpatial('gap', x, ctx) ? [x[0], 1, 1] : null),
  ops: (_a, [x]) => (x ? numel(x) : 0),
  field: (_a, x) => (x && x.length === 3 ? { size: [x[1], x[2]], stride: [x[1], x[2]], padding: [0, 0] } : null),
};
