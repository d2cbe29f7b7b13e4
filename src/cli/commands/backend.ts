/** Picking and opening the engine for `cnn run` and `cnn bench`. */
import { cpus } from 'node:os';
import { createCpuSession, createFastCpuSession, createWebGpuSession, type InferenceSession, type Model } from '../../engine/session';
import { isSoftwareAdapter } from '../../engine/webgpu/adapter';
import { CliError } from '../main';

export const backendOptions = {
  backend: { type: 'string' },
} as const;

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

export interface OpenedBackend {
  session: InferenceSession;
  /** What the human output says about the choice, on stderr. */
  note: string;
  close(): void;
}

/**
 * `--backend cpu|webgpu|reference`, or by default WebGPU on a hardware adapter and the CPU
 * otherwise: a software adapter (SwiftShader) is far slower than the CPU path, so it runs only
 * when asked for. `cpu` is the fast engine (WebAssembly SIMD); `reference` the plain JavaScript
 * one it is tested against (an extension of the CLI spec's cpu|webgpu).
 */
export async function openBackend(requested: unknown, model: Model, batch: number): Promise<OpenedBackend> {
  if (requested !== undefined && !BACKENDS.includes(requested as string)) throw new CliError(`--backend ${String(requested)}: choose cpu, webgpu or reference`);
  const cpuName = cpuModel();
  const on = cpuName ? ` on ${cpuName}` : '';
  if (requested === 'reference') return { session: createCpuSession(model, batch, `JavaScript reference${on}`), note: 'backend: cpu (the JavaScript reference)', close() {} };
  const cpu = async (note: string): Promise<OpenedBackend> => {
    let session: InferenceSession;
    try {
      session = await createFastCpuSession(model, batch, { adapter: `WebAssembly SIMD${on}` });
    } catch (e) {
      throw new CliError(`cpu: ${(e as Error).message.split('\n')[0]}`);
    }
    return { session, note, close: () => session.destroy() };
  };
  if (requested === 'cpu') return cpu('backend: cpu');
  const { adapter, why } = await findAdapter();
  if (!adapter) {
    if (requested === 'webgpu') {
      throw new CliError(`no WebGPU adapter${why ? ` (${why})` : ''}: install a Vulkan driver (or Chromium's SwiftShader and set VK_ICD_FILENAMES), or use --backend cpu`);
    }
    return cpu('backend: cpu (no WebGPU adapter found)');
  }
  const { createDeviceFor } = await nodeDevice();
  if (requested === undefined && isSoftwareAdapter(adapter)) {
    const name = adapter.info.description || adapter.info.architecture || 'software';
    return cpu(`backend: cpu (the only WebGPU adapter, ${name}, is a software one and slower here; select it with --backend webgpu)`);
  }
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
    throw new CliError(`webgpu: ${(e as Error).message.split('\n')[0]}`);
  }
}
