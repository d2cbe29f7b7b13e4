/** `maxpool`: max pooling, as torch.nn.MaxPool2d. */
import { POOL_ARGS, buildPoolWindow, describePool, poolField, poolFormulas, poolOps, poolShape, poolSuggestions, type PoolWindow } from './pool-window';
import type { LayerDef } from './types';

export interface MaxPoolAttrs extends PoolWindow {
  kind: 'maxpool';
}

export const maxpool: LayerDef<MaxPoolAttrs> = {
  kind: 'maxpool',
  family: 'pool',
  spec: { keyword: 'maxpool', aliases: [], args: POOL_ARGS, doc: 'Max pooling, as `torch.nn.MaxPool2d`.', output: "C x H' x W'" },
  build(args) {
    const w = buildPoolWindow('maxpool', args);
    return w && { kind: 'maxpool', ...w };
  },
  shape: (a, [x], ctx) => poolShape('maxpool', a, x, ctx),
  ops: poolOps,
  field: poolField,
  fieldFromAttrs: true,
  formulas: poolFormulas,
  describe: (a) => describePool('maxpool', a),
  suggest: poolSuggestions,
};
