/** A WebGPU device for the engine tests: SwiftShader when no Vulkan ICD is configured; under CI a missing GPU fails loudly. */
import { existsSync } from 'node:fs';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface TestGpu {
  device: GPUDevice;
  adapterName: string;
  software: boolean;
}

let pending: Promise<TestGpu | undefined> | undefined;

export function testGpu(): Promise<TestGpu | undefined> {
  pending ??= (async () => {
    // Must be chosen before Dawn creates its Vulkan instance.
    if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
    const { createNodeDevice } = await import('../../src/engine/webgpu/node-device');
    const { isSoftwareAdapter } = await import('../../src/engine/webgpu/adapter');
    let reason = 'no WebGPU adapter (is a Vulkan driver or SwiftShader installed? set VK_ICD_FILENAMES)';
    try {
      const gpu = await createNodeDevice();
      if (gpu) {
        gpu.device.addEventListener('uncapturederror', (e) => {
          throw new Error(`uncaptured WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
        });
        return { device: gpu.device, adapterName: gpu.adapterName, software: isSoftwareAdapter(gpu.adapter) };
      }
    } catch (e) {
      reason = `creating a WebGPU device failed: ${String(e)}`;
    }
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`WebGPU tests cannot run under CI: ${reason}`);
    console.warn(`skipping WebGPU tests: ${reason}`);
    return undefined;
  })();
  return pending;
}
