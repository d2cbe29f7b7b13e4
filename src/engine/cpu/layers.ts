import type { LayerAttrs } from '../../graph/types';
import type { LayerWeights } from '../params';
import type { Tensor } from '../tensor';
import { conv2d } from './conv';
import { flatten, linear } from './dense';
import { add, concat } from './merge';
import { batchNorm, localResponseNorm } from './norm';
import { activate, softmax } from './pointwise';
import { adaptiveAvgPool2d, avgpool2d, globalAvgPool, maxpool2d } from './pool';

function need(w: LayerWeights, role: keyof LayerWeights, kind: string): Float32Array {
  const t = w[role];
  if (!t) throw new Error(`${kind}: missing ${role}`);
  return t;
}

/** Runs one layer on the CPU. `input` layers return their (single) input unchanged. */
export function runLayerCpu(attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights = {}): Tensor {
  const x = inputs[0];
  switch (attrs.kind) {
    case 'input':
    case 'dropout':
      return x;
    case 'conv':
      return conv2d(x, need(weights, 'weight', 'conv'), attrs.bias ? need(weights, 'bias', 'conv') : undefined, attrs);
    case 'linear':
      return linear(x, need(weights, 'weight', 'linear'), attrs.bias ? need(weights, 'bias', 'linear') : undefined, attrs.out);
    case 'bn':
      return batchNorm(x, {
        weight: need(weights, 'weight', 'bn'),
        bias: need(weights, 'bias', 'bn'),
        runningMean: need(weights, 'running_mean', 'bn'),
        runningVar: need(weights, 'running_var', 'bn'),
        eps: attrs.eps,
      });
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      return activate(x, attrs.kind);
    case 'leakyrelu':
      return activate(x, { leakyrelu: attrs.slope });
    case 'softmax':
      return softmax(x);
    case 'maxpool':
      return maxpool2d(x, attrs);
    case 'avgpool':
      return avgpool2d(x, attrs);
    case 'gap':
      return globalAvgPool(x);
    case 'adaptiveavgpool':
      return adaptiveAvgPool2d(x, attrs.size);
    case 'lrn':
      return localResponseNorm(x, attrs);
    case 'flatten':
      return flatten(x);
    case 'add':
      return add(inputs);
    case 'concat':
      return concat(inputs);
  }
}
