import type { TensorRole } from '../layers';

export type { ReceptiveField, Shape, TensorRole } from '../layers';
import type { ReceptiveField, Shape } from '../layers';

export interface ParamTensor {
  /** `layer1.0.conv1.weight` */
  name: string;
  shape: number[];
  kind: 'param' | 'buffer';
  role: TensorRole;
  /** The graph node that owns it. */
  node: number;
  /** Every value's starting value in seeded weights, where it is not the role's usual one. */
  fill?: number;
}

export interface LayerInfo {
  node: number;
  /** Null when an error upstream leaves the shape unknown. */
  shape: Shape | null;
  inputShapes: (Shape | null)[];
  params: number;
  buffers: number;
  macs: number;
  /** Element-wise operations (activations, pools, norms, adds), kept apart from MACs. */
  ops: number;
  activationBytes: number;
  /** In the network's input; null where a flat tensor or an unknown shape ends the field. */
  rf: ReceptiveField | null;
  /** The layer's own field in the previous layer: its effective kernel, stride and padding. */
  ownField: ReceptiveField | null;
}

export interface Totals {
  params: number;
  /** Parameters a `bn` keeps but does not learn: running mean and variance. */
  buffers: number;
  /** Multiply-accumulates of the main path: what torchvision publishes. */
  macs: number;
  /** Multiply-accumulates of the `aux` heads, apart (they run in training only). */
  auxMacs: number;
  ops: number;
  /** The sum of every layer's output activation bytes, the input included. */
  activationBytes: number;
  /** The most activation bytes alive at once during one inference. */
  peakActivationBytes: number;
  /** Conv and linear layers on the longest path to the output. */
  depth: number;
}

export type DType = 'float32' | 'float16' | 'bfloat16' | 'int8';

export const DTYPE_BYTES: Record<DType, number> = { float32: 4, float16: 2, bfloat16: 2, int8: 1 };
