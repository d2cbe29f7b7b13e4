/**
 * The training path `cnn train` and `cnn grad` take: the CPU reference's pass for every kind
 * (src/engine/cpu/backward.ts, the oracle), with the kinds that carry the time replaced by
 * batched matrix-product kernels that give the same figures up to the order of summation.
 */
import type { LayerAttrs, LayerKind } from '../../layers';
import type { ConvAttrs } from '../../layers/conv';
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
function fitsConv(a: ConvAttrs, x: Tensor, w: LayerWeights): boolean {
  if (x.shape.length !== 4) return false;
  const C = x.shape[1];
  if (C % a.groups !== 0 || a.out % a.groups !== 0) return false;
  if (w.weight?.length !== a.out * (C / a.groups) * a.kernel[0] * a.kernel[1]) return false;
  return !a.bias || w.bias?.length === a.out;
}

/** A kind's fast training pass, or undefined where it hands the layer to the reference. */
type FastPass<A> = (a: A, inputs: Tensor[], weights: LayerWeights) => LayerPass | undefined;

function convPass(a: ConvAttrs, inputs: Tensor[], weights: LayerWeights): LayerPass | undefined {
  const [x] = inputs;
  if (!fitsConv(a, x, weights)) return undefined;
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

/** The kinds that carry the time; every other kind takes the reference's pass. */
const FAST_PASSES: { [K in LayerKind]?: FastPass<Extract<LayerAttrs, { kind: K }>> } = {
  conv: convPass,
};

/** One layer's training pass on the fast path. */
export function passLayerFast(attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights, ctx: PassContext): LayerPass {
  const fast = FAST_PASSES[attrs.kind] as FastPass<LayerAttrs> | undefined;
  return fast?.(attrs, inputs, weights) ?? passLayerCpu(attrs, inputs, weights, ctx);
}
