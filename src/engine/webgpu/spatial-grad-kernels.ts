/**
 * Backward kernels of the layers without weights, one thread per value of the input's gradient,
 * each adding its sum to what the buffer holds: gradients that meet (a residual's shortcut, a
 * layer read by several branches) are summed in place, and one value is only ever written by one
 * thread, so no atomics are needed.
 */
import type { Pair } from '../../graph/types';
import { ERF_FN_WGSL } from './activation-wgsl';
import { IN, RW } from './conv-grad-kernels';
import type { SpatialDims } from './layer-kernels';
import { elementwise, f32, type Kernel, outIndexFn, type OutPlace } from './wgsl';

/** `dst += src` over `count` values: add's backward, for each of its inputs. */
export function accumulateKernel(label: string, count: number, src: GPUBuffer, dst: GPUBuffer): Kernel {
  return elementwise(label, count, `${IN(0, 'src')}\n${RW(1, 'dst')}`, 'dst[i] += src[i];', [src, dst]);
}

/** `dst += src · mask`: dropout's backward (and with `=`, its forward). */
export function maskKernel(label: string, count: number, accumulate: boolean, src: GPUBuffer, mask: GPUBuffer, dst: GPUBuffer): Kernel {
  return elementwise(label, count, `${IN(0, 'src')}\n${IN(1, 'mask')}\n${RW(2, 'dst')}`, `dst[i] ${accumulate ? '+=' : '='} src[i] * mask[i];`, [src, mask, dst]);
}

/** A concat member's gradient: its channels of the concat's, `place` saying where they sit. */
export function gatherSliceKernel(label: string, count: number, place: OutPlace, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  return elementwise(label, count, `${IN(0, 'dy')}\n${RW(1, 'dx')}\n${outIndexFn(place)}`, 'dx[i] += dy[outIndex(i)];', [dy, dx]);
}

/** A channel slice's backward: each of its values back to its channel of the input. */
export function sliceBackwardKernel(label: string, batch: number, inChannels: number, start: number, channels: number, hw: number, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  return elementwise(
    label,
    batch * channels * hw,
    `${IN(0, 'dy')}\n${RW(1, 'dx')}`,
    `let p = i % ${hw}u; let c = (i / ${hw}u) % ${channels}u; let b = i / (${hw}u * ${channels}u);
  dx[(b * ${inChannels}u + ${start}u + c) * ${hw}u + p] += dy[i];`,
    [dy, dx],
  );
}

/** A shuffle's backward: output channel o came from (o mod G)·(C/G) + ⌊o/G⌋, a permutation. */
export function shuffleBackwardKernel(label: string, batch: number, channels: number, hw: number, groups: number, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  return elementwise(
    label,
    batch * channels * hw,
    `${IN(0, 'dy')}\n${RW(1, 'dx')}`,
    `let p = i % ${hw}u; let o = (i / ${hw}u) % ${channels}u; let b = i / (${hw}u * ${channels}u);
  dx[(b * ${channels}u + (o % ${groups}u) * ${channels / groups}u + o / ${groups}u) * ${hw}u + p] += dy[i];`,
    [dy, dx],
  );
}

/** dx += dy · act'(x, y), the derivative's WGSL the body of `fn dact(x: f32, y: f32) -> f32` (erf32 in scope, for exact GELU). */
export function activationBackwardKernel(label: string, count: number, derivative: string, x: GPUBuffer, y: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  const decls = `${IN(0, 'xv')}\n${IN(1, 'yv')}\n${IN(2, 'dy')}\n${RW(3, 'dx')}\n${ERF_FN_WGSL}\nfn dact(x: f32, y: f32) -> f32 { ${derivative} }`;
  return elementwise(label, count, decls, 'dx[i] += dy[i] * dact(xv[i], yv[i]);', [x, y, dy, dx]);
}

/** Softmax over dim 1: dx_c += y_c·(dy_c − Σ_k dy_k·y_k), one thread per (batch, pixel). */
export function softmaxBackwardKernel(label: string, batch: number, channels: number, hw: number, y: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  return elementwise(
    label,
    batch * hw,
    `${IN(0, 'y')}\n${IN(1, 'dy')}\n${RW(2, 'dx')}\nconst C = ${channels}u; const HW = ${hw}u;`,
    `let base = (i / HW) * C * HW + i % HW;
  var s = 0.0;
  for (var c = 0u; c < C; c++) { s = fma(dy[base + c * HW], y[base + c * HW], s); }
  for (var c = 0u; c < C; c++) { let k = base + c * HW; dx[k] += y[k] * (dy[k] - s); }`,
    [y, dy, dx],
  );
}

export interface PoolGeometry {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
}

/**
 * Max or average pool's backward, one thread per input pixel over the windows that hold it.
 * Max: a window's gradient goes to its first maximum in row-major order (PyTorch's CPU rule),
 * found again from the input. Average: each window's over the forward's divisor.
 */
export function poolBackwardKernel(label: string, mode: 'max' | 'average', d: SpatialDims, out: Pair, p: PoolGeometry, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  const [OH, OW] = out;
  // Average pooling never reads the input, and a binding the code does not use is not in the layout.
  const bindings = mode === 'max' ? `${IN(0, 'x')}\n${IN(1, 'dy')}\n${RW(2, 'dx')}` : `${IN(0, 'dy')}\n${RW(1, 'dx')}`;
  const decls = `${bindings}
const H = ${d.h}i; const W = ${d.w}i; const OH = ${OH}i; const OW = ${OW}i;
const KH = ${p.kernel[0]}i; const KW = ${p.kernel[1]}i; const SH = ${p.stride[0]}i; const SW = ${p.stride[1]}i; const PH = ${p.padding[0]}i; const PW = ${p.padding[1]}i;
fn firstOut(t: i32, s: i32) -> i32 { if (t <= 0) { return 0; } return (t + s - 1) / s; }`;
  const window =
    mode === 'max'
      ? `var m = ${f32(-Infinity)};
      var arg = max(hs, 0) * W + max(ws, 0);
      for (var h = max(hs, 0); h < min(hs + KH, H); h++) {
        for (var w = max(ws, 0); w < min(ws + KW, W); w++) {
          let v = x[base + u32(h * W + w)];
          if (v > m) { m = v; arg = h * W + w; }
        }
      }
      if (arg == me) { s += dy[obase + u32(oh * OW + ow)]; }`
      : `let he = min(hs + KH, H + PH); let we = min(ws + KW, W + PW);
      s += dy[obase + u32(oh * OW + ow)] / f32((he - hs) * (we - ws));`;
  return elementwise(
    `${label} backward`,
    d.batch * d.channels * d.h * d.w,
    decls,
    `let iw = i32(i % u32(W)); let ih = i32((i / u32(W)) % u32(H)); let bc = i / u32(H * W);
  let base = bc * u32(H * W); let obase = bc * u32(OH * OW); let me = ih * W + iw;
  var s = 0.0;
  for (var oh = firstOut(ih + PH - KH + 1, SH); oh <= min((ih + PH) / SH, OH - 1); oh++) {
    let hs = oh * SH - PH;
    for (var ow = firstOut(iw + PW - KW + 1, SW); ow <= min((iw + PW) / SW, OW - 1); ow++) {
      let ws = ow * SW - PW;
      ${window}
    }
  }
  dx[i] += s;`,
    mode === 'max' ? [x, dy, dx] : [dy, dx],
  );
}

/** Global average pool's backward: every pixel gets its channel's dy over the pixel count. */
export function gapBackwardKernel(label: string, d: SpatialDims, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  const hw = d.h * d.w;
  return elementwise(`${label} backward`, d.batch * d.channels * hw, `${IN(0, 'dy')}\n${RW(1, 'dx')}`, `dx[i] += dy[i / ${hw}u] / ${f32(hw)};`, [dy, dx]);
}

/** Adaptive average pool's backward over PyTorch's bins ⌊i·H/O⌋ … ⌈(i+1)·H/O⌉, which may overlap. */
export function adaptivePoolBackwardKernel(label: string, d: SpatialDims, out: Pair, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  const [OH, OW] = out;
  return elementwise(
    `${label} backward`,
    d.batch * d.channels * d.h * d.w,
    `${IN(0, 'dy')}\n${RW(1, 'dx')}\nconst H = ${d.h}u; const W = ${d.w}u; const OH = ${OH}u; const OW = ${OW}u;`,
    `let w = i % W; let h = (i / W) % H; let bc = i / (W * H);
  var s = 0.0;
  for (var oh = 0u; oh < OH; oh++) {
    let h0 = (oh * H) / OH; let h1 = ((oh + 1u) * H + OH - 1u) / OH;
    if (h < h0 || h >= h1) { continue; }
    for (var ow = 0u; ow < OW; ow++) {
      let w0 = (ow * W) / OW; let w1 = ((ow + 1u) * W + OW - 1u) / OW;
      if (w < w0 || w >= w1) { continue; }
      s += dy[(bc * OH + oh) * OW + ow] / f32((h1 - h0) * (w1 - w0));
    }
  }
  dx[i] += s;`,
    [dy, dx],
  );
}

/**
 * A product's backward for factor k: dy times the other factors (a C×1×1 gate broadcast over the
 * pixels), summed over the pixels when factor k is itself a gate. At most 6 factors: dy, the
 * factors and dx take the 8 storage bindings WebGPU guarantees.
 */
export function mulBackwardKernel(label: string, batch: number, channels: number, hw: number, k: number, factors: { buffer: GPUBuffer; gate: boolean }[], dy: GPUBuffer, dx: GPUBuffer): Kernel {
  // Factor k itself is not read, and an unread binding is not in the layout.
  const others = factors.map((f, j) => ({ ...f, j })).filter((f) => f.j !== k);
  const decls = [IN(0, 'dy'), ...others.map((f, n) => IN(n + 1, `a${f.j}`)), RW(others.length + 1, 'dx')].join('\n');
  const at = (f: { gate: boolean; j: number }, e: string) => (f.gate ? `a${f.j}[(${e}) / ${hw}u]` : `a${f.j}[${e}]`);
  const prod = (e: string) => [`dy[${e}]`, ...others.map((f) => at(f, e))].join(' * ');
  const buffers = [dy, ...others.map((f) => f.buffer), dx];
  if (!factors[k].gate) return elementwise(label, batch * channels * hw, decls, `dx[i] += ${prod('i')};`, buffers);
  return elementwise(label, batch * channels, decls, `var s = 0.0;\n  for (var p = 0u; p < ${hw}u; p++) { let e = i * ${hw}u + p; s += ${prod('e')}; }\n  dx[i] += s;`, buffers);
}
