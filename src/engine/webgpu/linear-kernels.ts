import { convGemmKernel } from './conv-kernels';
import { actFn, BUILTINS, type EpilogueAct, type Kernel, type OutPlace } from './wgsl';

/** Output rows each GEMV workgroup computes, and batch items per pass over the weights. */
const ROWS = 4;
const BATCH_PER_PASS = 4;
const LANES = 64;

export interface LinearChunk {
  /** First output row of this chunk; the weight buffer holds rows [row0, row0 + rows). */
  row0: number;
  rows: number;
  weight: GPUBuffer;
  bias?: GPUBuffer;
}

/**
 * y = x W^T + b for a small batch, where a GEMM tile would be mostly empty: each workgroup takes
 * 4 output rows, its 64 lanes stride along the input (reading W rows contiguously), and a tree
 * reduction in workgroup memory adds the lanes' partial sums.
 */
function gemvKernel(label: string, batch: number, inN: number, chunk: LinearChunk, place: OutPlace, act: EpilogueAct, input: GPUBuffer, output: GPUBuffer): Kernel {
  const bp = Math.min(batch, BATCH_PER_PASS);
  const accs = ROWS * bp;
  const decls = [
    '@group(0) @binding(0) var<storage, read> x: array<f32>;',
    '@group(0) @binding(1) var<storage, read> w: array<f32>;',
  ];
  const buffers = [input, chunk.weight];
  if (chunk.bias) {
    decls.push('@group(0) @binding(2) var<storage, read> bias: array<f32>;');
    buffers.push(chunk.bias);
  }
  decls.push(`@group(0) @binding(${buffers.length}) var<storage, read_write> y: array<f32>;`);
  buffers.push(output);
  const code = `${decls.join('\n')}
const B = ${batch}u; const IN = ${inN}u; const ROWS_IN_CHUNK = ${chunk.rows}u; const ROW0 = ${chunk.row0}u;
const R = ${ROWS}u; const BP = ${bp}u; const L = ${LANES}u; const A = ${accs}u;
const CT = ${place.totalChannels}u; const COFF = ${place.channelOffset}u;
var<workgroup> red: array<f32, ${LANES * accs}>;
${actFn(act)}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  let r0 = wid.x * R;
  let b0 = wid.y * BP;
  var acc: array<f32, ${accs}>;
  for (var k = lid.x; k < IN; k += L) {
    var xs: array<f32, ${bp}>;
    for (var bb = 0u; bb < BP; bb++) { if (b0 + bb < B) { xs[bb] = x[(b0 + bb) * IN + k]; } }
    for (var r = 0u; r < R; r++) {
      if (r0 + r < ROWS_IN_CHUNK) {
        let wv = w[(r0 + r) * IN + k];
        for (var bb = 0u; bb < BP; bb++) { acc[r * BP + bb] = fma(wv, xs[bb], acc[r * BP + bb]); }
      }
    }
  }
  for (var a = 0u; a < A; a++) { red[a * L + lid.x] = acc[a]; }
  workgroupBarrier();
  for (var s = L / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) {
      for (var a = 0u; a < A; a++) { red[a * L + lid.x] += red[a * L + lid.x + s]; }
    }
    workgroupBarrier();
  }
  if (lid.x < A) {
    let r = lid.x / BP; let bb = lid.x % BP;
    let row = r0 + r; let b = b0 + bb;
    if (row < ROWS_IN_CHUNK && b < B) {
      var v = red[lid.x * L];
      ${chunk.bias ? 'v += bias[row];' : ''}
      y[b * CT + COFF + ROW0 + row] = act(v);
    }
  }
}`;
  const gx = Math.ceil(chunk.rows / ROWS);
  if (gx > 65535) throw new Error(`${label}: ${chunk.rows} output rows are too many for one dispatch`);
  return { label, code, workgroups: [gx, Math.ceil(batch / bp), 1], buffers };
}

/** Batches above this use the tiled GEMM (a 1x1 convolution on 1x1 pixels) instead of the GEMV kernel. */
const GEMV_MAX_BATCH = 16;

export function linearKernel(label: string, batch: number, inN: number, chunk: LinearChunk, place: OutPlace, act: EpilogueAct, input: GPUBuffer, output: GPUBuffer): Kernel {
  if (batch <= GEMV_MAX_BATCH) return gemvKernel(label, batch, inN, chunk, place, act, input, output);
  return convGemmKernel(
    label,
    { batch, inC: inN, inH: 1, inW: 1, outC: chunk.rows, outH: 1, outW: 1, kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 },
    { channels: chunk.rows, hw: 1, totalChannels: place.totalChannels, channelOffset: place.channelOffset + chunk.row0 },
    act,
    { input, weight: chunk.weight, bias: chunk.bias, output },
  );
}
