// `npm run bench:train`: the CPU training pass (src/engine/train/backprop.ts, forward + backward
// in train mode, cross-entropy) of one batch on examples/fashion-mnist/fashion.cnn, timed over a
// few runs; prints the median samples per second of wall time and of this process's CPU time
// (on a busy machine the CPU time is the steadier figure). One thread.
//
//   node scripts/bench-train.mjs [--batch 32] [--runs 5] [--warmup 1] [--file F.cnn] [--kernels fast|reference] [--json]
import { readFileSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const batch = Number(opt('batch', 32));
const runs = Number(opt('runs', 5));
const warmup = Number(opt('warmup', 1));
const file = opt('file', 'examples/fashion-mnist/fashion.cnn');
const kernels = opt('kernels', 'fast');
const json = args.includes('--json');

const here = import.meta.url;
const { analyzeText } = await tsImport('../src/analysis/index.ts', here);
const { initWeights, mulberry32 } = await tsImport('../src/engine/weights/init.ts', here);
const { lossAndGradients } = await tsImport('../src/engine/train/backprop.ts', here);
const { tensor } = await tsImport('../src/engine/tensor.ts', here);

const net = analyzeText(readFileSync(file, 'utf8')).networks[0];
const weights = initWeights(net.tensors, 0);
const inShape = net.layers[net.graph.nodes.findIndex((n) => n.attrs.kind === 'input')].shape;
const classes = net.layers[net.graph.output].shape[0];
const rand = mulberry32(1);
const x = tensor([batch, ...inShape]);
for (let i = 0; i < x.data.length; i++) x.data[i] = rand();
const y = Float32Array.from({ length: batch }, () => Math.floor(rand() * classes));

const wall = [];
const cpu = [];
for (let r = 0; r < warmup + runs; r++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  lossAndGradients(net.graph, weights, net.tensors, x, y, { mode: 'train', loss: { kind: 'cross-entropy' }, seed: 0, step: r, kernels });
  const c = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  if (r >= warmup) {
    wall.push(ms);
    cpu.push((c.user + c.system) / 1000);
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const result = {
  network: net.graph.network,
  batch,
  kernels,
  msPerBatch: median(wall),
  samplesPerSecond: (batch * 1000) / median(wall),
  cpuSamplesPerSecond: (batch * 1000) / median(cpu),
};
if (json) console.log(JSON.stringify(result));
else console.log(`${result.network} batch ${batch} (${kernels}): ${result.msPerBatch.toFixed(0)} ms/batch, ${result.samplesPerSecond.toFixed(1)} samples/s wall, ${result.cpuSamplesPerSecond.toFixed(1)} samples/s CPU`);
