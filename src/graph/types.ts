import type { Range } from '../language/range';
import type { TemplateSpan } from './template';

export type { LayerAttrs, LayerKind, Pair } from '../layers';
import type { LayerAttrs } from '../layers';

/** One block call on the way from a network to a layer. */
export interface CallSite {
  block: string;
  /** The call statement's range. */
  range: Range;
}

export interface GraphNode {
  /** Index in `Graph.nodes`, which is execution order: every input comes before its user. */
  id: number;
  attrs: LayerAttrs;
  inputs: number[];
  /** Dot path: the prefix of this layer's parameter names (`layer1.0.conv1`). */
  path: string;
  /** The statement that produced the layer (for merges: the composition statement). */
  range: Range;
  /** The layer keyword, or the composition keyword. */
  nameRange: Range;
  /** Block calls that produced this layer, outermost first; empty at network level. */
  calls: CallSite[];
  /** True for layers on an `aux` side branch. */
  aux: boolean;
  /** For an `add` made by `residual`: its inputs are the body's output, then the shortcut's. */
  residual?: boolean;
}

export interface Graph {
  network: string;
  range: Range;
  nameRange: Range;
  nodes: GraphNode[];
  /** The main output: the last layer of the network body. */
  output: number;
  /** The last layer of each `aux` branch. */
  auxOutputs: number[];
  /** With an expansion cache: the layers copied from (or recorded as) block templates. */
  spans?: TemplateSpan[];
}
