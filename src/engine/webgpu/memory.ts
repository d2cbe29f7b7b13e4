/** Bytes the network will allocate on the GPU, by kind, checked against the device's limits before any allocation. */
export interface MemoryEstimate {
  activationBytes: number;
  weightBytes: number;
  /** Readback staging for the output. */
  stagingBytes: number;
  totalBytes: number;
  /** The largest single buffer, which must fit maxBufferSize and, being bound whole, maxStorageBufferBindingSize. */
  largestBinding: { bytes: number; what: string };
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Throws a message that says what does not fit, by how much, and what to do about it. */
export function checkFits(est: MemoryEstimate, limits: { maxStorageBufferBindingSize: number; maxBufferSize: number }, budgetBytes: number | undefined): void {
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (est.largestBinding.bytes > cap) {
    throw new Error(
      `${est.largestBinding.what} needs one buffer of ${formatBytes(est.largestBinding.bytes)}, but this GPU binds at most ` +
        `${formatBytes(cap)} (maxStorageBufferBindingSize ${formatBytes(limits.maxStorageBufferBindingSize)}, maxBufferSize ${formatBytes(limits.maxBufferSize)}); use a smaller batch or the CPU backend`,
    );
  }
  if (budgetBytes !== undefined && est.totalBytes > budgetBytes) {
    throw new Error(
      `the network needs about ${formatBytes(est.totalBytes)} of GPU memory (activations ${formatBytes(est.activationBytes)}, ` +
        `weights ${formatBytes(est.weightBytes)}), more than the ${formatBytes(budgetBytes)} allowed; use a smaller batch or the CPU backend`,
    );
  }
}
