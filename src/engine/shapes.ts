import type { Graph, LayerAttrs, Pair } from '../graph/types';
import { numel } from './tensor';

/**
 * Output size of a window layer along one dimension, with PyTorch's rules: in ceil mode the
 * last window must start inside the input or its left padding, else it is dropped.
 */
export function windowOutSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

function windowed(shape: number[], out: number, k: Pair, s: Pair, p: Pair, d: Pair, ceil: boolean): number[] {
  const [, h, w] = shape;
  return [out, windowOutSize(h, k[0], s[0], p[0], d[0], ceil), windowOutSize(w, k[1], s[1], p[1], d[1], ceil)];
}

/** One layer's output shape (without batch) from its inputs' shapes. The engine trusts the analysis for errors. */
export function layerOutShape(attrs: LayerAttrs, inputs: number[][]): number[] {
  const x = inputs[0];
  switch (attrs.kind) {
    case 'input':
      return [...attrs.shape];
    case 'conv':
      return windowed(x, attrs.out, attrs.kernel, attrs.stride, attrs.padding, attrs.dilation, false);
    case 'maxpool':
    case 'avgpool':
      return windowed(x, x[0], attrs.kernel, attrs.stride, attrs.padding, [1, 1], attrs.ceil);
    case 'linear':
      return [attrs.out];
    case 'gap':
      return [x[0], 1, 1];
    case 'adaptiveavgpool':
      return [x[0], attrs.size[0], attrs.size[1]];
    case 'flatten':
      return [numel(x)];
    case 'concat':
      return [inputs.reduce((c, s) => c + s[0], 0), ...x.slice(1)];
    default:
      return [...x];
  }
}

/** Every node's output shape, without batch, in node order. */
export function inferShapes(graph: Graph): number[][] {
  const shapes: number[][] = [];
  for (const node of graph.nodes) shapes.push(layerOutShape(node.attrs, node.inputs.map((i) => shapes[i])));
  return shapes;
}
