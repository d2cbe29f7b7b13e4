/**
 * Optimisers as torch.optim defines them (SGD with momentum, dampening and Nesterov; Adam;
 * AdamW's decoupled weight decay) and the learning-rate schedules of torch.optim.lr_scheduler
 * (cosine annealing, step decay). Parameters and state are float32 as PyTorch's are; each
 * element's update is computed in double and rounded once.
 */

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

export interface OptimizerConfig {
  kind: OptimizerKind;
  lr: number;
  /** SGD: the momentum factor (0: plain SGD). */
  momentum?: number;
  /** SGD: scales the new gradient in the momentum buffer by (1 − dampening). */
  dampening?: number;
  nesterov?: boolean;
  /** L2 added to the gradient (SGD, Adam), or AdamW's decoupled decay; AdamW's default is 0.01 as PyTorch's. */
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
}

export const OPTIMIZER_DEFAULTS = { momentum: 0, dampening: 0, betas: [0.9, 0.999] as [number, number], eps: 1e-8, adamwWeightDecay: 0.01 };

/** What an optimiser keeps per parameter. */
interface Slot {
  /** SGD's momentum buffer, or Adam's first moment. */
  m?: Float32Array;
  /** Adam's second moment. */
  v?: Float32Array;
}

export class Optimizer {
  private readonly slots = new Map<string, Slot>();
  /** Steps taken (Adam's bias correction counts them). */
  steps = 0;
  constructor(readonly config: OptimizerConfig) {
    if (config.nesterov && (!config.momentum || config.dampening)) throw new Error('Nesterov momentum needs a momentum and zero dampening');
  }

  /** One step: every parameter with a gradient is updated in place, with the learning rate `lr` (the schedule's). */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr = this.config.lr): void {
    this.steps++;
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) throw new Error(`no parameter '${name}' for its gradient`);
      let slot = this.slots.get(name);
      if (!slot) this.slots.set(name, (slot = {}));
      if (this.config.kind === 'sgd') this.sgd(p, g, slot, lr);
      else this.adam(p, g, slot, lr);
    }
  }

  private sgd(p: Float32Array, g: Float32Array, slot: Slot, lr: number): void {
    const { momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = this.config;
    const first = !slot.m;
    if (momentum && first) slot.m = new Float32Array(p.length);
    const buf = slot.m;
    for (let i = 0; i < p.length; i++) {
      let d = g[i] + weightDecay * p[i];
      if (buf) {
        // PyTorch's first step copies the gradient into the buffer (no dampening), then blends.
        buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      p[i] = p[i] - lr * d;
    }
  }

  private adam(p: Float32Array, g: Float32Array, slot: Slot, lr: number): void {
    const [b1, b2] = this.config.betas ?? OPTIMIZER_DEFAULTS.betas;
    const eps = this.config.eps ?? OPTIMIZER_DEFAULTS.eps;
    const decoupled = this.config.kind === 'adamw';
    const wd = this.config.weightDecay ?? (decoupled ? OPTIMIZER_DEFAULTS.adamwWeightDecay : 0);
    const m = (slot.m ??= new Float32Array(p.length));
    const v = (slot.v ??= new Float32Array(p.length));
    const bc1 = 1 - b1 ** this.steps;
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.steps);
    const stepSize = lr / bc1;
    for (let i = 0; i < p.length; i++) {
      let x = p[i];
      let d = g[i];
      if (decoupled) x = Math.fround(x * (1 - lr * wd));
      else d += wd * x;
      m[i] = b1 * m[i] + (1 - b1) * d;
      v[i] = b2 * v[i] + (1 - b2) * d * d;
      p[i] = x - (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
    }
  }
}

export type Schedule = { kind: 'constant' } | { kind: 'cosine'; total: number; min?: number } | { kind: 'step'; every: number; gamma: number };

/**
 * The learning rate after `t` scheduler steps: CosineAnnealingLR's closed form
 * η_min + (η − η_min)·(1 + cos(π·t/T))/2 (past T it rises again, as PyTorch's does; `cnn train`
 * sets T to the run's length), or StepLR's η·γ^⌊t/every⌋.
 */
export function learningRate(base: number, schedule: Schedule, t: number): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'cosine': {
      const min = schedule.min ?? 0;
      return min + ((base - min) * (1 + Math.cos((Math.PI * t) / schedule.total))) / 2;
    }
    case 'step':
      return base * schedule.gamma ** Math.floor(t / schedule.every);
  }
}
