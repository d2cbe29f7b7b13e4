/**
 * How each layer kind is written: its keyword and every argument, with its default, so that a
 * statement shows only what differs from the defaults and the block stage can compare statements
 * argument by argument. One entry per kind (complete by type, as every backend's table).
 */
import { layerDef, type KindTable, type LayerAttrs, type Pair } from '../layers';

/** A choice argument's bare word (`mode=bilinear`) is a string. */
export type ArgValue = number | boolean | Pair | string;

export interface TextArg {
  name: string;
  value: ArgValue;
  /** Left out when the value equals it; `{ ref }` is another argument's value (a pool's stride defaults to its kernel). */
  dflt?: ArgValue | { ref: string };
  /** Written without its name, first. */
  positional?: boolean;
  /** An integer that a block may make a parameter: what to call it, and whether it counts channels (no default then). */
  slot?: { hint: string; channels?: boolean };
}

export interface LayerText {
  keyword: string;
  args: TextArg[];
}

/** The arguments; the keyword is the registry's (`spec.keyword`), so that no kind is spelt here. */
type TextEntry = (attrs: LayerAttrs) => TextArg[];

const size = (name: string, value: Pair, dflt?: ArgValue | { ref: string }, hint = name): TextArg => ({ name, value, dflt, slot: { hint } });

const windowArgs = (a: { kernel: Pair; stride: Pair; padding: Pair }, strideDefault: ArgValue | { ref: string }): TextArg[] => [
  size('k', a.kernel),
  size('s', a.stride, strideDefault),
  size('p', a.padding, 0),
];

/** Each kind's statement (merges and the input are written by the compositions, not as layers). */
export const LAYER_TEXT = {
  // The network's first statement, written from its shape (render.ts).
  input: () => [],
  conv: (a) => [
    { name: 'out', value: a.out, positional: true, slot: { hint: 'c', channels: true } },
    ...windowArgs(a, 1),
    size('d', a.dilation, 1),
    { name: 'g', value: a.groups, dflt: 1, slot: { hint: 'g' } },
    { name: 'bias', value: a.bias, dflt: true },
  ],
  linear: (a) => [
    { name: 'out', value: a.out, positional: true, slot: { hint: 'n', channels: true } },
    { name: 'bias', value: a.bias, dflt: true },
    { name: 'pointwise', value: !!a.pointwise, dflt: false },
  ],
  bn: (a) => [{ name: 'eps', value: a.eps, dflt: 1e-5 }],
  relu: () => [],
  sigmoid: () => [],
  tanh: () => [],
  leakyrelu: (a) => [{ name: 'slope', value: a.slope, dflt: 0.01, positional: true }],
  softmax: () => [],
  maxpool: (a) => ([...windowArgs(a, { ref: 'k' }), { name: 'ceil', value: a.ceil, dflt: false }]),
  avgpool: (a) => ([...windowArgs(a, { ref: 'k' }), { name: 'ceil', value: a.ceil, dflt: false }]),
  gap: () => [],
  adaptiveavgpool: (a) => [{ name: 'size', value: a.size, positional: true, slot: { hint: 'size' } }],
  lrn: (a) => [
    { name: 'size', value: a.size, dflt: 5, slot: { hint: 'size' } },
    { name: 'alpha', value: a.alpha, dflt: 1e-4 },
    { name: 'beta', value: a.beta, dflt: 0.75 },
    { name: 'k', value: a.k, dflt: 2 },
  ],
  dropout: (a) => [{ name: 'p', value: a.p, dflt: 0.5, positional: true }],
  flatten: () => [],
  add: () => [],
  concat: () => [],
  mul: () => [],
  layernorm: (a) => [{ name: 'eps', value: a.eps, dflt: 1e-5 }],
  groupnorm: (a) => [
    { name: 'g', value: a.groups, positional: true, slot: { hint: 'g' } },
    { name: 'eps', value: a.eps, dflt: 1e-5 },
  ],
  // The starting value is not in a model's file; the weights are.
  scale: (a) => [{ name: 'init', value: a.init, dflt: 1, positional: true }],
  shuffle: (a) => [{ name: 'g', value: a.groups, positional: true, slot: { hint: 'g' } }],
  slice: (a) => [
    { name: 'start', value: a.start, positional: true, slot: { hint: 'start', channels: true } },
    ...(a.end === null ? [] : [{ name: 'end', value: a.end, positional: true, slot: { hint: 'end', channels: true } }]),
  ],
  relu6: () => [],
  hardswish: () => [],
  hardsigmoid: () => [],
  silu: () => [],
  gelu: (a) => [{ name: 'approximate', value: a.approximate, dflt: 'none' }],
  identity: () => [],
  upsample: (a) => [
    ...(a.scale ? [{ name: 'factor', value: a.scale, positional: true, slot: { hint: 'factor' } }] : []),
    ...(a.size ? [{ name: 'size', value: a.size }] : []),
    { name: 'mode', value: a.mode, dflt: 'nearest' },
    { name: 'align_corners', value: a.alignCorners, dflt: false },
  ],
  convtranspose: (a) => [
    { name: 'out', value: a.out, positional: true, slot: { hint: 'c', channels: true } },
    size('k', a.kernel),
    size('s', a.stride, 1),
    size('p', a.padding, 0),
    size('op', a.outputPadding, 0),
    size('d', a.dilation, 1),
    { name: 'g', value: a.groups, dflt: 1, slot: { hint: 'g' } },
    { name: 'bias', value: a.bias, dflt: true },
  ],
} satisfies KindTable<TextEntry>;

/** A layer's statement: the registry's keyword and this table's arguments. */
export function layerText(attrs: LayerAttrs): LayerText {
  return { keyword: layerDef(attrs).spec?.keyword ?? attrs.kind, args: (LAYER_TEXT as Record<string, TextEntry>)[attrs.kind](attrs) };
}

/**
 * A number as short as it can be written and still read back as the same float32 (ONNX stores
 * attributes as float32: 9.999999747378752e-06 is 1e-5).
 */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const f = Math.fround(v);
  for (let p = 1; p <= 17; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === f || s === v) return String(s);
  }
  return String(v);
}

export function valueText(v: ArgValue): string {
  if (typeof v === 'boolean' || typeof v === 'string') return String(v);
  if (typeof v === 'number') return formatNumber(v);
  return v[0] === v[1] ? formatNumber(v[0]) : `${v[0]}x${v[1]}`;
}

export function sameValue(a: ArgValue, b: ArgValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = Array.isArray(a) ? a : [a, a];
    const y = Array.isArray(b) ? b : [b, b];
    return x[0] === y[0] && x[1] === y[1];
  }
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.fround(a) === Math.fround(b);
  return a === b;
}
