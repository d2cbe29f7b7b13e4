/** The training loop: the test pass on the fast engine agrees with the reference's; shuffles and whole runs repeat from the seed; Stop drops the epoch under way. */
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../../src/analysis';
import { arrayDataset, byteImageDataset, IdxError, parseIdx } from '../../../src/engine/train/dataset';
import { shuffled, Trainer, type TrainConfig } from '../../../src/engine/train/loop';
import { initWeights } from '../../../src/engine/weights/init';
import { randomTensor, rng } from '../helpers';

const net = analyzeText('network T {\n  input 2x5x5\n  conv 4 k=3 p=1\n  bn\n  relu\n  maxpool 2 ceil=true\n  flatten\n  dropout 0.3\n  linear 3\n}\n').networks[0];
const N = 37;
const x = randomTensor([N, 2, 5, 5], rng(1));
const labels = Array.from({ length: N }, (_, i) => (i * 7) % 3);
// Make the task learnable: the label shifts the first channel.
for (let i = 0; i < N; i++) for (let k = 0; k < 25; k++) x.data[i * 50 + k] += labels[i];
const data = arrayDataset(x.data, labels, [2, 5, 5], 3);
const config: TrainConfig = { epochs: 3, batch: 8, optimizer: { kind: 'adam', lr: 0.01 }, schedule: { kind: 'cosine', total: 3 }, seed: 4 };

async function run(c: TrainConfig) {
  const weights = initWeights(net.tensors, c.seed);
  const t = new Trainer(net.graph, net.tensors, weights, c);
  const reports = [];
  for (let e = 0; e < c.epochs; e++) reports.push((await t.epoch(data, data))!);
  return { weights, reports, trainer: t };
}

describe('Trainer', () => {
  it('the test pass on the fast CPU engine equals the reference (batch norms folded, a short last batch padded)', async () => {
    const { trainer } = await run(config);
    const fast = await trainer.accuracy(data, {}, 10);
    const slow = await new Trainer(net.graph, net.tensors, trainer.weights, { ...config, fastEval: false }).accuracy(data, {}, 10);
    expect(fast).toBe(slow);
  });

  it('the same seed repeats the run bit for bit; the loss falls and the task is learnt', async () => {
    const a = await run(config);
    const b = await run(config);
    for (const [k, v] of a.weights) expect(Array.from(b.weights.get(k)!), k).toEqual(Array.from(v));
    expect(a.reports.map((r) => r.loss)).toEqual(b.reports.map((r) => r.loss));
    expect(a.reports[2].loss).toBeLessThan(a.reports[0].loss);
    expect(a.reports[2].testAccuracy).toBeGreaterThan(0.6);
    // 37 = 4·8 + 5: five batches, none of a single sample.
    expect(a.reports[0].lr).toBe(0.01);
    expect(a.reports[1].lr).toBeCloseTo(0.0075, 12);
    const c = await run({ ...config, seed: 5 });
    expect(c.reports[0].loss).not.toBe(a.reports[0].loss);
  });

  it('stopping between batches drops the epoch under way', async () => {
    const t = new Trainer(net.graph, net.tensors, initWeights(net.tensors, 0), config);
    let batches = 0;
    const r = await t.epoch(data, null, { onBatch: () => batches++, stopped: () => batches >= 2 });
    expect(r).toBeNull();
    expect(t.epochsDone).toBe(0);
  });

  it('shuffles are permutations fixed by the seed', () => {
    const s = shuffled(50, 9);
    expect([...s].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...shuffled(50, 9)]).toEqual([...s]);
    expect([...shuffled(50, 10)]).not.toEqual([...s]);
  });
});

describe('IDX files', () => {
  it('parses the header and scales bytes to [0, 1]', () => {
    const img = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 51, 102]);
    const lab = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 1, 0]);
    const d = byteImageDataset(parseIdx(img), parseIdx(lab), [1, 1, 2], 2);
    const out = new Float32Array(4);
    d.read(0, out, 0);
    d.read(1, out, 2);
    expect(Array.from(out)).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect([d.label(0), d.label(1)]).toEqual([1, 0]);
  });

  it('refuses what is not one, truncated data and labels past the classes', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]))).toThrow(IdxError);
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 9, 1]), 'x')).toThrow(/x: truncated data: \(9\) needs 9 bytes, the file has 1/);
    const img = parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7]));
    expect(() => byteImageDataset(img, parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 5])), [1, 1, 1], 3)).toThrow(/label 0 is 5; the network has 3 classes/);
  });
});
