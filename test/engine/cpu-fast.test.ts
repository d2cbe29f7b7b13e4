/**
 * The fast CPU engine (src/engine/wasm, WebAssembly SIMD) against the JavaScript reference, the
 * oracle: every kernel path on small graphs (both conv algorithms forced, fused and unfused),
 * every example network at a small input on batch 2, and the trained Fashion-MNIST example.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import type { LayerAttrs, Pair } from '../../src/graph/types';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { createCpuSession, createFastCpuSession, type Model } from '../../src/engine/session';
import { inferShapes } from '../../src/engine/shapes';
import { tensor } from '../../src/engine/tensor';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { buildGraph, expectClose, paramsFor, randomTensor, randomWeights, rng } from './helpers';

type Layer = { attrs: LayerAttrs; inputs?: number[] };
const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);
const conv = (out: number, k: number | Pair, o: { s?: number | Pair; p?: number | Pair; d?: number | Pair; g?: number; bias?: boolean } = {}): LayerAttrs => ({
  kind: 'conv',
  out,
  kernel: pair(k),
  stride: pair(o.s ?? 1),
  padding: pair(o.p ?? 0),
  dilation: pair(o.d ?? 1),
  groups: o.g ?? 1,
  bias: o.bias ?? true,
});
const pool = (kind: 'maxpool' | 'avgpool', k: number, s: number, p = 0, ceil = false): LayerAttrs => ({ kind, kernel: [k, k], stride: [s, s], padding: [p, p], ceil });
const input = (c: number, h: number, w = h): Layer => ({ attrs: { kind: 'input', shape: [c, h, w] } });
const L = (attrs: LayerAttrs, inputs?: number[]): Layer => ({ attrs, inputs });
const bn: LayerAttrs = { kind: 'bn', eps: 1e-5 };
const relu: LayerAttrs = { kind: 'relu' };

function modelOf(layers: Layer[], seed = 3): Model {
  const graph = buildGraph(layers);
  const shapes = inferShapes(graph);
  const tensors = paramsFor(graph, shapes);
  return { graph, shapes, tensors, weights: randomWeights(tensors, rng(seed)) };
}

function referenceAll(m: Model, x: Float32Array, batch: number) {
  const shape = [batch, ...m.shapes[m.graph.nodes.findIndex((n) => n.attrs.kind === 'input')]];
  return forwardCpu(m.graph, m.weights, m.tensors, tensor(shape, x), { keep: 'all' });
}

/** Runs the model fused (default and both algorithms forced) and unfused, each against the reference. */
async function check(name: string, layers: Layer[], batch = 2, rtol = 1e-4): Promise<void> {
  const m = modelOf(layers);
  const inShape = m.shapes[0];
  const x = randomTensor([batch, ...inShape], rng(9)).data;
  const ref = referenceAll(m, x, batch);
  for (const convAlgorithm of [undefined, 'gemm', 'direct'] as const) {
    const s = await createFastCpuSession(m, batch, { convAlgorithm });
    expectClose(await s.run(x), ref.output.data, rtol, `${name} (${convAlgorithm ?? 'auto'})`);
    // A second run on the same buffers gives the same values.
    expectClose(await s.run(x), ref.output.data, rtol, `${name} (${convAlgorithm ?? 'auto'}, again)`);
    s.destroy();
  }
  const all = await createFastCpuSession(m, batch, { keepAll: true });
  await all.run(x);
  for (const node of m.graph.nodes) {
    expect(all.hasOutput(node.id)).toBe(true);
    expectClose(all.readNode(node.id), ref.nodes![node.id].data, rtol, `${name}, unfused, node ${node.id} (${node.attrs.kind})`);
  }
}

describe('fast CPU engine: kernel paths against the reference', () => {
  it('1x1 convs: stride 1 (straight GEMM), stride 2, outputs not a multiple of 4, bn + relu folded', () =>
    check('1x1', [input(8, 9), L(conv(12, 1, { bias: false })), L(bn), L(relu), L(conv(10, 1, { s: 2 })), L(conv(7, 1)), L(bn)]));

  it('3x3 stride 1 and 2 with padding; K over one cache block (64x9 = 576) and N over one (20x20 = 400)', () =>
    check('3x3', [input(64, 20), L(conv(20, 3, { p: 1 })), L({ kind: 'leakyrelu', slope: 0.1 }), L(conv(16, 3, { s: 2, p: 1 })), L(relu), L(conv(9, 3, { s: 2 }))]));

  it('7x7 stride 2 then a 3x3 stride-2 max pool (the ResNet stem)', () =>
    check('stem', [input(3, 23), L(conv(10, 7, { s: 2, p: 3, bias: false })), L(bn), L(relu), L(pool('maxpool', 3, 2, 1))]));

  it('grouped: 4 and 8 groups, channels per group not a multiple of 4, stride 2, with bias', () =>
    check('grouped', [input(16, 11), L(conv(24, 3, { p: 1, g: 4 })), L(bn), L(relu), L(conv(16, 3, { s: 2, p: 1, g: 8 })), L(conv(32, 1, { g: 2 }))]));

  it('depthwise (and a multiplier of 2), stride 1 and 2', () =>
    check('depthwise', [input(12, 10), L(conv(12, 3, { p: 1, g: 12 })), L(relu), L(conv(24, 3, { s: 2, p: 1, g: 12, bias: false })), L(bn)]));

  it('depthwise by groups of 4 interleaved channels: 3x3 and 5x5, stride 2, dilation, 10 channels, odd planes, SiLU, GELU and a fused residual', () =>
    check('depthwise interleaved', [
      input(10, 13, 15),
      L(conv(10, 5, { p: 2, g: 10 })),
      L(bn),
      L({ kind: 'silu' }),
      L(conv(10, 3, { s: 2, p: 1, g: 10, bias: false })),
      L({ kind: 'relu6' }),
      L(conv(10, 3, { p: 1, g: 10 })),
      L(bn),
      L({ kind: 'add' }, [7, 5]),
      L(conv(10, 3, { p: 2, d: 2, g: 10 })),
      L(conv(10, 5, { s: 2, p: 1, g: 10 })),
      L({ kind: 'gelu', approximate: 'none' }),
      L(conv(10, [3, 5], { s: [1, 2], p: [0, 2], g: 10 })),
      L({ kind: 'hardswish' }),
      L(conv(10, 3, { p: [2, 1], d: [2, 1], g: 10 })),
    ]));

  it('GEMM columns past a multiple of 8 one at a time: 7x7 (49 positions), 10 positions, a squeeze-and-excitation gate on one, K over a cache block, rows not a multiple of 4', () =>
    check('columns', [
      input(300, 7),
      L(conv(13, 1)),
      L(bn),
      L({ kind: 'silu' }),
      L(conv(13, 1, { bias: false })),
      L(bn),
      L({ kind: 'add' }, [5, 3]),
      L({ kind: 'gap' }),
      L(conv(6, 1)),
      L({ kind: 'silu' }),
      L(conv(13, 1)),
      L({ kind: 'sigmoid' }),
      L({ kind: 'mul' }, [6, 11]),
      L(conv(9, 3, { s: [3, 1] })),
      L({ kind: 'relu6' }),
      L(conv(6, 1)),
      L({ kind: 'gelu', approximate: 'tanh' }),
    ]));

  it('dilation, rectangular kernels, strides and paddings differing by axis', () =>
    check('dilated', [input(6, 13, 17), L(conv(8, 3, { p: 2, d: 2 })), L(conv(8, [3, 5], { s: [2, 1], p: [1, 2] })), L(conv(8, 3, { d: [1, 2], p: [0, 3], g: 2, s: [1, 3] }))]));

  it('a conv whose output is wider than its padded input reads only zeros past the edge', () =>
    check('padding', [input(2, 3), L(conv(5, 3, { p: 3 })), L(conv(4, 1, { s: 2, p: 1 }))]));

  it('pools: ceil-mode max and average, padded average, strides 1 to 3, even and uneven adaptive averages, global average', () =>
    check('pools', [
      input(5, 14),
      L(pool('maxpool', 3, 2, 0, true)),
      L(pool('avgpool', 3, 2, 1, true)),
      L(pool('avgpool', 2, 2), [0]),
      L({ kind: 'adaptiveavgpool', size: [7, 7] }, [0]),
      L({ kind: 'adaptiveavgpool', size: [3, 5] }, [0]),
      L({ kind: 'gap' }, [0]),
      L({ kind: 'concat' }, [3, 4]),
      L({ kind: 'gap' }),
      L({ kind: 'gap' }, [2]),
      L({ kind: 'gap' }, [5]),
      L({ kind: 'concat' }, [9, 10]),
      L({ kind: 'add' }, [8, 11]),
      L({ kind: 'concat' }, [6, 6]),
      L({ kind: 'add' }, [12, 13]),
      // Stride 1 with padding (GoogLeNet's branch pools), stride 3 in ceil mode (the strided path), into a concat.
      L(pool('maxpool', 3, 1, 1), [0]),
      L(pool('maxpool', 3, 3, 1, true), [0]),
      L(pool('avgpool', 3, 3, 1, true), [0]),
      L({ kind: 'concat' }, [16, 17]),
      L({ kind: 'gap' }, [15]),
      L({ kind: 'gap' }),
      L({ kind: 'concat' }, [19, 20]),
      L({ kind: 'add' }, [14, 21]),
    ]));

  it('residuals: conv + bn + add + relu fused, an add of three, a concat written in place and one copied', () =>
    check('residual', [
      input(8, 6),
      L(conv(8, 3, { p: 1, bias: false })),
      L(bn),
      L(relu),
      L(conv(8, 3, { p: 1, bias: false })),
      L(bn),
      L({ kind: 'add' }, [5, 0]),
      L(relu),
      L({ kind: 'add' }, [7, 0, 3]),
      L(conv(4, 1), [8]),
      L(conv(6, 3, { p: 1 }), [8]),
      L({ kind: 'concat' }, [9, 10, 0]),
      L({ kind: 'tanh' }),
      L({ kind: 'concat' }, [12, 11]),
    ]));

  it('linear layers: flatten, bias or not, bn on features, activations, dropout, softmax; LRN and sigmoid on maps', () =>
    check('dense', [
      input(4, 5),
      L({ kind: 'lrn', size: 3, alpha: 1e-4, beta: 0.75, k: 2 }),
      L(conv(6, 3, { p: 1 })),
      L({ kind: 'sigmoid' }),
      L({ kind: 'flatten' }),
      L({ kind: 'linear', out: 13, bias: true }),
      L(bn),
      L(relu),
      L({ kind: 'dropout', p: 0.5 }),
      L({ kind: 'linear', out: 9, bias: false }),
      L({ kind: 'tanh' }),
      L({ kind: 'linear', out: 5, bias: true }),
      L({ kind: 'softmax' }),
    ]));

  it('batch 1 and batch 3 give the reference too', async () => {
    for (const batch of [1, 3]) await check(`batch ${batch}`, [input(3, 12), L(conv(8, 3, { s: 2, p: 1 })), L(relu), L(conv(8, 3, { p: 1, g: 4 })), L({ kind: 'gap' }), L({ kind: 'flatten' }), L({ kind: 'linear', out: 4, bias: true })], batch);
  });
});

describe('fast CPU engine: the session', () => {
  it('profiles per step with the layer paths, reads fused outputs only where kept, and checks its input', async () => {
    const m = modelOf([input(3, 8), L(conv(4, 3, { p: 1 })), L(bn), L(relu), L({ kind: 'gap' }), L({ kind: 'flatten' }), L({ kind: 'linear', out: 2, bias: true })]);
    const s = await createFastCpuSession(m, 1);
    expect(s.backend).toBe('cpu');
    expect(s.adapter).toBe('CPU: WebAssembly SIMD');
    const x = randomTensor([1, 3, 8, 8], rng(1)).data;
    const p = await s.profile(x);
    expect(p.map((l) => l.path)).toEqual(['l1', 'l4', 'l6']);
    expect(p[0].nodes).toEqual([1, 2, 3]);
    for (const l of p) expect(l.ms).toBeGreaterThanOrEqual(0);
    expect(s.hasOutput(6)).toBe(true);
    expect(s.hasOutput(2)).toBe(false);
    expect(() => s.readNode(2)).toThrow(/keepAll/);
    await expect(s.run(new Float32Array(5))).rejects.toThrow(/expected \[1, 3, 8, 8\]/);
    s.destroy();
    await expect(s.run(x)).rejects.toThrow(/destroyed/);
  });

  it('runs step by step (the panel times each step and may stop between them): the same output as run()', async () => {
    const m = modelOf([input(3, 8), L(conv(4, 3, { p: 1 })), L(bn), L(relu), L(conv(4, 3, { s: 2, p: 1 })), L({ kind: 'gap' }), L({ kind: 'flatten' }), L({ kind: 'linear', out: 2, bias: true })]);
    const s = await createFastCpuSession(m, 1);
    const x = randomTensor([1, 3, 8, 8], rng(2)).data;
    const whole = await s.run(x);
    const paths = (await s.profile(x)).map((l) => l.path);
    // (Buffers are shared: a pass in between would overwrite this one's; none runs here.)
    const p = s.stepwise(x);
    expect(p.steps.map((st) => st.path)).toEqual(paths);
    for (let i = 0; i < p.steps.length; i++) p.run(i);
    expect(Array.from(p.output())).toEqual(Array.from(whole));
    s.destroy();
    expect(() => s.stepwise(x)).toThrow(/destroyed/);
  });

  it('shares activation memory between buffers whose lifetimes do not overlap', async () => {
    const layers: Layer[] = [input(16, 32)];
    for (let i = 0; i < 12; i++) layers.push(L(conv(16, 3, { p: 1 })), L(relu));
    const m = modelOf(layers);
    const fused = await createFastCpuSession(m, 1);
    const all = await createFastCpuSession(m, 1, { keepAll: true });
    // 13 buffers of 64 KiB each unfused (25 with the relus); two or three when shared, plus weights and scratch.
    expect(fused.memoryBytes).toBeLessThan(all.memoryBytes / 3);
  });
});

function exampleModel(file: string, inputShape: number[] | undefined, seed: number): Model {
  const a = analyzeText(readFileSync(file, 'utf8'), inputShape ? { inputShape } : {});
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const net = a.networks[0];
  return { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors, weights: randomWeights(net.tensors, rng(seed)) };
}

describe('fast CPU engine: example networks against the reference, batch 2', () => {
  const cases: [string, number[]][] = [
    ['examples/resnet18.cnn', [3, 40, 40]],
    ['examples/resnet50.cnn', [3, 32, 32]],
    ['examples/resnet101.cnn', [3, 32, 32]],
    ['examples/resnet152.cnn', [3, 32, 32]],
    ['examples/resnext50_32x4d.cnn', [3, 48, 48]],
    ['examples/googlenet.cnn', [3, 48, 48]],
    ['examples/alexnet.cnn', [3, 67, 67]],
    ['examples/vgg16.cnn', [3, 32, 32]],
    ['examples/cifar.cnn', [3, 32, 32]],
  ];
  for (const [file, shape] of cases) {
    it(`${file} at ${shape.join('x')}`, async () => {
      const m = exampleModel(file, shape, 11);
      const x = randomTensor([2, ...shape], rng(5)).data;
      const ref = await createCpuSession(m, 2).run(x);
      const s = await createFastCpuSession(m, 2);
      expectClose(await s.run(x), ref, 1e-4, file);
      s.destroy();
    }, 120_000);
  }
});

const DATA = '/usr/share/datasets/fashion-mnist';
const IMAGES = `${DATA}/t10k-images-idx3-ubyte.gz`;
const LABELS = `${DATA}/t10k-labels-idx1-ubyte.gz`;
/** An unsigned-byte IDX file's data (as test/engine/fashion-mnist.test.ts reads it; importing that file would run its tests here). */
function readIdx(file: string): Uint8Array {
  const raw = gunzipSync(readFileSync(file));
  return raw.subarray(4 + 4 * raw[3]);
}

describe('fast CPU engine: the trained Fashion-MNIST example', () => {
  const have = existsSync(IMAGES) && existsSync(LABELS);
  it.skipIf(!have)(`at least 90% of the first 1,000 test images; the reference's values and predictions on 300${have ? '' : ` (skipped: no ${DATA}; apt-get install dataset-fashion-mnist)`}`, async () => {
    const a = analyzeText(readFileSync('examples/fashion-mnist/fashion.cnn', 'utf8'));
    const net = a.networks[0];
    const m: Model = { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors, weights: loadSafetensorsWeights(readFileSync('examples/fashion-mnist/fashion.safetensors'), net.tensors) };
    const count = 1000;
    const batch = 100;
    const x = Float32Array.from(readIdx(IMAGES).subarray(0, count * 784), (v) => v / 255);
    const y = readIdx(LABELS).subarray(0, count);
    const fast = await createFastCpuSession(m, batch);
    const ref = createCpuSession(m, batch);
    const argmax = (row: Float32Array) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
    let correct = 0;
    for (let i = 0; i < count; i += batch) {
      const xs = x.subarray(i * 784, (i + batch) * 784);
      const out = await fast.run(xs);
      // The reference (slow) on the first 300 images: the same values and predictions.
      const want = i < 300 ? await ref.run(xs) : undefined;
      if (want) expectClose(out, want, 1e-4, `images ${i}..${i + batch}`);
      for (let r = 0; r < batch; r++) {
        const p = argmax(out.subarray(r * 10, r * 10 + 10));
        if (want) expect(p).toBe(argmax(want.subarray(r * 10, r * 10 + 10)));
        if (p === y[i + r]) correct++;
      }
    }
    console.log(`Fashion-MNIST, fast CPU engine: ${((100 * correct) / count).toFixed(1)}% of ${count}`);
    expect(correct / count).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
