/** `hardswish`: x · min(max(x + 3, 0), 6) / 6, as torch.nn.Hardswish (MobileNetV3). */
import { activation } from './pointwise';

export interface HardswishAttrs {
  kind: 'hardswish';
}

export const hardswish = activation<HardswishAttrs>(
  'hardswish',
  'x · min(max(x + 3, 0), 6) / 6: 0 below -3, x above 3, as torch.nn.Hardswish',
  () => ({ kind: 'hardswish' }),
  // The hard sigmoid, then its product with x.
  { ops: 2, formula: () => 'hardswish(x) = x·min(max(x + 3, 0), 6)/6' },
);
