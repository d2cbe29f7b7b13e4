import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph, LayerAttrs, Pair } from '../../src/graph/types';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { inferShapes } from '../../src/engine/shapes';
import { WebGpuNetwork, type WebGpuNetworkOptions } from '../../src/engine/webgpu/network';
import { buildGraph, expectClose, paramsFor, randomTensor, randomWeights, rng } from './helpers';

// SwiftShader must be chosen before Dawn creates its Vulkan instance.
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

let device: GPUDevice | undefined;
let adapterName = '';
let noGpuReason = '';

beforeAll(async () => {
  const { createNodeDevice } = await import('../../src/engine/webgpu/node-device');
  try {
    const gpu = await createNodeDevice();
    if (gpu) {
      device = gpu.device;
      adapterName = gpu.adapterName;
      device.addEventListener('uncapturederror', (e) => {
        throw new Error(`uncaptured WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
      });
    } else noGpuReason = 'no WebGPU adapter (is a Vulkan driver or SwiftShader installed? set VK_ICD_FILENAMES)';
  } catch (e) {
    noGpuReason = `creating a WebGPU device failed: ${String(e)}`;
  }
  if (!device) {
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`WebGPU tests cannot run under CI: ${noGpuReason}`);
    console.warn(`skipping WebGPU tests: ${noGpuReason}`);
  } else {
    console.log(`WebGPU tests on: ${adapterName}`);
  }
});

afterAll(() => device?.destroy());

const nets: WebGpuNetwork[] = [];
afterAll(() => nets.forEach((n) => n.destroy()));

/** Runs a graph on the GPU and on the CPU reference, comparing the output and every node the GPU keeps. */
async function compare(graph: Graph, batch: number, seed: number, opts: WebGpuNetworkOptions = {}): Promise<WebGpuNetwork | undefined> {
  if (!device) return undefined;
  const shapes = inferShapes(graph);
  const params = paramsFor(graph, shapes);
  const rand = rng(seed);
  const weights = randomWeights(params, rand);
  const x = randomTensor([batch, ...shapes[0]], rand);
  const cpu = forwardCpu(graph, weights, params, x, { keep: 'all' });
  const net = await WebGpuNetwork.create(device, graph, shapes, params, weights, batch, opts);
  nets.push(net);
  const out = await net.run(x.data);
  expectClose(out, cpu.output.data, 1e-4, `output of ${graph.nodes[graph.output].attrs.kind}`);
  for (const node of graph.nodes) {
    if (net.hasOutput(node.id)) expectClose(await net.readNode(node.id), cpu.nodes![node.id].data, 1e-4, `node ${node.id} ${node.attrs.kind}`);
  }
  return net;
}

const single = (input: number[], attrs: LayerAttrs) => buildGraph([{ attrs: { kind: 'input', shape: input } }, { attrs }]);
const p2 = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);
const conv = (out: number, k: number | Pair, o: { s?: number | Pair; p?: number | Pair; d?: number | Pair; g?: number; bias?: boolean } = {}): LayerAttrs => ({
  kind: 'conv',
  out,
  kernel: p2(k),
  stride: p2(o.s ?? 1),
  padding: p2(o.p ?? 0),
  dilation: p2(o.d ?? 1),
  groups: o.g ?? 1,
  bias: o.bias ?? true,
});
const pool = (kind: 'maxpool' | 'avgpool', k: number | Pair, s: number | Pair, p: number | Pair, ceil: boolean): LayerAttrs => ({
  kind,
  kernel: p2(k),
  stride: p2(s),
  padding: p2(p),
  ceil,
});

describe('WebGPU layers against the CPU reference', () => {
  const convCases: [string, number[], LayerAttrs, number][] = [
    ['3x3 same, odd size', [3, 7, 9], conv(5, 3, { p: 1 }), 1],
    ['stride 2, pad 3, 7x7, 64-row tiles', [3, 11, 13], conv(64, 7, { s: 2, p: 3 }), 2],
    ['1x1, bias off, batch 3', [20, 5, 5], conv(7, 1, { bias: false }), 3],
    ['dilation 2, rectangular kernel and stride', [4, 9, 10], conv(6, [3, 2], { s: [1, 2], p: [2, 1], d: [2, 3] }), 1],
    ['grouped GEMM: 4 groups of 12', [8, 6, 7], conv(48, 3, { p: 1, g: 4 }), 2],
    ['depthwise, stride 2', [6, 9, 9], conv(6, 3, { s: 2, p: 1, g: 6 }), 2],
    ['depthwise multiplier 2, odd width', [3, 5, 11], conv(6, [5, 3], { p: [2, 1], g: 3 }), 1],
    ['K spanning several tiles', [19, 4, 4], conv(9, 3, { p: 1 }), 1],
    ['2 groups of 16 (16 packed channels a thread), stride 2', [6, 9, 7], conv(32, 3, { s: 2, p: 1, g: 2 }), 2],
    ['3 groups of 8, 5x5 pad 2, rows narrower than 4 pixels', [9, 6, 3], conv(24, 5, { p: 2, g: 3 }), 1],
  ];
  // 'auto' picks the GEMM or, for few channels per group, one channel per thread; 'direct' is the
  // software adapters' kernel with packed weights and up to 16 channels per thread.
  for (const algorithm of ['auto', 'direct', 'gemm'] as const) {
    for (const [name, input, attrs, batch] of convCases) {
      it(`conv (${algorithm}): ${name}`, () => compare(single(input, attrs), batch, name.length, { convAlgorithm: algorithm }));
    }
  }

  const poolCases: [string, number[], LayerAttrs][] = [
    ['maxpool 3/2 ceil on 9x8', [3, 9, 8], pool('maxpool', 3, 2, 0, true)],
    ['maxpool 3/3 pad 1 ceil (dropped window)', [2, 5, 5], pool('maxpool', 3, 3, 1, true)],
    ['avgpool 3/2 pad 1 ceil (clipped divisor)', [2, 4, 7], pool('avgpool', 3, 2, 1, true)],
    ['avgpool 2x3 / 1x2 pad 1x1', [2, 5, 6], pool('avgpool', [2, 3], [1, 2], [1, 1], false)],
    ['gap on 5x3', [4, 5, 3], { kind: 'gap' }],
    ['adaptive 7x5 -> 3x2', [3, 7, 5], { kind: 'adaptiveavgpool', size: [3, 2] }],
    ['adaptive 2x3 -> 5x4 (upsampling)', [2, 2, 3], { kind: 'adaptiveavgpool', size: [5, 4] }],
    ['lrn 5 (AlexNet)', [7, 3, 4], { kind: 'lrn', size: 5, alpha: 1e-4, beta: 0.75, k: 2 }],
    ['lrn 4 strong', [6, 2, 3], { kind: 'lrn', size: 4, alpha: 0.5, beta: 0.75, k: 1 }],
  ];
  for (const [name, input, attrs] of poolCases) {
    it(name, () => compare(single(input, attrs), 2, name.length));
  }

  const pointwise: [string, number[], LayerAttrs][] = [
    ['relu', [3, 4, 5], { kind: 'relu' }],
    ['sigmoid', [3, 4, 5], { kind: 'sigmoid' }],
    ['tanh', [37], { kind: 'tanh' }],
    ['leakyrelu', [3, 4, 5], { kind: 'leakyrelu', slope: 0.2 }],
    ['softmax over features', [131], { kind: 'softmax' }],
    ['softmax over channels', [5, 3, 2], { kind: 'softmax' }],
    ['bn spatial', [5, 3, 4], { kind: 'bn', eps: 1e-5 }],
    ['bn flat', [9], { kind: 'bn', eps: 1e-3 }],
  ];
  for (const [name, input, attrs] of pointwise) {
    it(name, () => compare(single(input, attrs), 2, name.length));
  }

  it('linear, batch 2 (GEMV), weights split into 3 bindings', async () => {
    const g = single([37], { kind: 'linear', out: 23, bias: true });
    const net = await compare(g, 2, 3, { maxWeightBindingBytes: 37 * 4 * 10 });
    if (net) expect(net.dispatchCount).toBe(3);
  });

  it('linear, batch 17 (tiled GEMM), no bias, split', () => compare(single([29], { kind: 'linear', out: 70, bias: false }), 17, 4, { maxWeightBindingBytes: 29 * 4 * 64 }));

  it('add of 8 inputs takes two dispatches', async () => {
    const layers: { attrs: LayerAttrs; inputs?: number[] }[] = [{ attrs: { kind: 'input', shape: [3, 5, 5] } }];
    for (let i = 0; i < 8; i++) layers.push({ attrs: { kind: 'relu' }, inputs: [0] });
    layers.push({ attrs: { kind: 'add' }, inputs: [1, 2, 3, 4, 5, 6, 7, 8] });
    const net = await compare(buildGraph(layers), 2, 5);
    if (net) expect(net.dispatchCount).toBe(8 + 2);
  });
});

describe('WebGPU graphs: fusion and concat in place', () => {
  /** Two residual blocks with bn, an inception-style concat (one member used twice, the input itself too), and a head. */
  const net = () =>
    buildGraph([
      { attrs: { kind: 'input', shape: [3, 9, 9] } }, // 0
      { attrs: conv(8, 3, { p: 1, bias: false }) }, // 1
      { attrs: { kind: 'bn', eps: 1e-5 } }, // 2
      { attrs: { kind: 'relu' } }, // 3
      { attrs: conv(8, 3, { p: 1, bias: false }) }, // 4
      { attrs: { kind: 'bn', eps: 1e-5 } }, // 5
      { attrs: { kind: 'add' }, inputs: [5, 3] }, // 6: residual with identity shortcut
      { attrs: { kind: 'relu' } }, // 7
      { attrs: conv(4, 1) }, // 8: concat member, written in place
      { attrs: conv(5, 3, { p: 1, g: 1 }), inputs: [7] }, // 9
      { attrs: { kind: 'leakyrelu', slope: 0.1 } }, // 10: member, in place via its fused step
      { attrs: pool('maxpool', 3, 1, 1, false), inputs: [7] }, // 11: member used twice -> copied
      { attrs: { kind: 'concat' }, inputs: [8, 10, 11, 11] }, // 12
      { attrs: { kind: 'concat' }, inputs: [12, 12] }, // 13: nested; 12 used twice -> copied
      { attrs: { kind: 'bn', eps: 1e-5 } }, // 14: standalone (its producer is a concat)
      { attrs: { kind: 'gap' } }, // 15
      { attrs: { kind: 'flatten' } }, // 16
      { attrs: { kind: 'dropout', p: 0.5 } }, // 17
      { attrs: { kind: 'linear', out: 10, bias: true } }, // 18
      { attrs: { kind: 'bn', eps: 1e-5 } }, // 19: folded into the linear
      { attrs: { kind: 'softmax' } }, // 20
    ]);

  it('fused: matches the CPU; fused-away nodes have no output', async () => {
    const n = await compare(net(), 2, 11);
    if (!n) return;
    expect(n.hasOutput(1)).toBe(false); // conv folded with its bn and relu
    expect(n.hasOutput(3)).toBe(true);
    expect(n.hasOutput(6)).toBe(false); // residual add fused into conv 4
    expect(n.plan.places[8]).toEqual({ root: 12, channelOffset: 0 });
    expect(n.plan.places[10]).toEqual({ root: 12, channelOffset: 4 });
    expect(n.plan.places[11]).toEqual({ root: 11, channelOffset: 0 });
    await expect(n.readNode(1)).rejects.toThrow(/fused/);
  });

  it('unfused: every node readable and equal to the CPU', () => compare(net(), 1, 12, { fuse: false, concatInPlace: false }));

  it('concat in place when a member writes straight into a nested concat', async () => {
    const g = buildGraph([
      { attrs: { kind: 'input', shape: [2, 4, 3] } },
      { attrs: conv(3, 1) },
      { attrs: conv(2, 1), inputs: [0] },
      { attrs: { kind: 'concat' }, inputs: [1, 2] },
      { attrs: { kind: 'sigmoid' }, inputs: [0] },
      { attrs: { kind: 'concat' }, inputs: [4, 3, 0] },
    ]);
    const n = await compare(g, 2, 13);
    if (n) expect(n.plan.places[2]).toEqual({ root: 5, channelOffset: 5 });
  });

  it('profiles every step, labelled by method', async () => {
    if (!device) return;
    const g = net();
    const shapes = inferShapes(g);
    const params = paramsFor(g, shapes);
    // Batch 2 as in the fused test above, so every pipeline comes from the device's cache.
    const t0 = performance.now();
    const n = await WebGpuNetwork.create(device, g, shapes, params, randomWeights(params, rng(1)), 2);
    const createMs = performance.now() - t0;
    nets.push(n);
    const prof = await n.profile(new Float32Array(2 * 3 * 81));
    expect(['timestamp-query', 'fences']).toContain(prof.method);
    expect(prof.layers.length).toBe(n.plan.steps.length);
    expect(prof.layers.every((l) => l.ms >= 0)).toBe(true);
    console.log(`profile via ${prof.method}: ${prof.layers.length} steps, ${prof.totalMs.toFixed(3)} ms; create with cached pipelines ${createMs.toFixed(0)} ms`);
  });

  it('refuses a network over the memory budget with a clear message', async () => {
    if (!device) return;
    const g = single([64, 32, 32], conv(64, 3, { p: 1 }));
    const shapes = inferShapes(g);
    const params = paramsFor(g, shapes);
    await expect(WebGpuNetwork.create(device, g, shapes, params, randomWeights(params, rng(1)), 8, { memoryBudgetBytes: 1 << 20 })).rejects.toThrow(
      /needs about .* of GPU memory .* more than the 1\.0 MiB allowed/,
    );
  });

  it('refuses an activation larger than one binding', async () => {
    if (!device) return;
    const g = single([1, 4, 4], { kind: 'relu' });
    const fakeDevice = new Proxy(device, {
      get: (t, k) => (k === 'limits' ? { ...t.limits, maxStorageBufferBindingSize: 64, maxBufferSize: 1 << 30 } : Reflect.get(t, k, t)),
    });
    await expect(WebGpuNetwork.create(fakeDevice, g, inferShapes(g), [], new Map(), 2)).rejects.toThrow(/binds at most 64 B/);
  });
});
