/** Picking and opening the engine for `cnn run` and `cnn bench`. */
import { cpus } from 'node:os';
import { BudgetError, checkWasmLimit, type MemoryNeeds } from '../../engine/budget';
import { createCpuSession, createFastCpuSession, createWebGpuSession, type InferenceSession, type Model } from '../../engine/session';
import { isSoftwareAdapter } from '../../engine/webgpu/adapter';
import { CliError, UsageError, type OptionSpecs } from '../command';

export const backendOptions = {
  backend: { type: 'string', value: 'cpu|webgpu|reference', help: 'the engine: WebGPU on a hardware adapter, else the CPU (WebAssembly SIMD), by default; reference is the plain JavaScript one' },
} satisfies OptionSpecs;

const BACKENDS = ['cpu', 'webgpu', 'reference'];

function cpuModel(): string | undefined {
  return cpus()[0]?.model?.trim() || undefined;
}

/** Dawn is loaded only when WebGPU is wanted: it is a native module, and `cnn run --backend cpu` should not pay for it. */
async function nodeDevice() {
  return import('../../engine/webgpu/node-device');
}

async function findAdapter(): Promise<{ adapter: GPUAdapter | null; why?: string }> {
  try {
    const { requestNodeAdapter } = await nodeDevice();
    return { adapter: await requestNodeAdapter() };
  } catch (e) {
    return { adapter: null, why: (e as Error).message.split('\n')[0] };
  }
}

/** The engine chosen before any weights exist, so that its limits are checked before they are seeded. */
export type BackendChoice = { kind: 'reference'; note: string } | { kind: 'cpu'; note: string } | { kind: 'webgpu'; note: string; adapter: GPUAdapter };

/** `--backend` checked against the choices: a wrong name is a usage error, found before any work. */
export function requestedBackend(requested: unknown): string | undefined {
  if (requested !== undefined && !BACKENDS.includes(requested as string)) throw new UsageError(`--backend ${String(requested)}: choose cpu, webgpu or reference`);
  return requested as string | undefined;
}

/**
 * `--backend cpu|webgpu|reference`, or by default WebGPU on a hardware adapter and the CPU
 * otherwise: a software adapter (SwiftShader) is far slower than the CPU path, so it runs only
 * when asked for. `cpu` is the fast engine (WebAssembly SIMD); `reference` the plain JavaScript
 * one it is tested against (an extension of the CLI spec's cpu|webgpu).
 */
export async function chooseBackend(requested: unknown): Promise<BackendChoice> {
  const want = requestedBackend(requested);
  if (want === 'reference') return { kind: 'reference', note: 'backend: cpu (the JavaScript reference)' };
  if (want === 'cpu') return { kind: 'cpu', note: 'backend: cpu' };
  const { adapter, why } = await findAdapter();
  if (!adapter) {
    if (want === 'webgpu') {
      throw new CliError(`no WebGPU adapter${why ? ` (${why})` : ''}: install a Vulkan driver (or Chromium's SwiftShader and set VK_ICD_FILENAMES), or use --backend cpu`);
    }
    return { kind: 'cpu', note: 'backend: cpu (no WebGPU adapter found)' };
  }
  if (want === undefined && isSoftwareAdapter(adapter)) {
    const name = adapter.info.description || adapter.info.architecture || 'software';
    return { kind: 'cpu', note: `backend: cpu (the only WebGPU adapter, ${name}, is a software one and slower here; select it with --backend webgpu)` };
  }
  return { kind: 'webgpu', note: '', adapter };
}

/** The engine's own limits, checked before the weights are made: the CPU engine's 4 GiB of WebAssembly memory. */
export function checkBackendLimits(choice: BackendChoice, needs: MemoryNeeds): void {
  if (choice.kind !== 'cpu') return;
  try {
    checkWasmLimit(needs);
  } catch (e) {
    if (e instanceof BudgetError) throw new CliError(`${e.message}${choice.note === 'backend: cpu' ? '' : ' (no hardware WebGPU adapter here)'}`);
    throw e;
  }
}

export interface OpenedBackend {
  session: InferenceSession;
  /** What the human output says about the choice, on stderr. */
  note: string;
  close(): void;
}

/** One engine message line; at batch 1 an engine's "use a smaller batch" has nothing to offer. */
function engineMessage(e: unknown, batch: number): string {
  const msg = (e as Error).message?.split('\n')[0] ?? String(e);
  return batch === 1 ? msg.replace(/;\s*use a smaller batch\.?$/, '') : msg;
}

export async function openSession(choice: BackendChoice, model: Model, batch: number): Promise<OpenedBackend> {
  const cpuName = cpuModel();
  const on = cpuName ? ` on ${cpuName}` : '';
  if (choice.kind === 'reference') return { session: createCpuSession(model, batch, `JavaScript reference${on}`), note: choice.note, close() {} };
  if (choice.kind === 'cpu') {
    let session: InferenceSession;
    try {
      session = await createFastCpuSession(model, batch, { adapter: `WebAssembly SIMD${on}` });
    } catch (e) {
      throw new CliError(`cpu: ${engineMessage(e, batch)}`);
    }
    return { session, note: choice.note, close: () => session.destroy() };
  }
  const { createDeviceFor } = await nodeDevice();
  const adapter = choice.adapter;
  let gpu: Awaited<ReturnType<typeof createDeviceFor>>;
  try {
    gpu = await createDeviceFor(adapter);
  } catch (e) {
    throw new CliError(`cannot open the WebGPU device: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    // Software adapters compile the GEMM kernels slowly (seconds each); the direct ones in milliseconds.
    const session = await createWebGpuSession(gpu.device, gpu.adapterName, model, batch, { convAlgorithm: isSoftwareAdapter(adapter) ? 'direct' : 'auto' });
    return {
      session,
      note: `backend: webgpu (${gpu.adapterName})`,
      close() {
        session.destroy();
        gpu.device.destroy();
      },
    };
  } catch (e) {
    gpu.device.destroy();
    throw new CliError(`webgpu: ${engineMessage(e, batch)}`);
  }
}

/** Chooses and opens in one step, for callers that have their weights already. */
export async function openBackend(requested: unknown, model: Model, batch: number): Promise<OpenedBackend> {
  return openSession(await chooseBackend(requested), model, batch);
}
