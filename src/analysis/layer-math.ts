/**
 * A layer's figures from its kind's definition (src/layers), for the analysis and the hover.
 * Shapes exclude the batch. Receptive fields compose here: a kind gives only its own window.
 */
import type { LayerAttrs, Pair, ReceptiveField, Shape, TensorSpec } from '../layers';
import { layerDef } from '../layers';

export { formatShape, numel } from '../layers';
export { effectiveKernel, windowOutput } from '../layers/window';
export { adaptiveWindows } from '../layers/adaptiveavgpool';

export function paramTensorsOf(attrs: LayerAttrs, input: Shape | null, output: Shape | null): TensorSpec[] {
  const def = layerDef(attrs);
  return def.tensors && input && output ? def.tensors(attrs, input, output) : [];
}

/** Multiply-accumulates: conv `(C_out·H'·W')·(C_in/g·Kh·Kw)`, linear `in·out`; nothing else. */
export function macsOf(attrs: LayerAttrs, input: Shape | null, output: Shape | null): number {
  const def = layerDef(attrs);
  return def.macs && input && output ? def.macs(attrs, input, output) : 0;
}

/** Element-wise operations, reported apart from MACs (docs/analysis.md lists the convention). */
export function opsOf(attrs: LayerAttrs, inputs: readonly (Shape | null)[], output: Shape | null): number {
  const def = layerDef(attrs);
  return def.ops && output ? def.ops(attrs, inputs, output) : 0;
}

const UNIT: ReceptiveField = { size: [1, 1], stride: [1, 1], padding: [0, 0] };

/** The layer's own window over its input: effective kernel, stride and padding. */
export function ownFieldOf(attrs: LayerAttrs, input: Shape | null): ReceptiveField | null {
  const f = layerDef(attrs).field(attrs, input);
  if (f === 'pointwise') return input && input.length === 3 ? UNIT : null;
  return f;
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
