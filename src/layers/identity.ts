/** `identity`: its input unchanged, as torch.nn.Identity (a placeholder where a block leaves a layer out). */
import type { LayerDef } from './types';

export interface IdentityAttrs {
  kind: 'identity';
}

export const identity: LayerDef<IdentityAttrs> = {
  kind: 'identity',
  family: 'act',
  spec: { keyword: 'identity', aliases: [], args: [], doc: 'The identity: its input unchanged, as torch.nn.Identity.', output: 'same as input' },
  build: () => ({ kind: 'identity' }),
  shape: (_a, [x]) => x,
  field: () => 'pointwise',
  // The engines read the input's buffer: no step, no copy.
  fusion: { alias: true },
};
