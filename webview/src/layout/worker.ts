/** The layout worker: lays out one graph per message (layered.ts), off the panel's thread. */
import { type LayoutInput, type LayoutOutput, layered } from './layered';

interface Scope {
  postMessage(m: { id: number; ok: true; out: LayoutOutput } | { id: number; ok: false; error: string }): void;
  onmessage: ((e: MessageEvent<{ id: number; input: LayoutInput }>) => void) | null;
}

const scope = self as unknown as Scope;
scope.onmessage = (e) => {
  const { id, input } = e.data;
  try {
    scope.postMessage({ id, ok: true, out: layered(input) });
  } catch (err) {
    scope.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
