/** The element-wise product of branches, a C×1×1 gate broadcast over every position. */
import { elementwise, type Kernel, outIndexFn, type OutPlace } from './wgsl';

/** Inputs multiplied per dispatch; the output takes one more of the 8 storage bindings WebGPU guarantees. */
export const MUL_INPUTS_PER_DISPATCH = 6;

/**
 * Multiplies up to 6 inputs into the output (into what is there when `accumulate`). `perPixel`
 * gives each input's values per (batch, channel): `hw` for a full input, 1 for a C×1×1 gate.
 */
export function mulKernel(label: string, count: number, hw: number, accumulate: boolean, place: OutPlace, inputs: { buffer: GPUBuffer; gate: boolean }[], output: GPUBuffer): Kernel {
  const decls = [
    ...inputs.map((_, j) => `@group(0) @binding(${j}) var<storage, read> a${j}: array<f32>;`),
    `@group(0) @binding(${inputs.length}) var<storage, read_write> y: array<f32>;`,
    outIndexFn(place),
  ].join('\n');
  const product = inputs.map((inp, j) => (inp.gate ? `a${j}[i / ${hw}u]` : `a${j}[i]`)).join(' * ');
  const body = `let o = outIndex(i);\n  y[o] = ${accumulate ? 'y[o] * ' : ''}${product};`;
  return elementwise(label, count, decls, body, [...inputs.map((i) => i.buffer), output]);
}
