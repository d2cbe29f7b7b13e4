/** The optimisers and schedules against torch.optim, step by step on the same gradients. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../../src/engine/input/npy';
import { learningRate, Optimizer, type OptimizerConfig, type Schedule } from '../../../src/engine/train/optim';
import { torchPython } from '../../export/helpers';
import { randomTensor, rng } from '../helpers';
import { relative } from './harness';

const N = 40;
const STEPS = 12;

const CASES: { name: string; optimizer: OptimizerConfig; schedule?: Schedule }[] = [
  { name: 'plain SGD', optimizer: { kind: 'sgd', lr: 0.1 } },
  { name: 'SGD with momentum and weight decay', optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 } },
  { name: 'SGD with momentum and dampening', optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.8, dampening: 0.3 } },
  { name: 'SGD with Nesterov momentum and a step schedule', optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }, schedule: { kind: 'step', every: 4, gamma: 0.5 } },
  { name: 'Adam', optimizer: { kind: 'adam', lr: 1e-2 } },
  { name: 'Adam with L2 weight decay, betas and eps', optimizer: { kind: 'adam', lr: 3e-3, weightDecay: 1e-2, betas: [0.8, 0.99], eps: 1e-6 } },
  { name: "AdamW (PyTorch's default decay 0.01) with a cosine schedule", optimizer: { kind: 'adamw', lr: 1e-2 }, schedule: { kind: 'cosine', total: STEPS } },
  { name: 'AdamW with weight decay 0.1, cosine to a floor', optimizer: { kind: 'adamw', lr: 5e-3, weightDecay: 0.1 }, schedule: { kind: 'cosine', total: 8, min: 1e-4 } },
];

describe('optimisers against torch.optim', () => {
  const python = torchPython();
  const dir = mkdtempSync(join(tmpdir(), 'cnn-optim-'));
  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: the parameters after each of ${STEPS} steps`, () => {
      if (!python) return;
      const p0 = randomTensor([N], rng(40 + i)).data;
      // Gradients of mixed sizes, some tiny, so Adam's eps and the moments' bias correction matter.
      const grads = Array.from({ length: STEPS }, (_, s) => randomTensor([N], rng(500 + 13 * i + s), -1, 1).data.map((g, k) => (k % 5 === 0 ? g * 1e-4 : g)));
      writeFileSync(join(dir, `p${i}.npy`), writeNpy([N], p0));
      const flat = new Float32Array(STEPS * N);
      grads.forEach((g, s) => flat.set(g, s * N));
      writeFileSync(join(dir, `g${i}.npy`), writeNpy([STEPS, N], flat));
      const out = join(dir, `o${i}.npy`);
      const r = spawnSync(python, [join(__dirname, 'torch_optim.py')], {
        input: JSON.stringify({ params: join(dir, `p${i}.npy`), grads: join(dir, `g${i}.npy`), optimizer: c.optimizer, schedule: c.schedule ?? { kind: 'constant' }, out }),
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const { lrs } = JSON.parse(r.stdout) as { lrs: number[] };
      const want = readNpy(readFileSync(out)).data;

      const p = Float32Array.from(p0);
      const params = new Map([['w', p]]);
      const opt = new Optimizer(c.optimizer);
      for (let s = 0; s < STEPS; s++) {
        const lr = learningRate(c.optimizer.lr, c.schedule ?? { kind: 'constant' }, s);
        expect(Math.abs(lr - lrs[s]), `learning rate at step ${s}`).toBeLessThanOrEqual(1e-12 + 1e-9 * lrs[s]);
        opt.step(params, new Map([['w', grads[s]]]), lr);
        const rel = relative(p, want.subarray(s * N, (s + 1) * N));
        expect(rel, `step ${s + 1}`).toBeLessThanOrEqual(1e-5);
      }
    }, 60_000);
  }

  it('refuses Nesterov without momentum, as PyTorch does', () => {
    expect(() => new Optimizer({ kind: 'sgd', lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum needs a momentum/);
  });
});
