/** `hardsigmoid`: min(max(x + 3, 0), 6) / 6, as torch.nn.Hardsigmoid (MobileNetV3's squeeze-excitation gate). */
import { activation } from './pointwise';

export interface HardsigmoidAttrs {
  kind: 'hardsigmoid';
}

export const hardsigmoid = activation<HardsigmoidAttrs>(
  'hardsigmoid',
  'min(max(x + 3, 0), 6) / 6: 0 below -3, 1 above 3, as torch.nn.Hardsigmoid',
  () => ({ kind: 'hardsigmoid' }),
  { formula: () => 'hardsigmoid(x) = min(max(x + 3, 0), 6)/6' },
);
