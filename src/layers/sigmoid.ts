/** `sigmoid`: 1 / (1 + e^-x). */
import { activation } from './pointwise';

export interface SigmoidAttrs {
  kind: 'sigmoid';
}

export const sigmoid = activation<SigmoidAttrs>('sigmoid', '1 / (1 + e^-x)', () => ({ kind: 'sigmoid' }));
