/**
 * One interface over both engines, so that the CLI (and later the webview) run, time and
 * profile a network without caring where it runs. Browser-safe: the WebGPU device is passed in.
 */
import { forwardCpu } from './cpu/forward';
import { numel, tensor } from './tensor';
import { WebGpuNetwork, type WebGpuNetworkOptions } from './webgpu/network';

/** The fast CPU engine (WebAssembly SIMD): what `--backend cpu` and the webview's CPU path run. */
export { createFastCpuSession, type FastCpuOptions, type FastCpuSession, WasmUnavailableError } from './wasm/session';

export type { BackendKind, InferenceSession, LayerTime, Model } from './inference';
import type { InferenceSession, LayerTime, Model } from './inference';

export function inputShapeOf(model: Model): number[] {
  const inputs = model.graph.nodes.filter((n) => n.attrs.kind === 'input');
  if (inputs.length !== 1) throw new Error(`expected one input layer, found ${inputs.length}`);
  return [...model.shapes[inputs[0].id]];
}

export function outputShapeOf(model: Model): number[] {
  return [...model.shapes[model.graph.output]];
}

/** The JavaScript reference engine: exact, single-threaded, slow; the oracle of the fast one (`--backend reference`). */
export function createCpuSession(model: Model, batch: number, adapter = 'JavaScript reference'): InferenceSession {
  const inShape = [batch, ...inputShapeOf(model)];
  const check = (input: Float32Array) => {
    if (input.length !== numel(inShape)) throw new Error(`input has ${input.length} values, expected [${inShape.join(', ')}] = ${numel(inShape)}`);
  };
  return {
    backend: 'cpu',
    adapter,
    batch,
    async run(input) {
      check(input);
      return forwardCpu(model.graph, model.weights, model.tensors, tensor(inShape, input)).output.data;
    },
    async profile(input) {
      check(input);
      const times: LayerTime[] = [];
      forwardCpu(model.graph, model.weights, model.tensors, tensor(inShape, input), {
        onLayer: (node, ms) => times.push({ path: model.graph.nodes[node].path, nodes: [node], ms }),
      });
      return times;
    },
    destroy() {},
  };
}

/** The WebGPU engine on a given device; compiles the network for this batch size. */
export async function createWebGpuSession(device: GPUDevice, adapter: string, model: Model, batch: number, opts: WebGpuNetworkOptions = {}): Promise<InferenceSession> {
  const net = await WebGpuNetwork.create(device, model.graph, model.shapes, model.tensors, model.weights, batch, opts);
  return {
    backend: 'webgpu',
    adapter,
    batch,
    run: (input) => net.run(input),
    async profile(input) {
      const p = await net.profile(input);
      return p.layers.map((l) => ({ path: l.path, nodes: l.nodes, ms: l.ms }));
    },
    destroy: () => net.destroy(),
  };
}
