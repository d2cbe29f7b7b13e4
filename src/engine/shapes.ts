import type { Graph } from '../graph/types';
import { layerDef, type LayerAttrs, type ShapeContext } from '../layers';

/** The engines trust the analysis for errors: the shape rules run here without reporting. */
const SILENT: ShapeContext = { report() {}, start: { line: 0, character: 0, offset: 0 }, residual: false };

/** One layer's output shape (without batch) from its inputs' shapes: the analysis's rule, its kind's. */
export function layerOutShape(attrs: LayerAttrs, inputs: number[][]): number[] {
  const shape = layerDef(attrs).shape(attrs, inputs, SILENT);
  if (!shape) throw new Error(`${attrs.kind}: no output shape for inputs ${inputs.map((s) => `[${s.join(', ')}]`).join(', ')}`);
  return [...shape];
}

/** Every node's output shape, without batch, in node order. */
export function inferShapes(graph: Graph): number[][] {
  const shapes: number[][] = [];
  for (const node of graph.nodes) shapes.push(layerOutShape(node.attrs, node.inputs.map((i) => shapes[i])));
  return shapes;
}
