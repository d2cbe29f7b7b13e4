/** The channel concatenation that `concat { branch ... }` makes: every branch the same H x W. */
import { formatShape, type LayerDef } from './types';

export interface ConcatAttrs {
  kind: 'concat';
}

export const concat: LayerDef<ConcatAttrs> = {
  kind: 'concat',
  family: 'merge',
  merge: true,
  shape(_a, inputs, ctx) {
    const first = inputs[0];
    if (inputs.every((s) => s.length === 1)) return [inputs.reduce((a, s) => a + s[0], 0)];
    const ok = inputs.every((s) => s.length === 3 && s[1] === first[1] && s[2] === first[2]);
    if (!ok) {
      ctx.report({
        code: 'spatial-mismatch',
        severity: 'error',
        message: `concat: every branch must give the same H×W, but they give ${inputs.map(formatShape).join(', ')}`,
      });
      if (first.length !== 3) return null;
    }
    return [inputs.reduce((a, s) => a + (s.length === 3 ? s[0] : 0), 0), first[1], first[2]];
  },
  field: () => 'pointwise',
  fusion: { concatenates: true },
};
