/**
 * The training path `cnn train` and `cnn grad` take: the CPU reference's pass for every kind
 * (src/engine/cpu/backward.ts, the oracle), with the kinds that carry the time replaced by
 * kernels that give the same figures up to float32 rounding and the order of summation: the
 * WebAssembly SIMD kernels (wasm-layers.ts) where this JavaScript engine compiles them, else
 * the JavaScript matrix products of fast-conv.ts for convolutions.
 */
import { activationEntry, type ActivationAttrs, type ActivationKind, type LayerAttrs, type LayerKind } from '../../layers';
import type { AdaptiveAvgPoolAttrs } from '../../layers/adaptiveavgpool';
import type { AvgPoolAttrs } from '../../layers/avgpool';
import type { BnAttrs } from '../../layers/bn';
import type { ConvAttrs } from '../../layers/conv';
import type { LinearAttrs } from '../../layers/linear';
import type { MaxPoolAttrs } from '../../layers/maxpool';
import type { LayerWeights } from '../params';
import type { Tensor } from '../tensor';
import { ACTIVATION_GRADS, passLayerCpu, type LayerPass, type PassContext } from '../cpu/backward';
import { activationFn } from '../cpu/layers';
import { tensor } from '../tensor';
import { conv2dBackwardFast, conv2dFast } from './fast-conv';
import { StepBuffers, trainWasm } from './wasm-train';
import {
  adaptiveAvgPool2dBackwardWasm,
  adaptiveAvgPool2dWasm,
  avgpool2dBackwardWasm,
  avgpool2dWasm,
  batchNormTrainBackwardWasm,
  batchNormTrainWasm,
  conv2dBackwardWasm,
  conv2dWasm,
  linearBackwardWasm,
  linearWasm,
  maxpool2dBackwardWasm,
  maxpool2dWasm,
  piecewiseBackwardWasm,
  piecewiseWasm,
  PIECEWISE_OPS,
  reluBackwardWasm,
  reluWasm,
} from './wasm-layers';

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

/** The activations and their gradients, reused step after step (see StepBuffers for their lifetime). */
const steps = new StepBuffers();

/** A kind's fast training pass, or undefined where it hands the layer to the reference. */
type FastPass<A> = (a: A, inputs: Tensor[], weights: LayerWeights, ctx: PassContext) => LayerPass | undefined;

function convPass(a: ConvAttrs, inputs: Tensor[], weights: LayerWeights, ctx: PassContext): LayerPass | undefined {
  const [x] = inputs;
  if (!fitsConv(a, x, weights)) return undefined;
  const weight = need(weights, 'weight', a);
  const bias = a.bias ? need(weights, 'bias', a) : undefined;
  const m = trainWasm();
  const output = m ? conv2dWasm(m, x, weight, bias, a, steps.dest(`${ctx.path}#y`)) : conv2dFast(x, weight, bias, a);
  return {
    output,
    backward(dy) {
      const g = m ? conv2dBackwardWasm(m, x, weight, dy, a, a.bias, steps.dest(`${ctx.path}#dx`)) : conv2dBackwardFast(x, weight, dy, a, a.bias);
      return { dx: [g.dx], grads: g.db ? { weight: g.dw, bias: g.db } : { weight: g.dw } };
    },
  };
}

function linearPass(a: LinearAttrs, [x]: Tensor[], weights: LayerWeights): LayerPass | undefined {
  const m = trainWasm();
  if (!m || a.pointwise || x.shape.length !== 2) return undefined;
  const [, N] = x.shape;
  if (weights.weight?.length !== a.out * N || (a.bias && weights.bias?.length !== a.out)) return undefined;
  const weight = weights.weight;
  return {
    output: linearWasm(m, x, weight, a.bias ? weights.bias : undefined, a.out),
    backward(dy) {
      const g = linearBackwardWasm(m, x, weight, dy, a.out, a.bias);
      return { dx: [g.dx], grads: g.db ? { weight: g.dw, bias: g.db } : { weight: g.dw } };
    },
  };
}

/** Train mode only (eval mode is an affine map, cheap on the reference), and only where the batch has the two values per channel statistics need. */
function bnPass(a: BnAttrs, [x]: Tensor[], w: LayerWeights, ctx: PassContext): LayerPass | undefined {
  const m = trainWasm();
  if (!m || ctx.mode !== 'train' || x.shape.length < 2) return undefined;
  const C = x.shape[1];
  const { weight, bias, running_mean: runningMean, running_var: runningVar } = w;
  if (!weight || !bias || !runningMean || !runningVar || [weight, bias, runningMean, runningVar].some((t) => t.length !== C)) return undefined;
  if (x.data.length / C < 2) return undefined;
  const t = batchNormTrainWasm(m, x, { weight, bias, runningMean, runningVar, eps: a.eps }, false, steps.dest(`${ctx.path}#y`));
  return {
    output: t.y,
    buffers: { running_mean: t.runningMean, running_var: t.runningVar },
    backward(dy) {
      const g = batchNormTrainBackwardWasm(m, t, weight, dy, steps.dest(`${ctx.path}#dx`));
      return { dx: [g.dx], grads: { weight: g.dweight, bias: g.dbias } };
    },
  };
}

function maxpoolPass(a: MaxPoolAttrs, [x]: Tensor[], _w: LayerWeights, ctx: PassContext): LayerPass | undefined {
  const m = trainWasm();
  if (!m || x.shape.length !== 4) return undefined;
  const { y, argmax } = maxpool2dWasm(m, x, a, steps.dest(`${ctx.path}#y`), (n) => steps.ints(`${ctx.path}#argmax`, n));
  return { output: y, backward: (dy) => ({ dx: [maxpool2dBackwardWasm(m, x.shape, argmax, dy, steps.dest(`${ctx.path}#dx`))], grads: {} }) };
}

function reluPass(_a: unknown, [x]: Tensor[], _w: LayerWeights, ctx: PassContext): LayerPass | undefined {
  const m = trainWasm();
  if (!m) return undefined;
  return { output: reluWasm(m, x, steps.dest(`${ctx.path}#y`)), backward: (dy) => ({ dx: [reluBackwardWasm(m, x, dy, steps.dest(`${ctx.path}#dx`))], grads: {} }) };
}

/** Malformed windows (padding over half the kernel) go to the reference, whose error says so. */
function avgpoolPass(a: AvgPoolAttrs, [x]: Tensor[], _w: LayerWeights, ctx: PassContext): LayerPass | undefined {
  const m = trainWasm();
  if (!m || x.shape.length !== 4 || a.padding[0] * 2 > a.kernel[0] || a.padding[1] * 2 > a.kernel[1]) return undefined;
  const output = avgpool2dWasm(m, x, a, steps.dest(`${ctx.path}#y`));
  return { output, backward: (dy) => ({ dx: [avgpool2dBackwardWasm(m, x.shape, dy, a, steps.dest(`${ctx.path}#dx`))], grads: {} }) };
}

function adaptivePass(size: readonly [number, number], [x]: Tensor[], ctx: PassContext): LayerPass | undefined {
  const m = trainWasm();
  if (!m || x.shape.length !== 4) return undefined;
  const output = adaptiveAvgPool2dWasm(m, x, size, steps.dest(`${ctx.path}#y`));
  return { output, backward: (dy) => ({ dx: [adaptiveAvgPool2dBackwardWasm(m, x.shape, dy, steps.dest(`${ctx.path}#dx`))], grads: {} }) };
}

const GLOBAL: readonly [number, number] = [1, 1];

/** The activations with no transcendental, in WebAssembly; `slope` only leaky relu has. */
function piecewisePass(a: ActivationAttrs & { kind: keyof typeof PIECEWISE_OPS }, [x]: Tensor[], _w: LayerWeights, ctx: PassContext): LayerPass | undefined {
  const m = trainWasm();
  if (!m) return undefined;
  const op = PIECEWISE_OPS[a.kind];
  const slope = 'slope' in a ? a.slope : 0;
  const output = piecewiseWasm(m, op, slope, x, steps.dest(`${ctx.path}#y`));
  return { output, backward: (dy) => ({ dx: [piecewiseBackwardWasm(m, op, slope, x, dy, steps.dest(`${ctx.path}#dx`))], grads: {} }) };
}

/**
 * The activations with an exp, tanh or erf: the reference's formulas in float64 (WebAssembly has
 * none of these, and a float32 polynomial would miss the reference's figures), but into the
 * step's reused buffers, and the derivative in one pass over them.
 */
function transcendentalPass(a: ActivationAttrs, [x]: Tensor[], _w: LayerWeights, ctx: PassContext): LayerPass {
  const f = activationFn(a);
  const grad = activationEntry(ACTIVATION_GRADS, a);
  const n = x.data.length;
  const y = steps.dest(`${ctx.path}#y`)(n);
  for (let i = 0; i < n; i++) y[i] = f(x.data[i]);
  return {
    output: tensor([...x.shape], y),
    backward(dy) {
      const dx = steps.dest(`${ctx.path}#dx`)(n);
      for (let i = 0; i < n; i++) dx[i] = dy.data[i] * grad(x.data[i], y[i]);
      return { dx: [tensor([...x.shape], dx)], grads: {} };
    },
  };
}

/** Every kind but the activations, whose entries ACTIVATION_PASSES holds. */
type FastPasses = { [K in Exclude<LayerKind, ActivationKind>]?: FastPass<Extract<LayerAttrs, { kind: K }>> };

/** One entry per activation (a new one does not compile without its pass). */
const ACTIVATION_PASSES = {
  relu: reluPass,
  leakyrelu: piecewisePass,
  relu6: piecewisePass,
  hardswish: piecewisePass,
  hardsigmoid: piecewisePass,
  sigmoid: transcendentalPass,
  tanh: transcendentalPass,
  silu: transcendentalPass,
  gelu: transcendentalPass,
} satisfies { [K in ActivationKind]: FastPass<Extract<LayerAttrs, { kind: K }>> };

/** The kinds that carry the time; every other kind takes the reference's pass. */
const FAST_PASSES: FastPasses & typeof ACTIVATION_PASSES = {
  conv: convPass,
  linear: linearPass,
  bn: bnPass,
  maxpool: maxpoolPass,
  avgpool: avgpoolPass,
  gap: (_a, inputs, _w, ctx) => adaptivePass(GLOBAL, inputs, ctx),
  adaptiveavgpool: (a: AdaptiveAvgPoolAttrs, inputs, _w, ctx) => adaptivePass(a.size, inputs, ctx),
  ...ACTIVATION_PASSES,
};

/** One layer's training pass on the fast path. */
export function passLayerFast(attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights, ctx: PassContext): LayerPass {
  const fast = FAST_PASSES[attrs.kind] as FastPass<LayerAttrs> | undefined;
  return fast?.(attrs, inputs, weights, ctx) ?? passLayerCpu(attrs, inputs, weights, ctx);
}
