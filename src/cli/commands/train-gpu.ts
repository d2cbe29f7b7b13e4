/** The WebGPU device of `cnn grad --backend webgpu` and `cnn train --backend webgpu`. */
import { CliError } from '../command';

export interface TrainingGpu {
  device: GPUDevice;
  adapterName: string;
}

/** A device from the system's Vulkan drivers or SwiftShader; none is a one-line error. Dawn is loaded only here, when asked for. */
export async function trainingGpu(): Promise<TrainingGpu> {
  let why = '';
  try {
    const { createNodeDevice } = await import('../../engine/webgpu/node-device');
    const gpu = await createNodeDevice();
    if (gpu) return { device: gpu.device, adapterName: gpu.adapterName };
  } catch (e) {
    why = ` (${(e as Error).message.split('\n')[0]})`;
  }
  throw new CliError(`--backend webgpu: no WebGPU adapter${why}: install a Vulkan driver (or Chromium's SwiftShader and set VK_ICD_FILENAMES), or use --backend cpu`);
}
