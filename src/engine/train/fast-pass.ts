/**
 * The training path `cnn train` and `cnn grad` take: the CPU reference's pass for every kind
 * (src/engine/cpu/backward.ts, the oracle), with the kinds that carry the time replaced by
 * batched matrix-product kernels that give the same figures up to the order of summation.
 */
import type { LayerAttrs } from '../../layers';
import type { LayerWeights } from '../params';
import type { Tensor } from '../tensor';
import { passLayerCpu, type LayerPass, type PassContext } from '../cpu/backward';
import { conv2dBackwardFast, conv2dFast } from './fast-conv';

export type TrainKernels = 'fast' | 'reference';

function need(w: LayerWeights, role: keyof LayerWeights, a: LayerAttrs): Float32Array {
  const t = w[role];
  if (!t) throw new Error(`${a.kind}: missing ${role}`);
  return t;
}

/** A conv the fast kernels take; anything malformed goes to the reference, whose errors say what is wrong. */
function fitsConv(a: Extract<LayerAttrs, { kind: 'conv' }>, x: Tensor, w: LayerWeights): boolean {
  if (x.shape.length !== 4) return false;
  const C = x.shape[1];
  if (C % a.groups !== 0 || a.out % a.groups !== 0) return false;
  if (w.weight?.length !== a.out * (C / a.groups) * a.kernel[0] * a.kernel[1]) return false;
  return !a.bias || w.bias?.length === a.out;
}

/** One layer's training pass on the fast path. */
export function passLayerFast(attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights, ctx: PassContext): LayerPass {
  if (attrs.kind === 'conv' && fitsConv(attrs, inputs[0], weights)) {
    const a = attrs;
    const [x] = inputs;
    const weight = need(weights, 'weight', a);
    const output = conv2dFast(x, weight, a.bias ? need(weights, 'bias', a) : undefined, a);
    return {
      output,
      backward(dy) {
        const g = conv2dBackwardFast(x, weight, dy, a, a.bias);
        return { dx: [g.dx], grads: g.db ? { weight: g.dw, bias: g.db } : { weight: g.dw } };
      },
    };
  }
  return passLayerCpu(attrs, inputs, weights, ctx);
}
