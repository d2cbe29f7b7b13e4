// `npm run bench:train`: one training step (src/engine/train/backprop.ts, forward + backward in
// train mode, cross-entropy, then an Adam step at 1e-3) of one batch on
// examples/fashion-mnist/fashion.cnn, timed over a few runs; prints the median samples per second
// of wall time and of the process's CPU time (on a busy machine the CPU time is the steadier
// figure). One thread.
//
//   node scripts/bench-train.mjs [--batch 32] [--runs 5] [--warmup 3] [--file F.cnn]
//        [--kernels fast|reference|both] [--torch] [--python /usr/bin/python3] [--json]
//
// `fast` is the default training path: the WebAssembly SIMD kernels (src/engine/wasm/train-kernels.c)
// for conv, linear, batch norm, ReLU and max pooling, the CPU reference for the rest; `reference`
// is the CPU reference alone (the oracle). `--kernels both` alternates them run by run, so that
// load from other processes hits both alike. `--torch` alternates PyTorch too (Debian's
// python3-torch, `torch.set_num_threads(1)`): the same network as `cnn export --format pytorch`
// writes it, the same weights, batch and optimiser, one persistent process timed step by step
// (its own CPU time, as ours).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tsImport } from 'tsx/esm/api';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const batch = Number(opt('batch', 32));
const runs = Number(opt('runs', 5));
const warmup = Number(opt('warmup', 3));
const file = opt('file', 'examples/fashion-mnist/fashion.cnn');
const kernels = opt('kernels', 'fast');
const withTorch = args.includes('--torch');
const python = opt('python', '/usr/bin/python3');
const json = args.includes('--json');
const LR = 1e-3;

const here = import.meta.url;
const { analyzeText } = await tsImport('../src/analysis/index.ts', here);
const { initWeights, mulberry32 } = await tsImport('../src/engine/weights/init.ts', here);
const { lossAndGradients } = await tsImport('../src/engine/train/backprop.ts', here);
const { Optimizer } = await tsImport('../src/engine/train/optim.ts', here);
const { tensor } = await tsImport('../src/engine/tensor.ts', here);

const net = analyzeText(readFileSync(file, 'utf8')).networks[0];
const initial = initWeights(net.tensors, 0);
const inShape = net.layers[net.graph.nodes.findIndex((n) => n.attrs.kind === 'input')].shape;
const classes = net.layers[net.graph.output].shape[0];
const rand = mulberry32(1);
const x = tensor([batch, ...inShape]);
for (let i = 0; i < x.data.length; i++) x.data[i] = rand();
const y = Float32Array.from({ length: batch }, () => Math.floor(rand() * classes));

/** The PyTorch side: a process that runs one step per line it reads and answers {wall, cpu} in ms. */
async function torchSide() {
  const { exportPytorch, pythonClassName } = await tsImport('../src/export/pytorch.ts', here);
  const { saveSafetensorsWeights } = await tsImport('../src/engine/weights/load.ts', here);
  const { writeNpy } = await tsImport('../src/engine/input/npy.ts', here);
  const dir = mkdtempSync(join(tmpdir(), 'cnn-bench-train-'));
  writeFileSync(join(dir, 'net.py'), exportPytorch(net, { source: file }));
  writeFileSync(join(dir, 'w.safetensors'), saveSafetensorsWeights(net.tensors, initial));
  writeFileSync(join(dir, 'x.npy'), writeNpy(x.shape, x.data));
  writeFileSync(join(dir, 'y.npy'), writeNpy([batch], y));
  const probabilities = net.graph.nodes[net.graph.output].attrs.kind === 'softmax';
  const script = `
import importlib.util, json, sys, time
import numpy as np, torch, torch.nn.functional as F
torch.set_num_threads(1)
spec = importlib.util.spec_from_file_location("net", ${JSON.stringify(join(dir, 'net.py'))})
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
model = getattr(mod, ${JSON.stringify(pythonClassName(net.graph.network))})()
mod.load_weights(model, ${JSON.stringify(join(dir, 'w.safetensors'))})
model.train()
opt = torch.optim.Adam(model.parameters(), lr=${LR})
x = torch.from_numpy(np.load(${JSON.stringify(join(dir, 'x.npy'))}))
y = torch.from_numpy(np.load(${JSON.stringify(join(dir, 'y.npy'))})).long()
print(json.dumps({"version": torch.__version__}), flush=True)
for line in sys.stdin:
    t0, c0 = time.perf_counter(), time.process_time()
    opt.zero_grad()
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out
    loss = F.cross_entropy(torch.log(out) if ${probabilities ? 'True' : 'False'} else out, y)
    loss.backward()
    opt.step()
    print(json.dumps({"wall": 1000 * (time.perf_counter() - t0), "cpu": 1000 * (time.process_time() - c0)}), flush=True)
`;
  const child = spawn(python, ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`bench-train: ${python} exited (is python3-torch installed?)`);
    return JSON.parse(r.value);
  };
  const { version } = await next();
  return {
    version,
    async step() {
      child.stdin.write('step\n');
      return next();
    },
    close() {
      child.stdin.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const which = kernels === 'both' ? ['fast', 'reference'] : [kernels];
const torch = withTorch ? await torchSide() : null;
const names = [...which, ...(torch ? [`PyTorch ${torch.version}`] : [])];
const wall = Object.fromEntries(names.map((k) => [k, []]));
const cpu = Object.fromEntries(names.map((k) => [k, []]));
const state = Object.fromEntries(which.map((k) => [k, { weights: new Map([...initial].map(([n, v]) => [n, v.slice()])), optimizer: new Optimizer({ kind: 'adam', lr: LR }) }]));
for (let r = 0; r < warmup + runs; r++) {
  for (const k of which) {
    const { weights, optimizer } = state[k];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const res = lossAndGradients(net.graph, weights, net.tensors, x, y, { mode: 'train', loss: { kind: 'cross-entropy' }, seed: 0, step: r, kernels: k });
    optimizer.step(weights, res.grads, LR);
    for (const [name, v] of res.buffers) weights.set(name, v);
    const c = process.cpuUsage(c0);
    const ms = performance.now() - t0;
    if (r >= warmup) {
      wall[k].push(ms);
      cpu[k].push((c.user + c.system) / 1000);
    }
  }
  if (torch) {
    const t = await torch.step();
    if (r >= warmup) {
      wall[names.at(-1)].push(t.wall);
      cpu[names.at(-1)].push(t.cpu);
    }
  }
}
torch?.close();
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const results = names.map((k) => ({
  network: net.graph.network,
  batch,
  kernels: k,
  msPerBatch: median(wall[k]),
  samplesPerSecond: (batch * 1000) / median(wall[k]),
  cpuSamplesPerSecond: (batch * 1000) / median(cpu[k]),
}));
for (const r of results) {
  if (json) console.log(JSON.stringify(r));
  else console.log(`${r.network} batch ${batch} (${r.kernels}): ${r.msPerBatch.toFixed(0)} ms/step, ${r.samplesPerSecond.toFixed(1)} samples/s wall, ${r.cpuSamplesPerSecond.toFixed(1)} samples/s CPU`);
}
if (!json && results.length > 1) {
  const [f, ...rest] = results;
  for (const o of rest) console.log(`${f.kernels} / ${o.kernels}: ${(f.samplesPerSecond / o.samplesPerSecond).toFixed(2)}x wall, ${(f.cpuSamplesPerSecond / o.cpuSamplesPerSecond).toFixed(2)}x CPU`);
}
