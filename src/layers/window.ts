/**
 * Sliding windows (convolutions and pools): the seed's output-size formula with PyTorch's
 * ceil-mode rule, and the checks and hover formulas the windowed layers share.
 */
import type { Pair, Shape, ShapeContext } from './types';
import { formatShape } from './types';

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

/** A window layer's geometry, as conv and the pools hold it. */
export interface Window {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
}

function lastRows(n: number, word: string): string {
  return n === 1 ? `the last ${word}` : `the last ${n} ${word}s`;
}

/** Both dimensions' steps in full, for a message. */
function windowSteps(x: Shape, w: Window, d: readonly number[], ceil: boolean): SizeStep[] {
  return [0, 1].map((i) => windowOutput(x[i + 1], w.kernel[i], w.stride[i], w.padding[i], d[i], ceil));
}

/**
 * The `[C, H', W']` of a window layer over a spatial input, reporting an empty output (an
 * error: null) and input rows no window reaches (a warning). `ok` false after an error found
 * elsewhere gives null once the size checks have spoken. The input's own array where the shape
 * does not change (a stride-1 'same' conv), so that long networks share shape arrays.
 */
export function windowedShape(
  kind: string,
  x: Shape,
  channels: number,
  w: Window,
  d: readonly number[],
  ceil: boolean,
  ctx: ShapeContext,
  ok = true,
  poolHint = true,
): Shape | null {
  const oh = windowOut(x[1], w.kernel[0], w.stride[0], w.padding[0], d[0], ceil);
  const ow = windowOut(x[2], w.kernel[1], w.stride[1], w.padding[1], d[1], ceil);
  if (oh < 1 || ow < 1) {
    const dims = windowSteps(x, w, d, ceil);
    const i = dims[0].out < 1 ? 0 : 1;
    const which = i === 0 ? 'H' : 'W';
    const [l, r] = ceil ? ['⌈', '⌉'] : ['⌊', '⌋'];
    const dil = d[i] > 1 ? `${d[i]}·(${w.kernel[i]} − 1) − 1` : `${w.kernel[i]}`;
    ctx.report({
      code: 'output-too-small',
      severity: 'error',
      message: `${kind} output would be empty: ${which}' = ${l}(${x[i + 1]} + 2·${w.padding[i]} − ${dil})/${w.stride[i]}${r} + 1 = ${dims[i].out}; the input ${formatShape(x)} is smaller than the ${w.kernel.join('×')} window: use a smaller kernel, add padding, or downsample less before this layer`,
    });
    return null;
  }
  if (droppedRowsOf(x[1], w.kernel[0], w.stride[0], w.padding[0], d[0], oh) > 0 || droppedRowsOf(x[2], w.kernel[1], w.stride[1], w.padding[1], d[1], ow) > 0) {
    const dims = windowSteps(x, w, d, ceil);
    const dropped = dims.map((s) => s.droppedRows);
    const parts: string[] = [];
    if (dropped[0] > 0) parts.push(lastRows(dropped[0], 'row'));
    if (dropped[1] > 0) parts.push(lastRows(dropped[1], 'column'));
    const i = dropped[0] > 0 ? 0 : 1;
    ctx.report({
      code: 'stride-drops',
      severity: 'warning',
      message: `stride ${w.stride[i]} does not divide ${x[i + 1]} + 2·${w.padding[i]} − ${d[i] * (w.kernel[i] - 1) + 1} = ${dims[i].span}: ${parts.join(' and ')} of the ${formatShape(x)} input ${dropped[0] + dropped[1] > 1 ? 'are' : 'is'} never seen; adjust the padding${poolHint ? ' or use ceil=true' : ''}`,
    });
  }
  if (!ok) return null;
  if (channels === x[0] && oh === x[1] && ow === x[2]) return x;
  return [channels, oh, ow];
}

/** Reports a flat input to a layer that needs an image; false then. */
export function needSpatial(kind: string, x: Shape, ctx: ShapeContext): boolean {
  if (x.length === 3) return true;
  ctx.report({ code: 'needs-spatial', severity: 'error', message: `${kind} needs an image-shaped input C×H×W, but gets the flat ${formatShape(x)}` });
  return false;
}

const DOT = '·';

/** `H' = ⌊(227 + 2·2 − 11)/4⌋ + 1 = 56` for one dimension. */
function sizeFormula(dim: string, size: number, k: number, s: number, p: number, d: number, ceil: boolean, out: number): string {
  const [l, r] = ceil ? ['⌈', '⌉'] : ['⌊', '⌋'];
  const kern = d > 1 ? `${d}·(${k} − 1) − 1` : `${k}`;
  const plain = (ceil ? Math.ceil : Math.floor)((size + 2 * p - effectiveKernel(k, d)) / s) + 1;
  const note = plain !== out ? ` (PyTorch drops a last window that would start in the padding: ${out})` : '';
  return `${dim}' = ${l}(${size} + 2${DOT}${p} − ${kern})/${s}${r} + 1 = ${plain}${note}`;
}

/** The output-size formulas of a window layer, one line when both dimensions read the same. */
export function sizeFormulas(x: Shape, y: Shape, w: Window, d: readonly number[], ceil: boolean): string[] {
  const h = sizeFormula('H', x[1], w.kernel[0], w.stride[0], w.padding[0], d[0], ceil, y[1]);
  const wd = sizeFormula('W', x[2], w.kernel[1], w.stride[1], w.padding[1], d[1], ceil, y[2]);
  return h.slice(1) === wd.slice(1) ? [`H' = W'${h.slice(2)}`] : [h, wd];
}
