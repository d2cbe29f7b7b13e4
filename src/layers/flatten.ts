/** `flatten`: C x H x W to C·H·W, as torch.nn.Flatten(1). */
import { numel, type LayerDef } from './types';

export interface FlattenAttrs {
  kind: 'flatten';
}

export const flatten: LayerDef<FlattenAttrs> = {
  kind: 'flatten',
  family: 'act',
  spec: { keyword: 'flatten', aliases: [], args: [], doc: 'C x H x W -> C·H·W', output: 'C·H·W' },
  build: () => ({ kind: 'flatten' }),
  shape: (_a, [x]) => [numel(x)],
  field: () => null,
  fusion: { alias: true },
};
