/**
 * The effective receptive field as an engine job (the worker's, or the page's where no worker
 * starts): one input at a time through src/engine/train/erf.ts, with progress after each and a
 * turn of the event loop between them, so that a Cancel lands within one input's pass.
 */
import type { Model } from '../../../src/engine/inference';
import { tensor } from '../../../src/engine/tensor';
import { ErfAccumulator, noiseInputs } from '../../../src/engine/train/erf';
import type { ErfMapResult, ErfRequest, Progress } from './messages';

/** What the job needs of the engine's hooks (core.ts's CoreHooks has these). */
export interface ErfHooks {
  progress(p: Progress): void;
  cancelled(): boolean;
}

/** More would take minutes on a large network for a figure that has long settled. */
export const MAX_ERF_INPUTS = 64;

const pause = () => new Promise<void>((r) => setTimeout(r, 0));

export async function runErf(model: Model, key: string, lastInput: Float32Array | undefined, req: ErfRequest, hooks: ErfHooks): Promise<ErfMapResult> {
  const t0 = performance.now();
  const acc = new ErfAccumulator(model.graph, model.weights, model.tensors, req.node, { channel: req.channel, mode: 'eval' });
  const shape = acc.inputShape;
  const per = shape[0] * shape[1] * shape[2];
  let inputs: Float32Array;
  let count: number;
  if (req.source === 'image') {
    if (!lastInput) throw new Error('run the network on an image first: the map averages over its input');
    if (lastInput.length !== per) throw new Error('the last run was of another input shape: run again');
    inputs = lastInput;
    count = 1;
  } else {
    count = req.count;
    if (!(Number.isInteger(count) && count >= 1 && count <= MAX_ERF_INPUTS)) throw new Error(`the number of noise inputs must be 1…${MAX_ERF_INPUTS}, not ${count}`);
    inputs = noiseInputs(shape, count, req.seed ?? 0).data;
  }
  const label = (done: number) => `effective receptive field of ${acc.node.path}: input ${Math.min(done + 1, count)} of ${count}`;
  for (let b = 0; b < count; b++) {
    hooks.progress({ done: b, total: count, label: label(b) });
    await pause();
    if (hooks.cancelled()) throw new Error('cancelled');
    acc.add(tensor([1, ...shape], inputs.subarray(b * per, (b + 1) * per)));
  }
  hooks.progress({ done: count, total: count, label: `effective receptive field of ${acc.node.path}: done` });
  const r = acc.result();
  return { ...r, key, source: req.source, ms: performance.now() - t0 };
}
