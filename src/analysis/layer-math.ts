import type { LayerAttrs, Pair } from '../graph/types';
import type { ParamTensor, ReceptiveField, Shape, TensorRole } from './types';

/**
 * The seed's formulas, one layer at a time. Shapes exclude the batch. Everything here is pure
 * arithmetic so that the hover can show the same numbers with the formula around them.
 */

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape | null): string {
  return shape ? shape.join('×') : '?';
}

/** Effective kernel extent: `D*(K-1)+1`. */
export function effectiveKernel(k: number, d: number): number {
  return d * (k - 1) + 1;
}

export interface SizeStep {
  /** The numerator `H + 2P - D(K-1) - 1` (before the division by S). */
  span: number;
  out: number;
  /** Input rows (not padding) that no window reaches at the far end. */
  droppedRows: number;
}

/**
 * One spatial dimension of a windowed layer. With `ceil`, PyTorch rounds up but drops a last
 * window that would start in the right padding.
 */
export function windowOutput(size: number, k: number, s: number, p: number, d: number, ceil: boolean): SizeStep {
  const span = size + 2 * p - effectiveKernel(k, d);
  const out = windowOut(size, k, s, p, d, ceil);
  return { span, out, droppedRows: droppedRowsOf(size, k, s, p, d, out) };
}

/** `windowOutput(...).out`, with nothing allocated. */
export function windowOut(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - effectiveKernel(k, d);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && out > 1 && (out - 1) * s >= size + p) out--;
  return out;
}

/** `windowOutput(...).droppedRows` for a given output size. */
export function droppedRowsOf(size: number, k: number, s: number, p: number, d: number, out: number): number {
  const covered = (out - 1) * s + effectiveKernel(k, d);
  return effectiveKernel(k, d) >= s ? Math.max(0, size + 2 * p - covered - p) : 0;
}

/** Sizes of PyTorch's adaptive pooling windows along one dimension. */
export function adaptiveWindows(size: number, out: number): { start: number; end: number }[] {
  const w: { start: number; end: number }[] = [];
  for (let i = 0; i < out; i++) w.push({ start: Math.floor((i * size) / out), end: Math.ceil(((i + 1) * size) / out) });
  return w;
}

export function paramTensorsOf(attrs: LayerAttrs, input: Shape | null, output: Shape | null): { role: TensorRole; shape: number[]; kind: ParamTensor['kind'] }[] {
  switch (attrs.kind) {
    case 'conv': {
      if (!input) return [];
      const t: { role: TensorRole; shape: number[]; kind: ParamTensor['kind'] }[] = [
        { role: 'weight', shape: [attrs.out, input[0] / attrs.groups, attrs.kernel[0], attrs.kernel[1]], kind: 'param' },
      ];
      if (attrs.bias) t.push({ role: 'bias', shape: [attrs.out], kind: 'param' });
      return t;
    }
    case 'linear': {
      if (!input) return [];
      const t: { role: TensorRole; shape: number[]; kind: ParamTensor['kind'] }[] = [
        { role: 'weight', shape: [attrs.out, numel(input)], kind: 'param' },
      ];
      if (attrs.bias) t.push({ role: 'bias', shape: [attrs.out], kind: 'param' });
      return t;
    }
    case 'bn': {
      const c = output?.[0];
      if (c === undefined) return [];
      return [
        { role: 'weight', shape: [c], kind: 'param' },
        { role: 'bias', shape: [c], kind: 'param' },
        { role: 'running_mean', shape: [c], kind: 'buffer' },
        { role: 'running_var', shape: [c], kind: 'buffer' },
      ];
    }
    default:
      return [];
  }
}

/** Multiply-accumulates: conv `(C_out·H'·W')·(C_in/g·Kh·Kw)`, linear `in·out`; nothing else. */
export function macsOf(attrs: LayerAttrs, input: Shape | null, output: Shape | null): number {
  if (!input || !output) return 0;
  if (attrs.kind === 'conv') return numel(output) * (input[0] / attrs.groups) * attrs.kernel[0] * attrs.kernel[1];
  if (attrs.kind === 'linear') return numel(input) * attrs.out;
  return 0;
}

/**
 * Element-wise operations, reported apart from MACs (docs/analysis.md lists the convention):
 * one per output element for activations, two for bn (scale and shift), one per window tap
 * for pools, one per extra operand for add, and bias additions for conv and linear.
 */
export function opsOf(attrs: LayerAttrs, inputs: (Shape | null)[], output: Shape | null): number {
  if (!output) return 0;
  const n = numel(output);
  const input = inputs[0];
  switch (attrs.kind) {
    case 'conv':
    case 'linear':
      return attrs.bias ? n : 0;
    case 'bn':
      return 2 * n;
    case 'relu':
    case 'sigmoid':
    case 'tanh':
    case 'leakyrelu':
      return n;
    case 'softmax':
      return 3 * n;
    case 'maxpool':
    case 'avgpool':
      return n * attrs.kernel[0] * attrs.kernel[1];
    case 'gap':
      return input ? numel(input) : 0;
    case 'adaptiveavgpool': {
      if (!input || input.length !== 3) return 0;
      const rows = adaptiveWindows(input[1], attrs.size[0]).reduce((a, w) => a + w.end - w.start, 0);
      const cols = adaptiveWindows(input[2], attrs.size[1]).reduce((a, w) => a + w.end - w.start, 0);
      return input[0] * rows * cols;
    }
    case 'lrn':
      return n * (attrs.size + 3);
    case 'add':
      return n * Math.max(0, inputs.length - 1);
    default:
      return 0;
  }
}

const UNIT: ReceptiveField = { size: [1, 1], stride: [1, 1], padding: [0, 0] };

/** The layer's own window over its input: effective kernel, stride and padding. */
export function ownFieldOf(attrs: LayerAttrs, input: Shape | null): ReceptiveField | null {
  switch (attrs.kind) {
    case 'conv':
      return {
        size: [effectiveKernel(attrs.kernel[0], attrs.dilation[0]), effectiveKernel(attrs.kernel[1], attrs.dilation[1])],
        stride: attrs.stride,
        padding: attrs.padding,
      };
    case 'maxpool':
    case 'avgpool':
      return { size: attrs.kernel, stride: attrs.stride, padding: attrs.padding };
    case 'gap':
      return input && input.length === 3 ? { size: [input[1], input[2]], stride: [input[1], input[2]], padding: [0, 0] } : null;
    case 'adaptiveavgpool': {
      if (!input || input.length !== 3) return null;
      const widest = (size: number, out: number) => Math.max(...adaptiveWindows(size, out).map((w) => w.end - w.start));
      return {
        size: [widest(input[1], attrs.size[0]), widest(input[2], attrs.size[1])],
        stride: [Math.max(1, Math.floor(input[1] / attrs.size[0])), Math.max(1, Math.floor(input[2] / attrs.size[1]))],
        padding: [0, 0],
      };
    }
    case 'flatten':
    case 'linear':
      return null;
    default:
      return input && input.length === 3 ? UNIT : null;
  }
}

/** Composes a layer's own field with the field of its input: `r += (k-1)·j`, `j *= s`, `p += pad·j`. */
export function composeField(inField: ReceptiveField, own: ReceptiveField): ReceptiveField {
  const s = inField.stride;
  return {
    size: [inField.size[0] + (own.size[0] - 1) * s[0], inField.size[1] + (own.size[1] - 1) * s[1]],
    stride: [s[0] * own.stride[0], s[1] * own.stride[1]],
    padding: [inField.padding[0] + own.padding[0] * s[0], inField.padding[1] + own.padding[1] * s[1]],
  };
}

/** Through merges the spec takes the largest field over paths, per dimension. */
export function widestField(fields: ReceptiveField[]): ReceptiveField {
  const max = (f: (r: ReceptiveField) => Pair): Pair => [Math.max(...fields.map((r) => f(r)[0])), Math.max(...fields.map((r) => f(r)[1]))];
  return { size: max((r) => r.size), stride: max((r) => r.stride), padding: max((r) => r.padding) };
}

export const INPUT_FIELD = UNIT;
