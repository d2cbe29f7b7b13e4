/** The sum that `residual` and `add { branch ... }` make: element-wise, all shapes equal. */
import { bn } from './bn';
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
  suggest(_a, site) {
    // A residual whose shortcut is the identity: project it, a 1×1 conv (strided where the body
    // downsamples) and a batch norm, as torchvision's `downsample`, in the block's own terms:
    // one fix for every call whose shapes differ.
    if (!site.residual || site.shortcut || !site.problems.some((p) => p.code === 'channel-mismatch' || p.code === 'shape-mismatch')) return [];
    const channels: number[] = [];
    const strides: number[] = [];
    for (const { inputs: [body, proj] } of site.each) {
      if (!body || !proj || body.length !== 3 || proj.length !== 3) return [];
      const s = Math.max(1, Math.round(proj[1] / body[1]));
      // A 1×1 window of stride s gives ⌊(H − 1)/s⌋ + 1: it must land on the body's size.
      if ([1, 2].some((i) => Math.floor((proj[i] - 1) / s) + 1 !== body[i])) return [];
      channels.push(body[0]);
      strides.push(s);
    }
    if (!channels.length) return [];
    const stride = strides.some((s) => s > 1) ? ` s=${site.express(strides, 's')}` : '';
    const conv = `conv ${site.express(channels, 'out')} k=1${stride} bias=false`;
    const gives = formatShape(site.each[0].inputs[0]);
    return [{ title: `Project the shortcut: '${conv}; ${bn.spec!.keyword}' (gives ${gives})`, fixes: ['channel-mismatch', 'shape-mismatch'], preferred: true, edit: { shortcut: [conv, bn.spec!.keyword] } }];
  },
  ops: (_a, inputs, y) => numel(y) * Math.max(0, inputs.length - 1),
  field: () => 'pointwise',
  fusion: { sums: true, takesActivation: true },
};
