/**
 * The fast training path's WebAssembly kernels (src/engine/wasm/train-kernels.c): one instance
 * per process or worker, compiled synchronously on first use (the module is about 10 KB; the
 * training pass is synchronous), and a scratch arena in its memory. Each kernel call copies its
 * tensors in, runs, and copies the results out into fresh JavaScript arrays, so nothing in the
 * arena outlives the call and the arena is simply reset before the next one.
 */
import { TRAIN_KERNELS_WASM_BASE64 } from '../wasm/train-kernels-wasm';

interface TrainExports {
  gemm_nn(M: number, N: number, K: number, a: number, ars: number, acs: number, b: number, ldb: number, c: number, ldc: number, acc: number, pa: number): void;
  gemm_nt(M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  conv_scratch(geom: number, chunk: number): number;
  conv_forward(geom: number, x: number, w: number, bias: number, y: number, chunk: number, scratch: number): void;
  conv_backward(geom: number, x: number, w: number, dy: number, dx: number, dw: number, db: number, chunk: number, scratch: number): void;
  bn_train_forward(x: number, y: number, B: number, C: number, hw: number, gamma: number, beta: number, eps: number, relu: number, stats: number): void;
  bn_train_backward(x: number, y: number, dy: number, dx: number, B: number, C: number, hw: number, gamma: number, stats: number, relu: number, dgamma: number, dbeta: number): void;
  maxpool_forward(x: number, y: number, idx: number, BC: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): void;
  maxpool_backward(dy: number, idx: number, dx: number, nOut: number, nIn: number): void;
  relu_forward(x: number, y: number, n: number): void;
  relu_backward(x: number, dy: number, dx: number, n: number): void;
  avgpool_forward(x: number, y: number, BC: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): void;
  avgpool_backward(dy: number, dx: number, BC: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): void;
  adaptive_avgpool_forward(x: number, y: number, BC: number, H: number, W: number, OH: number, OW: number): void;
  adaptive_avgpool_backward(dy: number, dx: number, BC: number, H: number, W: number, OH: number, OW: number): void;
  act_forward(op: number, x: number, y: number, n: number, a: number): void;
  act_backward(op: number, x: number, dy: number, dx: number, n: number, a: number): void;
  __heap_base: WebAssembly.Global;
}

const PAGE = 65536;

/** The instance and its arena: a bump allocator over the memory above the module's stack and data. */
export class TrainWasm {
  readonly k: TrainExports;
  private readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private top: number;
  f32: Float32Array;
  i32: Int32Array;
  f64: Float64Array;

  constructor(module: WebAssembly.Module) {
    this.memory = new WebAssembly.Memory({ initial: 32 });
    this.k = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as TrainExports;
    this.base = Math.ceil((this.k.__heap_base.value as number) / 64) * 64;
    this.top = this.base;
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
  }

  /** Frees everything allocated since the last reset (every call starts with one). */
  reset(): void {
    this.top = this.base;
  }

  /** `count` 4-byte slots (8-byte when `wide`), 64-byte aligned; the byte offset. Contents are garbage. */
  alloc(count: number, wide = false): number {
    const at = this.top;
    const end = at + Math.ceil((count * (wide ? 8 : 4)) / 64) * 64 + 64;
    if (end > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
      this.f64 = new Float64Array(this.memory.buffer);
    }
    this.top = end;
    return at;
  }

  /** A copy of `data` in the arena. */
  put(data: Float32Array): number {
    const at = this.alloc(data.length);
    this.f32.set(data, at / 4);
    return at;
  }

  /** Ints in the arena (a descriptor). */
  putInts(values: ArrayLike<number>): number {
    const at = this.alloc(values.length);
    this.i32.set(values, at / 4);
    return at;
  }

  /** The `n` floats at byte offset `at`, copied into `into(n)` (a fresh array by default). */
  take(at: number, n: number, into: Dest = fresh): Float32Array {
    const out = into(n);
    out.set(this.f32.subarray(at / 4, at / 4 + n));
    return out;
  }
}

/** Where a kernel's result goes: an array of `n` floats, whose contents it overwrites. */
export type Dest = (n: number) => Float32Array;

export const fresh: Dest = (n) => new Float32Array(n);

/**
 * Result arrays kept from one training step to the next, by layer path and role. A step's
 * activations and their gradients are megabytes each; allocating them afresh every step cost
 * more than the kernels (the pages are faulted in anew, and the collector runs for them). A
 * buffer is handed out again by the next step's pass of the same layer, so what the fast path
 * returns for the activations lives until the next call of lossAndGradients (which copies what
 * it returns: the output and the input's gradient).
 */
export class StepBuffers {
  private readonly bufs = new Map<string, Float32Array>();
  private readonly intBufs = new Map<string, Int32Array>();

  /** `n` ints for `key` (a max pool's argmax), contents garbage. */
  ints(key: string, n: number): Int32Array {
    let b = this.intBufs.get(key);
    if (!b || b.length < n) {
      b = new Int32Array(n);
      this.intBufs.set(key, b);
    }
    return b.length === n ? b : b.subarray(0, n);
  }

  /** The destination for `key`'s result. */
  dest(key: string): Dest {
    return (n) => {
      let b = this.bufs.get(key);
      if (!b || b.length < n) {
        b = new Float32Array(n);
        this.bufs.set(key, b);
      }
      return b.length === n ? b : b.subarray(0, n);
    };
  }
}

let instance: TrainWasm | null | undefined;

function bytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(TRAIN_KERNELS_WASM_BASE64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * The kernels, or null where this JavaScript engine cannot compile WebAssembly SIMD (an old
 * engine, a page whose CSP forbids it): the caller then takes the JavaScript kernels, which give
 * the same figures.
 */
export function trainWasm(): TrainWasm | null {
  if (instance === undefined) {
    try {
      instance = new TrainWasm(new WebAssembly.Module(bytes()));
    } catch {
      instance = null;
    }
  }
  instance?.reset();
  return instance;
}
