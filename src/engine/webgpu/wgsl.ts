/** Pieces shared by the WGSL kernel generators. Shapes are baked into each kernel as constants. */

/** A pointwise activation fused into a kernel's epilogue: the body of `fn act(v: f32) -> f32` (kernels.ts). */
export interface EpilogueAct {
  body: string;
}

export const NO_ACT: EpilogueAct = { body: 'return v;' };

/** An f32 literal; exponent form is valid WGSL and keeps every digit JavaScript has. */
export function f32(x: number): string {
  if (x === -Infinity) return '-3.4028234663852886e38f';
  if (x === Infinity) return '3.4028234663852886e38f';
  return `${x.toExponential()}f`;
}

export function actFn(act: EpilogueAct): string {
  return `fn act(v: f32) -> f32 { ${act.body} }`;
}

/**
 * Where a kernel writes: a tensor with `channels` channels of `hw` pixels stored inside a buffer
 * of `totalChannels` channels starting at `channelOffset` (a concat's slice), per batch item.
 */
export interface OutPlace {
  channels: number;
  hw: number;
  totalChannels: number;
  channelOffset: number;
}

/** WGSL for `outIndex(i)`: element i of the dense `[B, channels, hw]` tensor to its place in the buffer. */
export function outIndexFn(p: OutPlace): string {
  if (p.totalChannels === p.channels && p.channelOffset === 0) return 'fn outIndex(i: u32) -> u32 { return i; }';
  const chw = p.channels * p.hw;
  return `fn outIndex(i: u32) -> u32 { return (i / ${chw}u) * ${p.totalChannels * p.hw}u + ${p.channelOffset * p.hw}u + i % ${chw}u; }`;
}

export const MAX_WORKGROUPS_PER_DIM = 65535;

/** Spreads a 1-D count of workgroups over x and y, since each dimension stops at 65535. */
export function grid1d(workgroups: number): [number, number, number] {
  const x = Math.min(Math.max(workgroups, 1), MAX_WORKGROUPS_PER_DIM);
  const y = Math.ceil(workgroups / x);
  if (y > MAX_WORKGROUPS_PER_DIM) throw new Error(`dispatch of ${workgroups} workgroups is too large`);
  return [x, y, 1];
}

/** The flat workgroup index of a grid1d dispatch. */
export const FLAT_WORKGROUP = 'let wg = wid.y * nwg.x + wid.x;';
export const BUILTINS =
  '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32';

export interface Kernel {
  label: string;
  code: string;
  workgroups: [number, number, number];
  /** Binding i of group 0 is buffers[i]. */
  buffers: GPUBuffer[];
}

/** A thread-per-element kernel of `count` threads in workgroups of 256. */
export function elementwise(label: string, count: number, decls: string, body: string, buffers: GPUBuffer[]): Kernel {
  const code = `${decls}
@compute @workgroup_size(256)
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  let i = wg * 256u + lid.x;
  if (i >= ${count}u) { return; }
  ${body}
}`;
  return { label, code, workgroups: grid1d(Math.ceil(count / 256)), buffers };
}
