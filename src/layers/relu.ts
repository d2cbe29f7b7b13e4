/** `relu`: max(x, 0). */
import { activation } from './pointwise';

export interface ReluAttrs {
  kind: 'relu';
}

export const relu = activation<ReluAttrs>('relu', 'max(x, 0)', () => ({ kind: 'relu' }));
