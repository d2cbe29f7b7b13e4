/** `avgpool`: average pooling, as torch.nn.AvgPool2d (padding counts in the average). */
import { POOL_ARGS, buildPoolWindow, describePool, poolField, poolFormulas, poolOps, poolShape, poolSuggestions, type PoolWindow } from './pool-window';
import type { LayerDef } from './types';

export interface AvgPoolAttrs extends PoolWindow {
  kind: 'avgpool';
}

export const avgpool: LayerDef<AvgPoolAttrs> = {
  kind: 'avgpool',
  family: 'pool',
  spec: {
    keyword: 'avgpool',
    aliases: [],
    args: POOL_ARGS,
    doc: 'Average pooling, as `torch.nn.AvgPool2d` (padding counts in the average).',
    output: "C x H' x W'",
  },
  build(args) {
    const w = buildPoolWindow('avgpool', args);
    return w && { kind: 'avgpool', ...w };
  },
  shape: (a, [x], ctx) => poolShape('avgpool', a, x, ctx),
  ops: poolOps,
  field: poolField,
  fieldFromAttrs: true,
  formulas: poolFormulas,
  describe: (a) => describePool('avgpool', a),
  suggest: poolSuggestions,
};
