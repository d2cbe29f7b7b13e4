/** The sum that `residual` and `add { branch ... }` make: element-wise, all shapes equal. */
import { formatShape, numel, type LayerDef, type Shape } from './types';

export interface AddAttrs {
  kind: 'add';
}

function equal(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const add: LayerDef<AddAttrs> = {
  kind: 'add',
  family: 'merge',
  merge: true,
  shape(_a, inputs, ctx) {
    const first = inputs[0];
    if (inputs.every((s) => equal(s, first))) return first;
    const channelsOnly = inputs.every((s) => s.length === first.length && s.slice(1).every((d, i) => d === first[i + 1]));
    const code = channelsOnly ? 'channel-mismatch' : 'shape-mismatch';
    if (ctx.residual) {
      const [body, proj] = inputs;
      const fix =
        body.length === 3 && proj.length === 3
          ? `: project the shortcut, as in 'shortcut { conv ${body[0]} k=1${proj[1] !== body[1] ? ` s=${Math.max(1, Math.round(proj[1] / body[1]))}` : ''} bias=false; bn }'`
          : '';
      ctx.report({
        code,
        severity: 'error',
        message: `residual: the body gives ${formatShape(body)} but the shortcut gives ${formatShape(proj)}; they must match to be added${fix}`,
      });
    } else {
      ctx.report({ code, severity: 'error', message: `add: the branches give ${inputs.map(formatShape).join(', ')}; they must all match to be added` });
    }
    return first;
  },
  ops: (_a, inputs, y) => numel(y) * Math.max(0, inputs.length - 1),
  field: () => 'pointwise',
  fusion: { sums: true, takesActivation: true },
};
