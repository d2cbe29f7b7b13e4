/**
 * The kernels' WebAssembly module (kernels.c, built by scripts/build-wasm.mjs): its exports, the
 * descriptor layouts they read, and one compilation per process. The bytes are embedded, so
 * nothing is fetched (Node, browsers, web workers, the VS Code webview).
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/** Must match kernels.c. */
export const MR = 4;

/** Field order of kernels.c's ConvDesc, LinearDesc and PoolDesc (all 4-byte fields). */
export const CONV_FIELDS = [
  'batch', 'cin', 'h', 'w', 'cout', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw', 'groups',
  'x', 'x_bstride', 'y', 'y_bstride', 'res', 'res_bstride', 'wt', 'bias', 'act', 'slope', 'scratch', 'algo',
] as const;
export const LINEAR_FIELDS = ['batch', 'in', 'out', 'x', 'y', 'y_bstride', 'wt', 'bias', 'act', 'slope'] as const;
export const POOL_FIELDS = ['batch', 'c', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'x', 'y', 'y_bstride', 'avg', 'scratch'] as const;
const FLOAT_FIELDS = new Set(['slope']);

/** kernels.c's epilogue activations. */
export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_LEAKY = 2;
export const ACT_RELU6 = 3;
export const ACT_HARDSIGMOID = 4;
export const ACT_HARDSWISH = 5;
export const ACT_SILU = 6;
export const ACT_GELU = 7;
export const ACT_GELU_TANH = 8;

export interface Kernels {
  conv2d(desc: number): void;
  conv_gemm_scratch(): number;
  conv_direct_scratch(desc: number): number;
  pool_scratch(h: number, ow: number, kw: number, sw: number): number;
  pack_weights(src: number, dst: number, cout: number, groups: number, kk: number, scale: number, mode: number): void;
  scale_rows(p: number, rows: number, cols: number, scale: number): void;
  linear(desc: number): void;
  pool2d(desc: number): void;
  gap(x: number, y: number, batch: number, channels: number, hw: number, yBstride: number): void;
  add_n(inputs: number, n: number, y: number, batch: number, count: number, yBstride: number, act: number, slope: number): void;
  scale_shift(x: number, y: number, batch: number, channels: number, hw: number, yBstride: number, scale: number, shift: number, act: number, slope: number): void;
  __heap_base: WebAssembly.Global;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** WebAssembly (with SIMD) cannot compile here: an old engine, or a page whose CSP lacks 'wasm-unsafe-eval'. */
export class WasmUnavailableError extends Error {}

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The compiled kernels module, once per process (or worker). */
export function kernelsModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(wasmBytes()).catch((e: unknown) => {
    compiled = undefined;
    throw new WasmUnavailableError(`cannot compile the CPU engine's WebAssembly (SIMD needed: Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+): ${(e as Error).message}`);
  });
  return compiled;
}

/** Writes a descriptor's fields, in the order kernels.c declares them, at byte address `at`. */
export function writeFields(i32: Int32Array, f32: Float32Array, at: number, fields: readonly string[], values: Record<string, number>): void {
  fields.forEach((f, j) => {
    const v = values[f];
    if (v === undefined) throw new Error(`internal: descriptor field ${f} missing`);
    if (FLOAT_FIELDS.has(f)) f32[at / 4 + j] = v;
    else i32[at / 4 + j] = v;
  });
}

/** A conv's geometry in the descriptor, with `rest` (pointers; zeros where not given). */
export function convFields(
  a: { out: number; kernel: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number },
  inShape: readonly number[],
  outShape: readonly number[],
  batch: number,
  rest: Record<string, number>,
): Record<string, number> {
  const zeros = { x: 0, x_bstride: 0, y: 0, y_bstride: 0, res: 0, res_bstride: 0, wt: 0, bias: 0, act: 0, slope: 0, scratch: 0, algo: 0 };
  return {
    batch, cin: inShape[0], h: inShape[1], w: inShape[2], cout: a.out, oh: outShape[1], ow: outShape[2], kh: a.kernel[0], kw: a.kernel[1],
    sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1], dh: a.dilation[0], dw: a.dilation[1], groups: a.groups,
    ...zeros,
    ...rest,
  };
}

/**
 * V8 first runs WebAssembly in its baseline compiler (Liftoff, several times slower here) and
 * compiles a function with TurboFan in the background once it has run long enough; the call after
 * that runs the fast code. A small conv through both algorithms and a pool, on the arena before
 * it holds anything, start that now, so that the first pass of a one-shot `cnn run` is not spent
 * in Liftoff. About a millisecond; skipped where the arena or scratch is too small for it.
 */
export function warmUp(k: Kernels, i32: Int32Array, f32: Float32Array, arenaAt: number, arenaBytes: number, scratchAt: number, scratchFloats: number): void {
  const c = 16;
  const hw = 16;
  const plane = c * hw * hw;
  const descAt = arenaAt;
  const x = arenaAt + 256;
  const y = x + plane * 4;
  const w = y + plane * 4;
  const bias = w + c * c * 9 * 4;
  if (bias + c * 4 > arenaAt + arenaBytes || scratchFloats < 8192) return;
  f32.fill(0, arenaAt / 4, (bias + c * 4) / 4);
  const conv = { out: c, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };
  for (const algo of [0, 1]) {
    const fields = convFields(conv, [c, hw, hw], [c, hw, hw], 1, { x, x_bstride: plane, y, y_bstride: plane, wt: w, bias, act: ACT_RELU, scratch: scratchAt, algo });
    writeFields(i32, f32, descAt, CONV_FIELDS, fields);
    if ((algo === 1 ? k.conv_direct_scratch(descAt) : k.conv_gemm_scratch()) > scratchFloats) continue;
    for (let r = 0; r < 3; r++) k.conv2d(descAt);
  }
  const pool = { batch: 1, c, h: hw, w: hw, oh: hw / 2, ow: hw / 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, x, y, y_bstride: plane, avg: 0, scratch: scratchAt };
  writeFields(i32, f32, descAt, POOL_FIELDS, pool);
  if (k.pool_scratch(hw, hw / 2, 2, 2) <= scratchFloats) for (let r = 0; r < 3; r++) k.pool2d(descAt);
}
