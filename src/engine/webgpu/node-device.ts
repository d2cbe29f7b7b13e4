/**
 * A GPUDevice for Node through Dawn (the `webgpu` package). The engine itself only takes a
 * device; this is the one place that makes one, for the CLI and the tests.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { create, globals } from 'webgpu';
import { adapterName } from './adapter';

export interface NodeGpu {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** Vendor, architecture and description as the adapter reports them. */
  adapterName: string;
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Dawn dlopens `libvulkan.so.1` by name. Where no system loader is installed but a browser ships
 * one next to its SwiftShader ICD, loading that file first (kept resident with RTLD_NODELETE)
 * makes the later dlopen find it by soname. process.dlopen rejects it as "not a Node module",
 * after the library is already loaded, which is all we need.
 */
function preloadVulkanLoader(): void {
  if (process.platform !== 'linux') return;
  const RTLD_NOW = 2;
  const RTLD_GLOBAL = 0x100;
  const RTLD_NODELETE = 0x1000;
  const icd = process.env.VK_ICD_FILENAMES;
  const candidates = ['libvulkan.so.1', ...(icd ? [join(dirname(icd), 'libvulkan.so.1')] : []), '/usr/lib/chromium/libvulkan.so.1'];
  for (const lib of candidates) {
    if (lib.startsWith('/') && !existsSync(lib)) continue;
    try {
      process.dlopen({ exports: {} }, lib, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
      return;
    } catch (e) {
      if (/self-register/.test(String(e))) return; // loaded; it is just not a Node addon
    }
  }
}

/**
 * Vulkan drivers (SwiftShader among them) probe for a Wayland display through libwayland, which
 * prints "error: XDG_RUNTIME_DIR is invalid or not set" to stderr in a headless shell, before
 * every `cnn run`. A private empty runtime folder lets the probe fail quietly.
 */
function quietWaylandProbe(): void {
  if (process.platform !== 'linux' || process.env.XDG_RUNTIME_DIR) return;
  try {
    const dir = join(tmpdir(), `cnn-runtime-${userInfo().uid}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // Only the message is at stake.
  }
}

let gpuSingleton: GPU | undefined;

/** Uses Chromium's SwiftShader when no Vulkan ICD is configured and it is present; call before the first device. */
export function useSwiftShaderIfPresent(): boolean {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return process.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD;
}

function nodeGpu(): GPU {
  if (!gpuSingleton) {
    preloadVulkanLoader();
    quietWaylandProbe();
    Object.assign(globalThis, globals);
    gpuSingleton = create([]);
  }
  return gpuSingleton;
}

/**
 * An adapter from the system's Vulkan drivers, else from Chromium's SwiftShader when no ICD is
 * configured and the file exists. Trying the system first keeps a real GPU visible on machines
 * that also have Chromium; a fresh Dawn instance is needed for the second try because the Vulkan
 * loader reads VK_ICD_FILENAMES when an instance is created.
 */
export async function requestNodeAdapter(powerPreference: GPUPowerPreference = 'high-performance'): Promise<GPUAdapter | null> {
  const adapter = await nodeGpu().requestAdapter({ powerPreference });
  if (adapter || process.env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) return adapter;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  gpuSingleton = undefined;
  return nodeGpu().requestAdapter({ powerPreference });
}

/**
 * A device with the adapter's largest buffer limits (VGG's fc6 alone is 411 MB), and timestamp
 * queries where offered.
 */
export async function createDeviceFor(adapter: GPUAdapter): Promise<NodeGpu> {
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
  return { device, adapter, adapterName: adapterName(adapter) };
}

/** Requests an adapter (see requestNodeAdapter) and its device; null when there is no adapter. */
export async function createNodeDevice(powerPreference: GPUPowerPreference = 'high-performance'): Promise<NodeGpu | null> {
  const adapter = await requestNodeAdapter(powerPreference);
  return adapter ? createDeviceFor(adapter) : null;
}
