/**
 * The backward of the resampling kinds, all in gather form (one thread per input value, summing
 * the outputs that read it), so no two threads write one value and f32 needs no atomics:
 * the transposed convolution (its input's gradient is a forward convolution of dy, its weight's
 * the conv's dW with input and output swapped) and upsampling, nearest and bilinear.
 */
import { linearTap, nearestIndex, type ResizeDim } from '../../layers/resampling';
import { IN, RW } from './conv-grad-kernels';
import type { ConvTransposeGeometry } from './spatial-kernels';
import { elementwise, f32, type Kernel } from './wgsl';

function transposeConstants(g: ConvTransposeGeometry): string {
  const cg = g.inC / g.groups;
  return `const B = ${g.batch}u; const CIN = ${g.inC}u; const H = ${g.inH}u; const W = ${g.inW}u; const HW = ${g.inH * g.inW}u;
const COUT = ${g.outC}u; const OH = ${g.outH}i; const OW = ${g.outW}i;
const KH = ${g.kernel[0]}u; const KW = ${g.kernel[1]}u; const SH = ${g.stride[0]}i; const SW = ${g.stride[1]}i;
const PH = ${g.padding[0]}i; const PW = ${g.padding[1]}i; const DH = ${g.dilation[0]}i; const DW = ${g.dilation[1]}i;
const CG = ${cg}u; const MG = ${g.outC / g.groups}u; const N = ${g.batch * g.inH * g.inW}u;`;
}

/** dx[b, ci, ih, iw] += Σ over (out channel of the group, kh, kw) of w[ci, m, kh, kw]·dy at oh = ih·S − P + kh·D. */
export function convTransposeGradInputKernel(label: string, g: ConvTransposeGeometry, dy: GPUBuffer, weight: GPUBuffer, dx: GPUBuffer): Kernel {
  return elementwise(
    `${label} dx`,
    g.batch * g.inC * g.inH * g.inW,
    `${IN(0, 'dy')}\n${IN(1, 'w')}\n${RW(2, 'dx')}\n${transposeConstants(g)}`,
    `let iw = i32(i % W); let ih = i32((i / W) % H); let ci = (i / HW) % CIN; let b = i / (HW * CIN);
  let grp = ci / CG;
  var s = 0.0;
  for (var kh = 0u; kh < KH; kh++) {
    let oh = ih * SH - PH + i32(kh) * DH;
    if (oh < 0 || oh >= OH) { continue; }
    for (var kw = 0u; kw < KW; kw++) {
      let ow = iw * SW - PW + i32(kw) * DW;
      if (ow < 0 || ow >= OW) { continue; }
      for (var m = 0u; m < MG; m++) {
        let oc = grp * MG + m;
        s = fma(dy[((b * COUT + oc) * u32(OH) + u32(oh)) * u32(OW) + u32(ow)], w[((ci * MG + m) * KH + kh) * KW + kw], s);
      }
    }
  }
  dx[i] += s;`,
    [dy, weight, dx],
  );
}

/** Values a thread sums before adding the block to its total (f32 rounding grows with √block + √(n/block)). */
const SUM_BLOCK = 256;

/** dW[ci, m, kh, kw] = Σ over the batch's input pixels of x times dy at the output that tap wrote. */
export function convTransposeGradWeightKernel(label: string, g: ConvTransposeGeometry, x: GPUBuffer, dy: GPUBuffer, dw: GPUBuffer): Kernel {
  const rows = g.inC * (g.outC / g.groups) * g.kernel[0] * g.kernel[1];
  return elementwise(
    `${label} dW`,
    rows,
    `${IN(0, 'x')}\n${IN(1, 'dy')}\n${RW(2, 'dw')}\n${transposeConstants(g)}`,
    `let kw = i % KW; let kh = (i / KW) % KH; let m = (i / (KW * KH)) % MG; let ci = i / (KW * KH * MG);
  let oc = (ci / CG) * MG + m;
  var total = 0.0;
  for (var n0 = 0u; n0 < N; n0 += ${SUM_BLOCK}u) {
    var s = 0.0;
    for (var n = n0; n < min(n0 + ${SUM_BLOCK}u, N); n++) {
      let b = n / HW; let p = n % HW;
      let oh = i32(p / W) * SH - PH + i32(kh) * DH;
      let ow = i32(p % W) * SW - PW + i32(kw) * DW;
      if (oh >= 0 && oh < OH && ow >= 0 && ow < OW) {
        s = fma(x[(b * CIN + ci) * HW + p], dy[((b * COUT + oc) * u32(OH) + u32(oh)) * u32(OW) + u32(ow)], s);
      }
    }
    total += s;
  }
  dw[i] = total;`,
    [x, dy, dw],
  );
}

/** One dimension's taps per output (nearest: the source; bilinear: i0, i1, w0, w1) and, per input, the outputs [lo, hi) that read it. */
interface ResizeTable {
  taps: number[];
  ranges: number[];
}

/** The same float32 arithmetic as the forward and the CPU (nearestIndex, linearTap). Taps are monotone in o, so each input's readers are contiguous. */
function resizeTable(mode: 'nearest' | 'bilinear', d: ResizeDim): ResizeTable {
  const taps: number[] = [];
  const lo = new Array<number>(d.in).fill(d.out);
  const hi = new Array<number>(d.in).fill(0);
  const touch = (i: number, o: number) => {
    lo[i] = Math.min(lo[i], o);
    hi[i] = Math.max(hi[i], o + 1);
  };
  for (let o = 0; o < d.out; o++) {
    if (mode === 'nearest') {
      const i = nearestIndex(o, d);
      taps.push(i);
      touch(i, o);
    } else {
      const t = linearTap(o, d);
      taps.push(t.i0, t.i1, t.w0, t.w1);
      touch(t.i0, o);
      touch(t.i1, o);
    }
  }
  const ranges: number[] = [];
  for (let i = 0; i < d.in; i++) ranges.push(Math.min(lo[i], hi[i]), hi[i]);
  return { taps, ranges };
}

/** Tables baked into the shader: they are fixed by the shapes, and the pass has no upload for constants. */
const table = (name: string, type: 'f32' | 'u32', v: number[]) =>
  `var<private> ${name}: array<${type}, ${v.length}> = array<${type}, ${v.length}>(${v.map((x) => (type === 'f32' ? f32(x) : `${x}u`)).join(', ')});`;

function resizeDecls(mode: 'nearest' | 'bilinear', dims: [ResizeDim, ResizeDim]): string {
  const [r, c] = dims.map((d) => resizeTable(mode, d));
  const weight = (t: string) =>
    mode === 'nearest'
      ? `return select(0.0, 1.0, u32(${t}[o]) == i);`
      : `return select(0.0, ${t}[4u * o + 2u], u32(${t}[4u * o]) == i) + select(0.0, ${t}[4u * o + 3u], u32(${t}[4u * o + 1u]) == i);`;
  return `${table('RT', 'f32', r.taps)}\n${table('CT', 'f32', c.taps)}\n${table('RR', 'u32', r.ranges)}\n${table('CR', 'u32', c.ranges)}
const H = ${dims[0].in}u; const W = ${dims[1].in}u; const OH = ${dims[0].out}u; const OW = ${dims[1].out}u;
fn rowWeight(o: u32, i: u32) -> f32 { ${weight('RT')} }
fn colWeight(o: u32, i: u32) -> f32 { ${weight('CT')} }`;
}

/** Upsampling for training, one thread per output value: the inference kernel's rule with the tables in the shader. */
export function upsampleTrainForwardKernel(label: string, mode: 'nearest' | 'bilinear', planes: number, dims: [ResizeDim, ResizeDim], x: GPUBuffer, y: GPUBuffer): Kernel {
  const body =
    mode === 'nearest'
      ? 'y[i] = x[base + u32(RT[oh]) * W + u32(CT[ow])];'
      : `let r0 = base + u32(RT[4u * oh]) * W; let r1 = base + u32(RT[4u * oh + 1u]) * W;
  let c0 = u32(CT[4u * ow]); let c1 = u32(CT[4u * ow + 1u]);
  let cw0 = CT[4u * ow + 2u]; let cw1 = CT[4u * ow + 3u];
  y[i] = RT[4u * oh + 2u] * (cw0 * x[r0 + c0] + cw1 * x[r0 + c1]) + RT[4u * oh + 3u] * (cw0 * x[r1 + c0] + cw1 * x[r1 + c1]);`;
  return elementwise(
    label,
    planes * dims[0].out * dims[1].out,
    `${IN(0, 'x')}\n${RW(1, 'y')}\n${resizeDecls(mode, dims)}`,
    `let ow = i % OW; let oh = (i / OW) % OH; let base = (i / (OW * OH)) * H * W;
  ${body}`,
    [x, y],
  );
}

/** dx[ih, iw] += Σ over the outputs that read it of their weight on it times dy: a gather over each input's contiguous readers. */
export function upsampleBackwardKernel(label: string, mode: 'nearest' | 'bilinear', planes: number, dims: [ResizeDim, ResizeDim], dy: GPUBuffer, dx: GPUBuffer): Kernel {
  return elementwise(
    `${label} backward`,
    planes * dims[0].in * dims[1].in,
    `${IN(0, 'dy')}\n${RW(1, 'dx')}\n${resizeDecls(mode, dims)}`,
    `let iw = i % W; let ih = (i / W) % H; let obase = (i / (W * H)) * OH * OW;
  var s = 0.0;
  for (var oh = RR[2u * ih]; oh < RR[2u * ih + 1u]; oh++) {
    var t = 0.0;
    for (var ow = CR[2u * iw]; ow < CR[2u * iw + 1u]; ow++) { t = fma(colWeight(ow, iw), dy[obase + oh * OW + ow], t); }
    s = fma(rowWeight(oh, ih), t, s);
  }
  dx[i] += s;`,
    [dy, dx],
  );
}
