/** The engine worker: runs forward passes and benchmarks off the panel's thread. */
import { EngineCore } from './core';
import type { BenchDecision, WorkerIn, WorkerOut } from './messages';

interface WorkerScope {
  postMessage(m: WorkerOut, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<WorkerIn>) => void) | null;
  navigator: { gpu?: GPU };
}

const scope = self as unknown as WorkerScope;
const core = new EngineCore({ gpu: scope.navigator.gpu });
const cancelled = new Set<number>();
/** Requests waiting for the panel's answer to a question (BenchEstimate). */
const asking = new Map<number, (d: BenchDecision) => void>();

scope.onmessage = (e) => {
  const m = e.data;
  if ('cancel' in m) {
    cancelled.add(m.cancel);
    asking.get(m.cancel)?.({ go: 'cancel' });
    asking.delete(m.cancel);
    return;
  }
  if ('answer' in m) {
    asking.get(m.answer)?.(m.decision);
    asking.delete(m.answer);
    return;
  }
  const { id, req } = m;
  core
    .handle(req, {
      progress: (p) => scope.postMessage({ id, progress: p }),
      cancelled: () => cancelled.has(id),
      deviceLost: (message) => scope.postMessage({ event: 'device-lost', message }),
      ask: (q) =>
        new Promise<BenchDecision>((resolve) => {
          asking.set(id, resolve);
          scope.postMessage({ id, progress: { done: 0, total: 0, label: 'waiting for your answer', ask: q } });
        }),
    })
    .then(
      (result) => scope.postMessage({ id, ok: true, result }),
      (err: unknown) => scope.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    )
    .finally(() => cancelled.delete(id));
};
