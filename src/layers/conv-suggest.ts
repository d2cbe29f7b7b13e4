/**
 * What the editor offers at a `conv` statement (its `suggest` hook): the padding that keeps
 * the size (⌈input/stride⌉), a `groups` value that divides both channel counts, and the seed's
 * 5×5/7×7 → stacked 3×3 convolutions with the same receptive field.
 */
import type { DiagnosticCode } from '../language/diagnostics';
import { relu } from './relu';
import { paddingWhere } from './suggest';
import { pairText, type Pair, type Shape, type SuggestSite, type Suggestion } from './types';
import { windowOut } from './window';

/** A conv's attributes, as its module defines them (named here apart: conv.ts imports this file). */
interface ConvAttrs {
  out: number;
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
  bias: boolean;
}

/** The problems a padding change fixes at a conv. */
const PADDING_FIXES: DiagnosticCode[] = ['output-too-small', 'stride-drops'];

export function largestCommonDivisorAtMost(a: number, b: number, limit: number): number {
  for (let g = Math.min(limit, a, b); g > 1; g--) if (a % g === 0 && b % g === 0) return g;
  return 1;
}

function paddingSuggestion(a: ConvAttrs, x: Shape, y: Shape | null, site: SuggestSite): Suggestion | undefined {
  const want = [Math.ceil(x[1] / a.stride[0]), Math.ceil(x[2] / a.stride[1])];
  if (y && y[1] === want[0] && y[2] === want[1]) return undefined;
  const fixes = PADDING_FIXES.filter((c) => site.problems.some((p) => p.code === c));
  let value: string;
  const stride1 = a.stride[0] === 1 && a.stride[1] === 1;
  const even = [0, 1].every((i) => (a.dilation[i] * (a.kernel[i] - 1)) % 2 === 0);
  if (stride1 && even) value = 'same';
  else {
    const pad = [0, 1].map((i) => {
      const search = (ok: (out: number, dropped: number) => boolean) => paddingWhere(x[i + 1], a.kernel[i], a.stride[i], a.dilation[i], false, 0, a.kernel[i] * a.dilation[i], ok);
      return search((out, dropped) => out === want[i] && dropped === 0) ?? search((out) => out === want[i]);
    });
    if (pad[0] === undefined || pad[1] === undefined) return undefined;
    if (pad[0] === a.padding[0] && pad[1] === a.padding[1]) return undefined;
    value = pairText(pad as number[]);
  }
  const keeps = `${want[0]}×${want[1]}`;
  return {
    title: value === 'same' ? `Set p=same (keeps ${keeps})` : `Set p=${value} (gives ${keeps} = ⌈input/stride⌉)`,
    fixes: fixes.length ? fixes : undefined,
    preferred: fixes.length > 0,
    edit: { set: [['p', value]] },
  };
}

/** The seed's argument: two 3×3 convs see 5×5, three see 7×7, with fewer weights and a ReLU between. */
function stackSuggestion(a: ConvAttrs, x: Shape, y: Shape, site: SuggestSite): Suggestion | undefined {
  const k = a.kernel[0];
  if (a.kernel[1] !== k || (k !== 5 && k !== 7) || a.dilation[0] !== 1 || a.dilation[1] !== 1 || a.groups !== 1) return undefined;
  if (a.stride[0] !== a.stride[1] || a.padding[0] !== a.padding[1]) return undefined;
  const n = (k - 1) / 2;
  const P = a.padding[0];
  const pads = Array.from({ length: n }, (_, i) => Math.floor(P / n) + (i < P % n ? 1 : 0));
  let h = x[1];
  let w = x[2];
  let cin = x[0];
  let p2 = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const s = i === n - 1 ? a.stride[0] : 1;
    h = windowOut(h, 3, s, pads[i], 1, false);
    w = windowOut(w, 3, s, pads[i], 1, false);
    if (h < 1 || w < 1) return undefined;
    p2 += a.out * cin * 9 + (a.bias ? a.out : 0);
    m2 += a.out * h * w * cin * 9;
    cin = a.out;
  }
  if (h !== y[1] || w !== y[2]) return undefined;
  const outText = site.written('out');
  if (outText === undefined) return undefined;
  const biasText = site.written('bias');
  const extra = biasText !== undefined ? ` bias=${biasText}` : '';
  const lines: string[] = [];
  pads.forEach((p, i) => {
    const s = i === n - 1 && a.stride[0] > 1 ? ` s=${a.stride[0]}` : '';
    if (i) lines.push(relu.spec!.keyword);
    lines.push(`conv ${outText} k=3${s}${p ? ` p=${p}` : ''}${extra}`);
  });
  const pct = (a0: number, b0: number) => `${b0 <= a0 ? '−' : '+'}${Math.round((100 * Math.abs(a0 - b0)) / a0)}%`;
  return {
    title: `Replace the ${k}×${k} conv by ${n} stacked 3×3 convs (same ${k}×${k} receptive field): params ${site.grouped(site.params)} → ${site.grouped(p2)} (${pct(site.params, p2)}), MACs ${site.compact(site.macs)} → ${site.compact(m2)} (${pct(site.macs, m2)})`,
    edit: { replace: lines },
  };
}

export function convSuggestions(a: ConvAttrs, site: SuggestSite): Suggestion[] {
  const x = site.inputs[0];
  const out: Suggestion[] = [];
  if (!x) return out;
  if (site.problems.some((p) => p.code === 'groups')) {
    const g = largestCommonDivisorAtMost(x[0], a.out, a.groups);
    out.push({ title: `Set g=${g}${g === 1 ? ' (a dense convolution)' : ''}`, fixes: ['groups'], preferred: true, edit: { set: [['g', site.express(g, 'g')]] } });
  }
  if (x.length !== 3) return out;
  const pad = paddingSuggestion(a, x, site.output, site);
  if (pad) out.push(pad);
  const stack = site.output && stackSuggestion(a, x, site.output, site);
  if (stack) out.push(stack);
  return out;
}
