/**
 * The product that `mul { branch ... }` makes: element-wise, where a C×1×1 branch scales every
 * position of a C×H×W one (squeeze-and-excitation's gate, `x * gate` in PyTorch).
 */
import { formatShape, numel, type LayerDef, type Shape } from './types';

export interface MulAttrs {
  kind: 'mul';
}

function equal(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The output: the one full shape every input equals, or broadcasts to as C×1×1. */
export function mulShape(inputs: readonly Shape[]): Shape | undefined {
  const full = inputs.find((s) => !(s.length === 3 && s[1] === 1 && s[2] === 1)) ?? inputs[0];
  const fits = (s: Shape) => equal(s, full) || (full.length === 3 && s.length === 3 && s[0] === full[0] && s[1] === 1 && s[2] === 1);
  return inputs.every(fits) ? full : undefined;
}

export const mul: LayerDef<MulAttrs> = {
  kind: 'mul',
  family: 'merge',
  merge: true,
  shape(_a, inputs, ctx) {
    const out = mulShape(inputs);
    if (out) return out;
    ctx.report({
      code: 'shape-mismatch',
      severity: 'error',
      message: `mul: the branches give ${inputs.map(formatShape).join(', ')}; each must match the others, or be C×1×1 (a gate) with the same C`,
    });
    return inputs[0];
  },
  ops: (_a, inputs, y) => numel(y) * Math.max(0, inputs.length - 1),
  field: () => 'pointwise',
};
