/** `softmax`: over channels (or the features of a flat tensor), as torch.nn.Softmax(dim=1). */
import { numel, type LayerDef } from './types';

export interface SoftmaxAttrs {
  kind: 'softmax';
}

export const softmax: LayerDef<SoftmaxAttrs> = {
  kind: 'softmax',
  family: 'act',
  spec: { keyword: 'softmax', aliases: [], args: [], doc: 'softmax over channels (or features of a flat tensor)', output: 'same as input' },
  build: () => ({ kind: 'softmax' }),
  shape: (_a, [x]) => x,
  // The exponential, the sum and the division.
  ops: (_a, _x, y) => 3 * numel(y),
  field: () => 'pointwise',
  probabilities: true,
};
