/** The sum that `residual` and `add { branch ... }` make: element-wise, all shapes equal. */
import { bn } from './bn';
import { formatShape, numel, type LayerDef, type Shape, type Suggestion } from './types';

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
    if (!site.problems.some((p) => p.code === 'channel-mismatch' || p.code === 'shape-mismatch')) return [];
    // Input `from` made to give input `to`'s shape in every expansion whose shapes differ: a 1×1
    // conv (strided where the other side downsamples) and a batch norm, as torchvision's
    // `downsample`, written in the block's own terms.
    const projection = (from: number, to: number): string[] | undefined => {
      const channels: number[] = [];
      const strides: number[] = [];
      for (const { inputs } of site.each) {
        const [want, have] = [inputs[to], inputs[from]];
        if (!want || !have || want.length !== 3 || have.length !== 3) return undefined;
        const s = Math.max(1, Math.round(have[1] / want[1]));
        // A 1×1 window of stride s gives ⌊(H − 1)/s⌋ + 1: it must land on the other size.
        if ([1, 2].some((i) => Math.floor((have[i] - 1) / s) + 1 !== want[i])) return undefined;
        channels.push(want[0]);
        strides.push(s);
      }
      if (!channels.length) return undefined;
      const stride = strides.some((s) => s > 1) ? ` s=${site.express(strides, 's')}` : '';
      return [`conv ${site.express(channels, 'out')} k=1${stride} bias=false`, bn.spec!.keyword];
    };
    const first = site.each[0].inputs;
    if (site.residual) {
      // The shortcut, when it is the identity: one with statements of its own is the user's.
      const lines = site.shortcut ? undefined : projection(1, 0);
      if (!lines) return [];
      return [{ title: `Project the shortcut: '${lines.join('; ')}' (gives ${formatShape(first[0])})`, fixes: ['channel-mismatch', 'shape-mismatch'], preferred: true, edit: { shortcut: lines } }];
    }
    // add { branch ... }: each branch that differs from the first, made to give the first's shape.
    const out: Suggestion[] = [];
    for (let j = 1; j < first.length; j++) {
      if (equal(first[j], first[0])) continue;
      const lines = projection(j, 0);
      if (lines) out.push({ title: `Project branch ${j + 1} to the first's ${formatShape(first[0])}: append '${lines.join('; ')}'`, fixes: ['channel-mismatch', 'shape-mismatch'], preferred: first.length === 2, edit: { append: [j, lines] } });
      // Of two, the first may be the one to project (a strided conv only downsamples).
      const back = first.length === 2 && !lines ? projection(0, 1) : undefined;
      if (back) out.push({ title: `Project branch 1 to the second's ${formatShape(first[1])}: append '${back.join('; ')}'`, fixes: ['channel-mismatch', 'shape-mismatch'], preferred: true, edit: { append: [0, back] } });
    }
    return out;
  },
  ops: (_a, inputs, y) => numel(y) * Math.max(0, inputs.length - 1),
  field: () => 'pointwise',
  fusion: { sums: true, takesActivation: true },
};
