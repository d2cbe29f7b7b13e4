// `npm run bench:cpu`: the fast CPU engine (src/engine/wasm, WebAssembly SIMD, one thread) against
// ONNX Runtime Web's wasm provider (one thread) on the same networks, weights and input: each
// network's ONNX export (src/export/onnx.ts) runs in ORT. Passes alternate between the two in one
// process, so that load from other processes hits both alike; medians are reported, of wall time
// and of this process's CPU time (both engines run on this one thread: on a busy machine the CPU
// time is the steadier figure).
//
//   node scripts/bench-cpu.mjs [--runs N] [--warmup N] [--only resnet18,resnext50] [--json] [--profile]
//
// mobilenetv2-relu, -hardswish, -silu and -gelu (MobileNetV2 with another activation) run only when --only names them.
//
// --profile adds our per-layer medians (the ten slowest steps) for each network.
import { readFileSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(opt('runs', 10));
const warmup = Number(opt('warmup', 2));
const only = opt('only', '')
  .split(',')
  .filter(Boolean);
const json = args.includes('--json');
const wantProfile = args.includes('--profile');

const NETWORKS = [
  { key: 'resnet18', file: 'examples/resnet18.cnn' },
  { key: 'resnet50', file: 'examples/resnet50.cnn' },
  { key: 'resnext50', file: 'examples/resnext50_32x4d.cnn' },
  { key: 'vgg16', file: 'examples/vgg16.cnn' },
  { key: 'googlenet', file: 'examples/googlenet.cnn' },
  { key: 'fashion-mnist', file: 'examples/fashion-mnist/fashion.cnn', weights: 'examples/fashion-mnist/fashion.safetensors' },
  { key: 'mobilenet_v2', file: 'examples/mobilenet_v2.cnn' },
  { key: 'efficientnet_b0', file: 'examples/efficientnet_b0.cnn' },
  // The same network with other activations, to weigh their epilogues against ReLU6 and ReLU: run only when --only names them.
  ...['relu', 'hardswish', 'silu', 'gelu'].map((act) => ({ key: `mobilenetv2-${act}`, text: mobilenetV2(act), onlyWhenNamed: true })),
];

/**
 * torchvision's MobileNetV2 (3,504,872 parameters, 300.77 M MACs; examples/mobilenet_v2.cnn
 * with ReLU6) with `act` after every expansion and depthwise conv instead.
 */
function mobilenetV2(act) {
  return `network MobileNetV2_${act} {
  input 3x224x224
  conv 32 k=3 s=2 p=1 bias=false; bn; ${act}
  IR(32, 16, 1, 1)
  IR(16, 24, 2, 6); IR(24, 24, 1, 6)
  IR(24, 32, 2, 6); repeat 2 { IR(32, 32, 1, 6) }
  IR(32, 64, 2, 6); repeat 3 { IR(64, 64, 1, 6) }
  IR(64, 96, 1, 6); repeat 2 { IR(96, 96, 1, 6) }
  IR(96, 160, 2, 6); repeat 2 { IR(160, 160, 1, 6) }
  IR(160, 320, 1, 6)
  conv 1280 k=1 bias=false; bn; ${act}
  gap; flatten; dropout 0.2; linear 1000
}
block IR(cin, cout, s, t) {
  if s == 1 && cin == cout {
    residual { Inner(cin, cout, s, t) }
  } else {
    Inner(cin, cout, s, t)
  }
}
block Inner(cin, cout, s, t) {
  if t != 1 { conv cin*t k=1 bias=false; bn; ${act} }
  conv cin*t k=3 s=s p=1 g=cin*t bias=false; bn; ${act}
  conv cout k=1 bias=false; bn
}
`;
}

const here = import.meta.url;
const { analyzeText } = await tsImport('../src/analysis/index.ts', here);
const { exportOnnx } = await tsImport('../src/export/onnx.ts', here);
const { initWeights, mulberry32 } = await tsImport('../src/engine/weights/init.ts', here);
const { loadSafetensorsWeights } = await tsImport('../src/engine/weights/load.ts', here);
const { createFastCpuSession } = await tsImport('../src/engine/session.ts', here);
// The wasm-only build (its package exports do not list the file, so by path).
const ort = await import(new URL('../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs', here).href);
ort.env.wasm.numThreads = 1;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const results = [];
for (const n of NETWORKS) {
  if (only.length ? !only.includes(n.key) : n.onlyWhenNamed) continue;
  const analysis = analyzeText(n.text ?? readFileSync(n.file, 'utf8'));
  const net = analysis.networks[0];
  const shapes = net.layers.map((l) => l.shape);
  const weights = n.weights ? loadSafetensorsWeights(readFileSync(n.weights), net.tensors) : initWeights(net.tensors, 0);
  const model = { graph: net.graph, shapes, tensors: net.tensors, weights };
  const inShape = shapes[net.graph.nodes.findIndex((x) => x.attrs.kind === 'input')];
  const rand = mulberry32(1);
  const input = Float32Array.from({ length: inShape.reduce((a, d) => a * d, 1) }, () => 2 * rand() - 1);

  const ours = await createFastCpuSession(model, 1);
  const onnx = exportOnnx(net, weights, {});
  const ortSession = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { [ortSession.inputNames[0]]: new ort.Tensor('float32', input, [1, ...inShape]) };
  const runOrt = async () => (await ortSession.run(feeds))[ortSession.outputNames[0]].data;

  // Agreement, as a guard against timing a wrong computation.
  const a = await ours.run(input);
  const b = await runOrt();
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  for (let i = 0; i < warmup; i++) {
    await ours.run(input);
    await runOrt();
  }
  const tOurs = [];
  const tOrt = [];
  const cOurs = [];
  const cOrt = [];
  const passes = [];
  const timed = async (f, wall, cpu) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  };
  for (let i = 0; i < runs; i++) {
    await timed(() => ours.run(input), tOurs, cOurs);
    await timed(runOrt, tOrt, cOrt);
    if (wantProfile) passes.push(await ours.profile(input));
  }
  const r = {
    network: net.graph.network,
    input: inShape,
    macs: net.totals.macs,
    oursMs: Number(median(tOurs).toFixed(2)),
    ortMs: Number(median(tOrt).toFixed(2)),
    speedup: Number((median(tOrt) / median(tOurs)).toFixed(2)),
    oursCpuMs: Number(median(cOurs).toFixed(2)),
    ortCpuMs: Number(median(cOrt).toFixed(2)),
    cpuSpeedup: Number((median(cOrt) / median(cOurs)).toFixed(2)),
    maxRelDiff: Number((diff / scale).toExponential(2)),
  };
  if (wantProfile) {
    r.slowest = passes[0]
      .map((l, j) => ({ path: l.path, ms: Number(median(passes.map((p) => p[j].ms)).toFixed(3)) }))
      .sort((x, y) => y.ms - x.ms)
      .slice(0, 10);
  }
  results.push(r);
  ours.destroy();
  await ortSession.release();
  if (!json) {
    console.log(
      `${r.network.padEnd(16)} [${inShape.join('x')}]  wall: ours ${r.oursMs.toFixed(1).padStart(7)} ms, ORT ${r.ortMs.toFixed(1).padStart(7)} ms, ORT/ours ${r.speedup.toFixed(2)}x;  ` +
        `CPU time: ours ${r.oursCpuMs.toFixed(1).padStart(7)} ms, ORT ${r.ortCpuMs.toFixed(1).padStart(7)} ms, ${r.cpuSpeedup.toFixed(2)}x  ` +
        `(${((2 * r.macs) / r.oursCpuMs / 1e6).toFixed(1)} GFLOP/s; outputs agree to ${r.maxRelDiff} of max)`,
    );
    if (r.slowest) for (const l of r.slowest) console.log(`    ${l.path.padEnd(36)} ${l.ms.toFixed(3)} ms`);
  }
}
if (json) console.log(JSON.stringify({ runs, warmup, threads: 1, results }));
