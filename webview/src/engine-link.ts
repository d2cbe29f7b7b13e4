/**
 * The panel's link to its engine worker: created once, probed for WebGPU, and loaded with the
 * current network (with the user's weights or the seeded ones) when a run or benchmark needs it.
 */
import type { FileAnalysis, NetworkAnalysis } from '../../src/analysis';
import { EngineClient } from './engine/client';
import type { GpuProbe } from './engine/messages';
import type { PickedFile } from './protocol';

function hash(s: string): string {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return x.toString(16);
}

export class EngineLink {
  client: EngineClient | undefined;
  probe: GpuProbe | undefined;
  readonly ready: Promise<EngineClient>;
  /** What the worker holds now: network, text and weights; '' after a lost device. */
  private loadedKey = '';

  constructor(workerUrl: string, onLost: (message: string) => void, onProbe: () => void) {
    this.ready = EngineClient.create(workerUrl).then(async (e) => {
      this.client = e;
      e.onDeviceLost = (m) => {
        onLost(m);
        this.loadedKey = '';
      };
      this.probe = await e.request<GpuProbe>({ op: 'probe' }).promise;
      onProbe();
      return e;
    });
  }

  /** WebGPU can run here (a hardware adapter, or a software one the user may still pick). */
  gpuUsable(): boolean {
    return this.probe?.status === 'ok' || this.probe?.status === 'software';
  }

  /** Makes the network the engine's, with the given weights or the seeded ones. */
  async load(analysis: FileAnalysis | undefined, net: NetworkAnalysis | undefined, text: string, weights: PickedFile | undefined): Promise<EngineClient> {
    const e = await this.ready;
    if (!net || !analysis) throw new Error('no network to run');
    const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`the file has ${errors.length} error${errors.length > 1 ? 's' : ''}; fix ${errors.length > 1 ? 'them' : 'it'} first (line ${errors[0].range.start.line + 1}: ${errors[0].message})`);
    if (net.layers.some((l) => !l.shape)) throw new Error('some layer shapes are unknown');
    const key = `${net.graph.network}|${hash(text)}|${weights?.uri ?? 'seeded'}`;
    if (key === this.loadedKey) return e;
    let bytes: Uint8Array | null = null;
    if (weights) {
      const res = await fetch(weights.uri);
      if (!res.ok) throw new Error(`cannot read the weights ${weights.name}: HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    }
    const model = { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors };
    await e.request({ op: 'load', key, model, weights: bytes }).promise;
    this.loadedKey = key;
    return e;
  }
}
