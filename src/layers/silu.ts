/** `silu` (alias `swish`): x · sigmoid(x), as torch.nn.SiLU (EfficientNet). */
import { activation } from './pointwise';

export interface SiluAttrs {
  kind: 'silu';
}

export const silu = activation<SiluAttrs>('silu', 'x · sigmoid(x) = x / (1 + e^-x), as torch.nn.SiLU', () => ({ kind: 'silu' }), {
  aliases: ['swish'],
  // The sigmoid, then its product with x.
  ops: 2,
  formula: () => 'silu(x) = x·σ(x) = x/(1 + e^−x)',
});
