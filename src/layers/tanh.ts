/** `tanh`: hyperbolic tangent. */
import { activation } from './pointwise';

export interface TanhAttrs {
  kind: 'tanh';
}

export const tanh = activation<TanhAttrs>('tanh', 'hyperbolic tangent', () => ({ kind: 'tanh' }));
