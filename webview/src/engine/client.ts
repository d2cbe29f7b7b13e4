/**
 * The panel's handle on the engine: a worker made from the fetched worker bundle (a blob: URL,
 * since VS Code serves the bundle from another origin), or the same engine on the page when a
 * worker cannot start.
 */
import { EngineCore } from './core';
import type { BenchDecision, EngineRequest, Progress, WorkerIn, WorkerOut } from './messages';

export interface Pending<T> {
  promise: Promise<T>;
  cancel(): void;
  /** Answers the question a progress report asked (`Progress.ask`). */
  answer(d: BenchDecision): void;
}

interface Waiter {
  resolve(v: unknown): void;
  reject(e: Error): void;
  progress?: (p: Progress) => void;
}

export class EngineClient {
  private next = 1;
  private readonly waiting = new Map<number, Waiter>();
  onDeviceLost: (message: string) => void = () => {};

  private constructor(
    readonly mode: 'worker' | 'page',
    private readonly worker?: Worker,
    private readonly core?: EngineCore,
    readonly why?: string,
  ) {
    if (worker) {
      worker.onmessage = (e: MessageEvent<WorkerOut>) => this.receive(e.data);
      worker.onerror = (e) => this.failAll(`the engine worker failed: ${e.message || 'unknown error'}`);
    }
  }

  static async create(workerUrl: string): Promise<EngineClient> {
    try {
      const res = await fetch(workerUrl);
      if (!res.ok) throw new Error(`HTTP ${res.status} for the worker bundle`);
      const blob = new Blob([await res.text()], { type: 'text/javascript' });
      const url = URL.createObjectURL(blob);
      const worker = new Worker(url);
      return new EngineClient('worker', worker);
    } catch (e) {
      const nav = navigator as Navigator & { gpu?: GPU };
      return new EngineClient('page', undefined, new EngineCore({ gpu: nav.gpu }), (e as Error).message);
    }
  }

  request<T>(req: EngineRequest, progress?: (p: Progress) => void): Pending<T> {
    const id = this.next++;
    let cancelled = false;
    /** The page engine's open question, if any. */
    let asking: ((d: BenchDecision) => void) | undefined;
    const promise = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      if (this.worker) {
        const transfer: Transferable[] = [];
        this.worker.postMessage({ id, req } satisfies WorkerIn, transfer);
      } else {
        this.core!
          .handle(req, {
            progress: (p) => this.receive({ id, progress: p }),
            cancelled: () => cancelled,
            deviceLost: (message) => this.receive({ event: 'device-lost', message }),
            ask: (q) =>
              new Promise<BenchDecision>((r) => {
                asking = r;
                this.receive({ id, progress: { done: 0, total: 0, label: 'waiting for your answer', ask: q } });
              }),
          })
          .then(
            (result) => this.receive({ id, ok: true, result }),
            (err: unknown) => this.receive({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
          );
      }
    });
    return {
      promise,
      cancel: () => {
        cancelled = true;
        asking?.({ go: 'cancel' });
        asking = undefined;
        this.worker?.postMessage({ cancel: id } satisfies WorkerIn);
      },
      answer: (decision) => {
        asking?.(decision);
        asking = undefined;
        this.worker?.postMessage({ answer: id, decision } satisfies WorkerIn);
      },
    };
  }

  private receive(m: WorkerOut): void {
    if ('event' in m) {
      this.onDeviceLost(m.message);
      return;
    }
    const w = this.waiting.get(m.id);
    if (!w) return;
    if ('progress' in m) {
      w.progress?.(m.progress);
      return;
    }
    this.waiting.delete(m.id);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(m.error));
  }

  private failAll(message: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(message));
    this.waiting.clear();
  }
}
