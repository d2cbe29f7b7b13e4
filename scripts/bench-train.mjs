// `npm run bench:train`: the CPU training pass (src/engine/train/backprop.ts, forward + backward
// in train mode, cross-entropy) of one batch on examples/fashion-mnist/fashion.cnn, timed over a
// few runs; prints the median samples per second of wall time and of this process's CPU time
// (on a busy machine the CPU time is the steadier figure). One thread.
//
//   node scripts/bench-train.mjs [--batch 32] [--runs 5] [--warmup 1] [--file F.cnn] [--kernels fast|reference|both] [--json]
//
// --kernels both alternates the fast training path and the CPU reference (the oracle) run by run,
// so that load from other processes hits both alike, and prints the speed-up.
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

const which = kernels === 'both' ? ['fast', 'reference'] : [kernels];
const wall = Object.fromEntries(which.map((k) => [k, []]));
const cpu = Object.fromEntries(which.map((k) => [k, []]));
for (let r = 0; r < warmup + runs; r++) {
  for (const k of which) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    lossAndGradients(net.graph, weights, net.tensors, x, y, { mode: 'train', loss: { kind: 'cross-entropy' }, seed: 0, step: r, kernels: k });
    const c = process.cpuUsage(c0);
    const ms = performance.now() - t0;
    if (r >= warmup) {
      wall[k].push(ms);
      cpu[k].push((c.user + c.system) / 1000);
    }
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const results = which.map((k) => ({
  network: net.graph.network,
  batch,
  kernels: k,
  msPerBatch: median(wall[k]),
  samplesPerSecond: (batch * 1000) / median(wall[k]),
  cpuSamplesPerSecond: (batch * 1000) / median(cpu[k]),
}));
for (const r of results) {
  if (json) console.log(JSON.stringify(r));
  else console.log(`${r.network} batch ${batch} (${r.kernels}): ${r.msPerBatch.toFixed(0)} ms/batch, ${r.samplesPerSecond.toFixed(1)} samples/s wall, ${r.cpuSamplesPerSecond.toFixed(1)} samples/s CPU`);
}
if (results.length === 2 && !json) {
  const [f, ref] = results;
  console.log(`speed-up: ${(f.samplesPerSecond / ref.samplesPerSecond).toFixed(1)}x wall, ${(f.cpuSamplesPerSecond / ref.cpuSamplesPerSecond).toFixed(1)}x CPU`);
}
