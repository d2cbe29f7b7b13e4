/**
 * The panel's handle on the layout: a worker made from the fetched layout bundle (a blob: URL, as
 * for the engine), so that laying out a big expanded network (DenseNet-121's 428 layers take
 * about a second) never blocks typing or scrolling; the same code on the page where a worker
 * cannot start. The last few results are kept by their input, so an edit that changes no box's
 * size or edge draws at once.
 */
import { type LayoutInput, type LayoutOutput, layered } from './layered';

const KEEP = 8;

export class LayoutClient {
  private worker: Promise<Worker | undefined>;
  private next = 1;
  private readonly waiting = new Map<number, { resolve(o: LayoutOutput): void; reject(e: Error): void }>();
  private readonly cache = new Map<string, LayoutOutput>();

  constructor(url: string) {
    this.worker = url
      ? fetch(url)
          .then(async (res) => {
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            const w = new Worker(URL.createObjectURL(new Blob([await res.text()], { type: 'text/javascript' })));
            w.onmessage = (e: MessageEvent<{ id: number; ok: boolean; out?: LayoutOutput; error?: string }>) => {
              const m = e.data;
              const p = this.waiting.get(m.id);
              this.waiting.delete(m.id);
              if (m.ok) p?.resolve(m.out!);
              else p?.reject(new Error(m.error));
            };
            w.onerror = (e) => {
              for (const p of this.waiting.values()) p.reject(new Error(`the layout worker failed: ${e.message || 'unknown error'}`));
              this.waiting.clear();
            };
            return w;
          })
          .catch(() => undefined)
      : Promise.resolve(undefined);
  }

  async layout(input: LayoutInput): Promise<LayoutOutput> {
    const key = JSON.stringify(input);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const w = await this.worker;
    const out = w
      ? await new Promise<LayoutOutput>((resolve, reject) => {
          const id = this.next++;
          this.waiting.set(id, { resolve, reject });
          w.postMessage({ id, input });
        })
      : layered(input);
    this.cache.set(key, out);
    while (this.cache.size > KEEP) this.cache.delete(this.cache.keys().next().value!);
    return out;
  }
}
