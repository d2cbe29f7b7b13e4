/**
 * Whether an adapter is a software rasteriser (SwiftShader, lavapipe, WARP): Dawn marks these as
 * fallback adapters; older builds only tell by name. On them WebGPU runs on the CPU through an
 * emulated GPU, much slower than the engine's own CPU path, so the CLI does not pick one by default.
 */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  if (info.isFallbackAdapter || legacy) return true;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|microsoft basic render|warp/.test(text);
}

/** Vendor, architecture and description as the adapter reports them, in one line. */
export function adapterName(adapter: GPUAdapter): string {
  const info = adapter.info;
  return [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter';
}
