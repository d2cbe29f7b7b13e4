/**
 * The CPU reference's training pass for every layer kind: its forward (as in training or in
 * evaluation) and the backward rule that goes with it. Plain JavaScript, exact, slow: the oracle
 * of the fast training path, as CPU_KERNELS is of the fast forward. The table is complete by
 * type: a new kind fails to compile here until it has its backward rule.
 */
import { activationEntry, dispatch, type ActivationAttrs, type ActivationTable, type KindTable, type LayerAttrs } from '../../layers';
import type { LayerWeights } from '../params';
import { asNCHW, sameShape, tensor, type Tensor } from '../tensor';
import { mulberry32 } from '../weights/init';
import { channelScale, channelShuffle, channelSlice } from './channels';
import { conv2dBackward, linearBackward } from './grad-dense';
import { batchNormEvalBackward, batchNormTrain, batchNormTrainBackward, groupNormBackward, layerNormBackward, localResponseNormBackward } from './grad-norm';
import { adaptiveAvgPool2dBackward, avgpool2dBackward, globalAvgPoolBackward, maxpool2dBackward } from './grad-pool';
import { convTranspose2dBackward, upsample2dBackward } from './grad-resample';
import { erf } from './erf';
import { CPU_KERNELS, runLayerCpu } from './layers';

export type PassMode = 'train' | 'eval';

export interface PassContext {
  mode: PassMode;
  /** The layer's path: with the seed and step, what a dropout mask is drawn from. */
  path: string;
  seed: number;
  step: number;
}

/** What a layer's backward gives: a gradient per input (null where none flows) and its parameters' gradients by role. */
export interface LayerGrads {
  dx: (Tensor | null)[];
  grads: LayerWeights;
}

export interface LayerPass {
  output: Tensor;
  /** dL/d(output) to the gradients; may be called once. */
  backward(dy: Tensor): LayerGrads;
  /** Buffers this pass replaces (a batch norm's running statistics in train mode), applied by the caller after the step. */
  buffers?: LayerWeights;
}

type CpuPass = (attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights, ctx: PassContext) => LayerPass;

function need(w: LayerWeights, role: keyof LayerWeights, a: LayerAttrs): Float32Array {
  const t = w[role];
  if (!t) throw new Error(`${a.kind}: missing ${role}`);
  return t;
}

const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Each activation's derivative from its input x and output y, as PyTorch's backward computes
 * it (relu and leaky relu take the x > 0 branch, so x = 0 gets the negative side's slope).
 */
export const ACTIVATION_GRADS = {
  relu: () => (x) => (x > 0 ? 1 : 0),
  sigmoid: () => (_x, y) => y * (1 - y),
  tanh: () => (_x, y) => 1 - y * y,
  leakyrelu: (a) => {
    const slope = a.slope;
    return (x) => (x > 0 ? 1 : slope);
  },
  // hardtanh's backward: 1 strictly inside (0, 6).
  relu6: () => (x) => (x > 0 && x < 6 ? 1 : 0),
  hardswish: () => (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1),
  hardsigmoid: () => (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
  silu: () => (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 + x * (1 - s));
  },
  gelu: (a) =>
    a.approximate !== 'none'
      ? (x) => {
          // PyTorch's GeluBackward of the tanh form, term by term.
          const t = Math.tanh(GELU_TANH_SCALE * (x + 0.044715 * x * x * x));
          return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_TANH_SCALE * (1 + 3 * 0.044715 * x * x);
        }
      : (x) => 0.5 * (1 + erf(x * Math.SQRT1_2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI,
} satisfies ActivationTable<(x: number, y: number) => number>;

function activationPass(a: ActivationAttrs, [x]: Tensor[]): LayerPass {
  const output = runLayerCpu(a, [x]);
  const grad = activationEntry(ACTIVATION_GRADS, a);
  return {
    output,
    backward(dy) {
      const dx = tensor(x.shape);
      for (let i = 0; i < dx.data.length; i++) dx.data[i] = dy.data[i] * grad(x.data[i], output.data[i]);
      return { dx: [dx], grads: {} };
    },
  };
}

/** A layer whose gradient is its input's: identity-like reshapes. */
function passThrough(output: Tensor, back: (dy: Tensor) => Tensor): LayerPass {
  return { output, backward: (dy) => ({ dx: [back(dy)], grads: {} }) };
}

/** FNV-1a of the path mixed with the seed and step: each dropout layer and step its own stream. */
function maskSeed(seed: number, path: string, step: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (step >>> 0), 0x01000193) >>> 0;
  return Math.imul(h ^ Math.floor(step / 2 ** 32), 0x01000193) >>> 0;
}

/**
 * A dropout layer's mask in train mode: 0 with probability p, else 1/(1 − p), as nn.Dropout
 * scales what it keeps. A function of (seed, layer path, step) alone, so a run can be repeated
 * bit for bit and a test can hand the same mask to PyTorch.
 */
export function dropoutMask(seed: number, path: string, step: number, count: number, p: number): Float32Array {
  const mask = new Float32Array(count);
  if (p >= 1) return mask;
  const keep = 1 / (1 - p);
  const rand = mulberry32(maskSeed(seed, path, step));
  for (let i = 0; i < count; i++) mask[i] = rand() < p ? 0 : keep;
  return mask;
}

/** dL/dx_t of a product, the other factors broadcast as the forward broadcasts a C×1×1 gate, summed back to t's shape. */
function mulBackward(inputs: Tensor[], output: Tensor, dy: Tensor): Tensor[] {
  const [B, C] = output.shape;
  const hw = output.data.length / (B * C);
  const isGate = (t: Tensor) => !sameShape(t.shape, output.shape);
  return inputs.map((t, k) => {
    // The product of the other factors at each output element.
    const others = new Float32Array(output.data.length).fill(1);
    inputs.forEach((u, j) => {
      if (j === k) return;
      if (isGate(u)) for (let bc = 0; bc < B * C; bc++) for (let i = 0; i < hw; i++) others[bc * hw + i] *= u.data[bc];
      else for (let i = 0; i < others.length; i++) others[i] *= u.data[i];
    });
    const dx = tensor(t.shape);
    if (isGate(t)) {
      for (let bc = 0; bc < B * C; bc++) {
        let s = 0;
        for (let i = 0; i < hw; i++) s += dy.data[bc * hw + i] * others[bc * hw + i];
        dx.data[bc] = s;
      }
    } else {
      for (let i = 0; i < dx.data.length; i++) dx.data[i] = dy.data[i] * others[i];
    }
    return dx;
  });
}

export const CPU_BACKWARD = {
  input: (_a, [x]) => ({ output: x, backward: () => ({ dx: [], grads: {} }) }),
  dropout(a, [x], _w, ctx) {
    if (ctx.mode === 'eval' || a.p === 0) return passThrough(x, (dy) => dy);
    const mask = dropoutMask(ctx.seed, ctx.path, ctx.step, x.data.length, a.p);
    const output = tensor(x.shape);
    for (let i = 0; i < mask.length; i++) output.data[i] = x.data[i] * mask[i];
    return passThrough(output, (dy) => {
      const dx = tensor(dy.shape);
      for (let i = 0; i < mask.length; i++) dx.data[i] = dy.data[i] * mask[i];
      return dx;
    });
  },
  conv(a, [x], w) {
    const weight = need(w, 'weight', a);
    const output = CPU_KERNELS.conv(a, [x], w);
    return {
      output,
      backward(dy) {
        const g = conv2dBackward(x, weight, dy, a, a.bias);
        return { dx: [g.dx], grads: g.db ? { weight: g.dw, bias: g.db } : { weight: g.dw } };
      },
    };
  },
  linear(a, [x], w) {
    const weight = need(w, 'weight', a);
    const output = CPU_KERNELS.linear(a, [x], w);
    return {
      output,
      backward(dy) {
        const g = linearBackward(x, weight, dy, a.out, a.bias);
        return { dx: [g.dx], grads: g.db ? { weight: g.dw, bias: g.db } : { weight: g.dw } };
      },
    };
  },
  bn(a, [x], w, ctx) {
    const p = { weight: need(w, 'weight', a), bias: need(w, 'bias', a), runningMean: need(w, 'running_mean', a), runningVar: need(w, 'running_var', a), eps: a.eps };
    if (ctx.mode === 'eval') {
      return {
        output: CPU_KERNELS.bn(a, [x], w),
        backward(dy) {
          const g = batchNormEvalBackward(x, p, dy);
          return { dx: [g.dx], grads: { weight: g.dweight, bias: g.dbias } };
        },
      };
    }
    const t = batchNormTrain(x, p);
    return {
      output: t.y,
      buffers: { running_mean: t.runningMean, running_var: t.runningVar },
      backward(dy) {
        const g = batchNormTrainBackward(t, p.weight, dy);
        return { dx: [g.dx], grads: { weight: g.dweight, bias: g.dbias } };
      },
    };
  },
  relu: (a, inputs) => activationPass(a, inputs),
  sigmoid: (a, inputs) => activationPass(a, inputs),
  tanh: (a, inputs) => activationPass(a, inputs),
  leakyrelu: (a, inputs) => activationPass(a, inputs),
  softmax(a, [x]) {
    const output = CPU_KERNELS.softmax(a, [x]);
    return passThrough(output, (dy) => {
      // dx_c = y_c·(dy_c − Σ_k dy_k·y_k) at each position.
      const [B, C, H, W] = asNCHW(output);
      const hw = H * W;
      const dx = tensor(output.shape);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < hw; i++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += dy.data[(b * C + c) * hw + i] * output.data[(b * C + c) * hw + i];
          for (let c = 0; c < C; c++) {
            const at = (b * C + c) * hw + i;
            dx.data[at] = output.data[at] * (dy.data[at] - s);
          }
        }
      }
      return dx;
    });
  },
  maxpool: (a, [x]) => passThrough(CPU_KERNELS.maxpool(a, [x]), (dy) => maxpool2dBackward(x, dy, a)),
  avgpool: (a, [x]) => passThrough(CPU_KERNELS.avgpool(a, [x]), (dy) => avgpool2dBackward(x, dy, a)),
  gap: (a, [x]) => passThrough(CPU_KERNELS.gap(a, [x]), (dy) => globalAvgPoolBackward(x, dy)),
  adaptiveavgpool: (a, [x]) => passThrough(CPU_KERNELS.adaptiveavgpool(a, [x]), (dy) => adaptiveAvgPool2dBackward(x, dy, a.size)),
  lrn: (a, [x]) => passThrough(CPU_KERNELS.lrn(a, [x]), (dy) => localResponseNormBackward(x, a, dy)),
  flatten: (a, [x]) => passThrough(CPU_KERNELS.flatten(a, [x]), (dy) => ({ shape: [...x.shape], data: dy.data })),
  add: (a, inputs) => ({ output: CPU_KERNELS.add(a, inputs), backward: (dy) => ({ dx: inputs.map(() => dy), grads: {} }) }),
  mul(a, inputs) {
    const output = CPU_KERNELS.mul(a, inputs);
    return { output, backward: (dy) => ({ dx: mulBackward(inputs, output, dy), grads: {} }) };
  },
  concat(a, inputs) {
    const output = CPU_KERNELS.concat(a, inputs);
    return {
      output,
      backward(dy) {
        const [B] = output.shape;
        const per = dy.data.length / B;
        let offset = 0;
        const dx = inputs.map((t) => {
          const n = t.data.length / B;
          const d = tensor(t.shape);
          for (let b = 0; b < B; b++) d.data.set(dy.data.subarray(b * per + offset, b * per + offset + n), b * n);
          offset += n;
          return d;
        });
        return { dx, grads: {} };
      },
    };
  },
  layernorm(a, [x], w) {
    const weight = need(w, 'weight', a);
    return {
      output: CPU_KERNELS.layernorm(a, [x], w),
      backward(dy) {
        const g = layerNormBackward(x, weight, a.eps, dy);
        return { dx: [g.dx], grads: { weight: g.dweight, bias: g.dbias } };
      },
    };
  },
  groupnorm(a, [x], w) {
    const weight = need(w, 'weight', a);
    return {
      output: CPU_KERNELS.groupnorm(a, [x], w),
      backward(dy) {
        const g = groupNormBackward(x, a.groups, weight, a.eps, dy);
        return { dx: [g.dx], grads: { weight: g.dweight, bias: g.dbias } };
      },
    };
  },
  scale(a, [x], w) {
    const s = need(w, 'weight', a);
    return {
      output: CPU_KERNELS.scale(a, [x], w),
      backward(dy) {
        const [B, C, H, W] = asNCHW(x);
        const hw = H * W;
        const ds = new Float64Array(C);
        for (let b = 0; b < B; b++) {
          for (let c = 0; c < C; c++) {
            const base = (b * C + c) * hw;
            for (let i = 0; i < hw; i++) ds[c] += dy.data[base + i] * x.data[base + i];
          }
        }
        return { dx: [channelScale(dy, s)], grads: { weight: Float32Array.from(ds) } };
      },
    };
  },
  // The inverse permutation of a shuffle by G groups of C/G is a shuffle by C/G groups.
  shuffle: (a, [x]) => passThrough(CPU_KERNELS.shuffle(a, [x]), (dy) => channelShuffle(dy, x.shape[1] / a.groups)),
  slice(a, [x]) {
    const end = a.end ?? x.shape[1];
    return passThrough(channelSlice(x, a.start, end), (dy) => {
      const [B, C, H, W] = asNCHW(x);
      const hw = H * W;
      const n = (end - a.start) * hw;
      const dx = tensor(x.shape);
      for (let b = 0; b < B; b++) dx.data.set(dy.data.subarray(b * n, (b + 1) * n), (b * C + a.start) * hw);
      return dx;
    });
  },
  relu6: (a, inputs) => activationPass(a, inputs),
  hardswish: (a, inputs) => activationPass(a, inputs),
  hardsigmoid: (a, inputs) => activationPass(a, inputs),
  silu: (a, inputs) => activationPass(a, inputs),
  gelu: (a, inputs) => activationPass(a, inputs),
  identity: (_a, [x]) => passThrough(x, (dy) => dy),
  upsample: (a, [x]) => passThrough(CPU_KERNELS.upsample(a, [x]), (dy) => upsample2dBackward(x, dy, a)),
  convtranspose(a, [x], w) {
    const weight = need(w, 'weight', a);
    return {
      output: CPU_KERNELS.convtranspose(a, [x], w),
      backward(dy) {
        const g = convTranspose2dBackward(x, weight, dy, a);
        return { dx: [g.dx], grads: g.db ? { weight: g.dw, bias: g.db } : { weight: g.dw } };
      },
    };
  },
} satisfies KindTable<CpuPass>;

/** One layer's training pass on the CPU reference. */
export function passLayerCpu(attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights, ctx: PassContext): LayerPass {
  return dispatch<CpuPass>(CPU_BACKWARD, attrs, inputs, weights, ctx);
}
