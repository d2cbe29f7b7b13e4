/** `relu6`: min(max(x, 0), 6), as torch.nn.ReLU6 (MobileNetV2). */
import { activation } from './pointwise';

export interface Relu6Attrs {
  kind: 'relu6';
}

export const relu6 = activation<Relu6Attrs>('relu6', 'min(max(x, 0), 6), as torch.nn.ReLU6', () => ({ kind: 'relu6' }), {
  formula: () => 'relu6(x) = min(max(x, 0), 6)',
});
