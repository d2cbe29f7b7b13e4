/**
 * The race: our engine against ONNX Runtime Web on the same ONNX-exported networks and weights,
 * in headless chromium (WebGPU on whatever adapter chromium picks; SwiftShader on a machine
 * without a GPU). Node prepares every network (seeded weights, or the trained Fashion-MNIST ones;
 * `exportOnnx` with those weights; the same weights as safetensors for our engine), serves the
 * race page (scripts/race/page.ts, bundled here with esbuild), the ORT dist folder and the
 * network files from 127.0.0.1 with COOP/COEP headers (ORT's wasm threads need cross-origin
 * isolation), and drives one page per network and side: set up both engines, warm up, then
 * alternate timed passes (ours first on even pairs, ORT first on odd ones).
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { analyzeText } from '../../src/analysis';
import { initWeights } from '../../src/engine/weights/init';
import { loadSafetensorsWeights, saveSafetensorsWeights } from '../../src/engine/weights/load';
import { exportOnnx } from '../../src/export/onnx';
import type { CompareResult, PassResult, RacePage, SetupRequest, SetupResult, Side } from './page';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/[/\\]$/, '');
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');

export interface RaceNetwork {
  key: string;
  label: string;
  file: string;
  /** Trained weights (safetensors); otherwise seeded initialisation, seed 0. */
  weights?: string;
  /** The network's own input size, kept whatever --size says (the trained example). */
  fixedSize?: boolean;
}

export const NETWORKS: RaceNetwork[] = [
  { key: 'resnet18', label: 'ResNet-18', file: 'examples/resnet18.cnn' },
  { key: 'resnet50', label: 'ResNet-50', file: 'examples/resnet50.cnn' },
  { key: 'resnext50', label: 'ResNeXt-50 32x4d', file: 'examples/resnext50_32x4d.cnn' },
  { key: 'vgg16', label: 'VGG-16', file: 'examples/vgg16.cnn' },
  { key: 'googlenet', label: 'GoogLeNet', file: 'examples/googlenet.cnn' },
  { key: 'mobilenet_v2', label: 'MobileNetV2', file: 'examples/mobilenet_v2.cnn' },
  { key: 'efficientnet_b0', label: 'EfficientNet-B0', file: 'examples/efficientnet_b0.cnn' },
  { key: 'fashion', label: 'Fashion-MNIST', file: 'examples/fashion-mnist/fashion.cnn', weights: 'examples/fashion-mnist/fashion.safetensors', fixedSize: true },
];

export interface RaceOptions {
  /** Networks (keys of NETWORKS) raced on the WebGPU side and on the CPU side. */
  gpuNetworks: string[];
  cpuNetworks: string[];
  sides: Side[];
  /** Input H = W per side (the Fashion-MNIST example keeps its 28). */
  gpuSize: number;
  cpuSize: number;
  runs: number;
  warmup: number;
  threads: number;
  ortGpuBuild: 'webgpu' | 'jsep';
  /** Our WebGPU convolution kernels ('cli': as cnn run/bench choose them for the adapter). */
  conv: SetupRequest['conv'];
  /** Also record per-layer profiles (ours: session.profile(); ORT: enableProfiling), medians of 5 passes, per row. */
  profile: boolean;
  seed: number;
  chromium: string;
}

const ALL = NETWORKS.map((n) => n.key);

/**
 * The defaults keep the whole race under 10 minutes on the 2-core development machine, where
 * WebGPU is SwiftShader: there a GPU row costs a minute or more before the first timed pass
 * (ORT compiles its shaders in the first run, ~40-55 s a network) and ResNet-50, ResNeXt-50 and
 * VGG-16 take 3-40 s a pass each side, so the WebGPU side races three networks by default
 * (`--gpu-networks all` for every one: about 25 minutes there) and the CPU side all eight.
 */
export const DEFAULTS: RaceOptions = {
  gpuNetworks: ['resnet18', 'googlenet', 'fashion'],
  cpuNetworks: ALL,
  sides: ['gpu', 'cpu'],
  gpuSize: 64,
  cpuSize: 128,
  runs: 10,
  warmup: 2,
  threads: 1,
  ortGpuBuild: 'webgpu',
  conv: 'cli',
  profile: false,
  seed: 1,
  chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
};

export interface Stats {
  runs: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  meanMs: number;
  timesMs: number[];
}

export interface EngineRow {
  engine?: string;
  /** Our WebGPU convolution algorithm. */
  conv?: string;
  adapter?: string;
  build?: string;
  provider?: string;
  threads?: number;
  setupMs?: number;
  stats?: Stats;
  error?: string;
}

export interface RaceRow {
  network: string;
  label: string;
  side: Side;
  size: number;
  inputShape: number[];
  weights: string;
  onnxBytes: number;
  ours: EngineRow;
  ort: EngineRow;
  /** ORT median / our median: above 1, we are faster. */
  ratio: number | null;
  maxAbsDiff: number | null;
  maxAbsOutput: number | null;
  top1Agree: boolean | null;
  profile?: { path: string; ms: number }[];
  /** ORT's profile (with --profile): per node the median of 5 passes; summed per operator type, and the slowest nodes. */
  ortProfile?: OrtProfile;
  error?: string;
  wallS: number;
}

export interface RaceResult {
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; platform: string };
  browser: string;
  adapter?: SetupResult['adapter'];
  ort: { version: string; gpuBuild: string; threads: number; crossOriginIsolated: boolean | null };
  cpuEngine: string | null;
  options: Omit<RaceOptions, 'chromium'>;
  rows: RaceRow[];
  wallS: number;
}

export function stats(times: number[]): Stats {
  const s = [...times].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  // Nearest rank.
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)];
  return { runs: n, medianMs: median, p90Ms: p90, minMs: s[0], meanMs: s.reduce((a, b) => a + b, 0) / n, timesMs: times };
}

// ---------------------------------------------------------------- networks

interface Prepared {
  files: Map<string, Uint8Array>;
  inputShape: number[];
  weights: string;
  onnxBytes: number;
}

/** The network at this input size: its model JSON, weights (safetensors) and ONNX model, same weights. */
export function prepare(n: RaceNetwork, size: number, seed = 0, cache?: Map<string, Float32Array>): Prepared {
  const text = readFileSync(join(ROOT, n.file), 'utf8');
  const first = analyzeText(text).networks[0];
  const c = first.input?.[0] ?? 3;
  const analysis = n.fixedSize ? analyzeText(text) : analyzeText(text, { inputShape: [c, size, size] });
  const net = analysis.networks[0];
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${n.file} at ${size}: ${errors[0].message}`);
  const shapes = net.layers.map((l) => l.shape);
  if (shapes.some((s) => s === null)) throw new Error(`${n.file} at ${size}: shapes not all known`);
  let weights: Map<string, Float32Array>;
  let st: Uint8Array;
  if (n.weights) {
    st = new Uint8Array(readFileSync(join(ROOT, n.weights)));
    weights = loadSafetensorsWeights(st, net.tensors);
  } else {
    // The tensors do not depend on the input size (adaptive pools): seed once per network.
    weights = cache?.size ? new Map(cache) : initWeights(net.tensors, seed);
    if (cache && !cache.size) for (const [k, v] of weights) cache.set(k, v);
    st = saveSafetensorsWeights(net.tensors, weights);
  }
  const onnx = exportOnnx(net, weights, { source: n.file });
  const json = new TextEncoder().encode(JSON.stringify({ graph: net.graph, shapes, tensors: net.tensors }));
  const base = `/m/${n.key}-${size}`;
  return {
    files: new Map([
      [`${base}.json`, json],
      [`${base}.safetensors`, st],
      [`${base}.onnx`, onnx],
    ]),
    inputShape: [1, ...net.input!],
    weights: n.weights ?? `seeded initialisation (seed ${seed})`,
    onnxBytes: onnx.byteLength,
  };
}

// ---------------------------------------------------------------- page and server

/** Bundles page.ts for the browser (kept in memory). */
export async function buildPage(): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [join(ROOT, 'scripts/race/page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'error',
  });
  return r.outputFiles[0].text;
}

const HTML = `<!doctype html><html><head><meta charset="utf-8"><title>race</title></head>
<body><p>cnn race</p><script type="module" src="/race/page.js"></script></body></html>`;

const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json' };
// Cross-origin isolation, so that ORT's wasm threads (SharedArrayBuffer) are available.
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin', 'cache-control': 'no-store' };

interface RaceServer {
  url: string;
  files: Map<string, Uint8Array>;
  close(): Promise<void>;
}

async function serve(pageJs: string): Promise<RaceServer> {
  const files = new Map<string, Uint8Array>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (type: string, body: string | Uint8Array) => {
      res.writeHead(200, { 'content-type': type, ...ISOLATION });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') return send('text/html; charset=utf-8', HTML);
    if (path === '/race/page.js') return send('text/javascript', pageJs);
    const mem = files.get(path);
    if (mem) return send(extname(path) === '.json' ? 'application/json' : 'application/octet-stream', mem);
    if (path.startsWith('/ort/')) {
      const rel = normalize(decodeURIComponent(path.slice(5))).replace(/^[/\\]+/, '');
      const file = join(ORT_DIST, rel);
      if (file.startsWith(ORT_DIST) && existsSync(file) && statSync(file).isFile()) return send(TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
    }
    res.writeHead(404, ISOLATION).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, files, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export function launchChromium(executable: string): Promise<Browser> {
  return chromium.launch({
    executablePath: executable,
    headless: true,
    args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

// ---------------------------------------------------------------- the race

type Log = (line: string) => void;

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

async function raceOne(page: Page, url: string, n: RaceNetwork, side: Side, size: number, prepared: Prepared, opts: RaceOptions, log: Log, onSetup: (s: SetupResult) => void): Promise<RaceRow> {
  const t0 = Date.now();
  const base = `/m/${n.key}-${size}`;
  const row: RaceRow = {
    network: n.key,
    label: n.label,
    side,
    size: prepared.inputShape[2],
    inputShape: prepared.inputShape,
    weights: prepared.weights,
    onnxBytes: prepared.onnxBytes,
    ours: {},
    ort: {},
    ratio: null,
    maxAbsDiff: null,
    maxAbsOutput: null,
    top1Agree: null,
    wallS: 0,
  };
  await page.goto(`${url}/`);
  await page.waitForFunction(() => 'race' in globalThis);
  const req: SetupRequest = { modelJson: `${base}.json`, onnx: `${base}.onnx`, safetensors: `${base}.safetensors`, side, threads: opts.threads, ortGpuBuild: opts.ortGpuBuild, seed: opts.seed, conv: opts.conv };
  const setup = await page.evaluate((r) => (globalThis as unknown as { race: RacePage }).race.setup(r), req);
  onSetup(setup);
  if ('error' in setup.ours) row.ours.error = setup.ours.error;
  else row.ours = { engine: setup.ours.engine, adapter: setup.ours.adapter, conv: setup.ours.conv, setupMs: setup.ours.setupMs };
  if ('error' in setup.ort) row.ort.error = setup.ort.error;
  else row.ort = { build: setup.ort.build, provider: setup.ort.provider, threads: setup.ort.threads, setupMs: setup.ort.setupMs };
  log(`  setup: ours ${row.ours.error ? `failed: ${row.ours.error}` : fmtMs(row.ours.setupMs!)}, ORT ${row.ort.error ? `failed: ${row.ort.error}` : fmtMs(row.ort.setupMs!)}`);

  const pass = (engine: 'ours' | 'ort'): Promise<PassResult> => page.evaluate((e) => (globalThis as unknown as { race: RacePage }).race.pass(e), engine);
  const live = { ours: !row.ours.error, ort: !row.ort.error };
  const times = { ours: [] as number[], ort: [] as number[] };
  const one = async (engine: 'ours' | 'ort', keep: boolean): Promise<string> => {
    if (!live[engine]) return '-';
    const r = await pass(engine);
    if (r.error !== undefined || r.ms === undefined) {
      live[engine] = false;
      row[engine].error = r.error ?? 'no time';
      return `failed: ${row[engine].error}`;
    }
    if (keep) times[engine].push(r.ms);
    return fmtMs(r.ms);
  };
  for (let i = 0; i < opts.warmup; i++) {
    const a = await one('ours', false);
    const b = await one('ort', false);
    log(`  warm-up ${i + 1}/${opts.warmup}: ours ${a}, ORT ${b}`);
  }
  for (let i = 0; i < opts.runs && (live.ours || live.ort); i++) {
    const order: ('ours' | 'ort')[] = i % 2 === 0 ? ['ours', 'ort'] : ['ort', 'ours'];
    const got: Record<string, string> = {};
    for (const e of order) got[e] = await one(e, true);
    // Outputs after the first timed pair (after warm-up when there was one).
    if (i === 0) compareInto(row, await page.evaluate(() => (globalThis as unknown as { race: RacePage }).race.compare()));
    log(`  run ${i + 1}/${opts.runs}: ours ${got.ours}, ORT ${got.ort}`);
  }
  if (opts.runs === 0 && live.ours && live.ort) compareInto(row, await page.evaluate(() => (globalThis as unknown as { race: RacePage }).race.compare()));
  if (times.ours.length) row.ours.stats = stats(times.ours);
  if (times.ort.length) row.ort.stats = stats(times.ort);
  if (row.ours.stats && row.ort.stats) row.ratio = row.ort.stats.medianMs / row.ours.stats.medianMs;
  if (opts.profile && live.ours) {
    const p = await page.evaluate(() => (globalThis as unknown as { race: RacePage }).race.profile(15, 5));
    if (!('error' in p)) row.profile = p;
  }
  if (opts.profile && live.ort) {
    const texts: string[] = [];
    const onConsole = (m: { text(): string }) => texts.push(m.text());
    page.on('console', onConsole);
    const r = await page.evaluate(([o, s]) => (globalThis as unknown as { race: RacePage }).race.ortProfile(o, s), [`${base}.onnx`, side] as const);
    await new Promise((res) => setTimeout(res, 200));
    page.off('console', onConsole);
    if ('error' in r) log(`  ORT profile failed: ${r.error}`);
    else row.ortProfile = ortProfileOf(texts);
    if (process.env.RACE_DEBUG) (await import('node:fs')).writeFileSync(`/tmp/ort-console-${n.key}-${side}.txt`, texts.join('\n'));
  }
  await page.evaluate(() => (globalThis as unknown as { race: RacePage }).race.teardown());
  row.wallS = (Date.now() - t0) / 1000;
  return row;
}

export interface OrtProfile {
  totalMs: number;
  byOp: { op: string; ms: number; nodes: number }[];
  top: { node: string; op: string; provider: string; ms: number }[];
}

/**
 * ORT's profiler events (Chrome trace JSON, as ORT-web prints them to the console) of a warm
 * pass and then several: per node, the median of its times after the first; summed per operator.
 */
export function ortProfileOf(console: string[]): OrtProfile | undefined {
  const times = new Map<string, { op: string; provider: string; ms: number[] }>();
  for (const t of console) {
    for (const line of t.split('\n')) {
      const s = line.trim().replace(/,$/, '');
      if (!s.startsWith('{')) continue;
      let e: { cat?: string; name?: string; dur?: number; args?: { op_name?: string; provider?: string } };
      try {
        e = JSON.parse(s);
      } catch {
        continue;
      }
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
      const node = e.name.replace(/_kernel_time$/, '');
      const entry = times.get(node) ?? { op: e.args?.op_name ?? '?', provider: e.args?.provider ?? '?', ms: [] };
      entry.ms.push((e.dur ?? 0) / 1000);
      times.set(node, entry);
    }
  }
  if (!times.size) return undefined;
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
  const nodes = [...times].map(([node, e]) => ({ node, op: e.op, provider: e.provider, ms: median(e.ms.length > 1 ? e.ms.slice(1) : e.ms) }));
  const byOp = new Map<string, { ms: number; nodes: number }>();
  for (const n of nodes) {
    const b = byOp.get(n.op) ?? { ms: 0, nodes: 0 };
    b.ms += n.ms;
    b.nodes++;
    byOp.set(n.op, b);
  }
  return {
    totalMs: nodes.reduce((a, n) => a + n.ms, 0),
    byOp: [...byOp].map(([op, b]) => ({ op, ...b })).sort((a, b) => b.ms - a.ms),
    top: nodes.sort((a, b) => b.ms - a.ms).slice(0, 15),
  };
}

function compareInto(row: RaceRow, c: CompareResult | { error: string }): void {
  if ('error' in c) return;
  row.maxAbsDiff = c.maxAbsDiff;
  row.maxAbsOutput = Math.max(c.maxAbsOurs, c.maxAbsOrt);
  row.top1Agree = c.top1Ours === c.top1Ort;
}

/** Runs the race; progress lines go to `log` (stderr in the CLI). */
export async function race(options: Partial<RaceOptions> = {}, log: Log = () => {}): Promise<RaceResult> {
  const opts: RaceOptions = { ...DEFAULTS, ...options };
  const t0 = Date.now();
  const unknown = [...opts.gpuNetworks, ...opts.cpuNetworks].filter((k) => !NETWORKS.some((n) => n.key === k));
  if (unknown.length) throw new Error(`unknown network ${unknown.join(', ')}: choose from ${ALL.join(', ')}`);
  const wanted = (side: Side) => (opts.sides.includes(side) ? (side === 'gpu' ? opts.gpuNetworks : opts.cpuNetworks) : []);
  const nets = NETWORKS.filter((n) => wanted('gpu').includes(n.key) || wanted('cpu').includes(n.key));
  const server = await serve(await buildPage());
  const browser = await launchChromium(opts.chromium);
  const ortVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version as string;
  const result: RaceResult = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}` },
    browser: `${browser.browserType().name()} ${browser.version()}`,
    ort: { version: ortVersion, gpuBuild: opts.ortGpuBuild === 'jsep' ? 'ort.min.mjs (JSEP WebGPU EP)' : 'ort.webgpu.min.mjs (native WebGPU EP)', threads: opts.threads, crossOriginIsolated: null },
    cpuEngine: null,
    options: (({ chromium: _c, ...rest }) => rest)(opts),
    rows: [],
    wallS: 0,
  };
  try {
    for (const n of nets) {
      const weights = new Map<string, Float32Array>();
      for (const side of (['gpu', 'cpu'] as const).filter((sd) => wanted(sd).includes(n.key))) {
        const size = n.fixedSize ? 0 : side === 'gpu' ? opts.gpuSize : opts.cpuSize;
        log(`${n.label} ${side === 'gpu' ? 'WebGPU' : 'CPU'}${n.fixedSize ? '' : ` at ${size}x${size}`}`);
        let prepared: Prepared;
        try {
          prepared = prepare(n, size, 0, weights);
        } catch (e) {
          const msg = (e as Error).message;
          log(`  cannot prepare: ${msg}`);
          result.rows.push({ network: n.key, label: n.label, side, size, inputShape: [], weights: '', onnxBytes: 0, ours: {}, ort: {}, ratio: null, maxAbsDiff: null, maxAbsOutput: null, top1Agree: null, error: msg, wallS: 0 });
          continue;
        }
        for (const [k, v] of prepared.files) server.files.set(k, v);
        const page = await browser.newPage();
        const pageErrors: string[] = [];
        page.on('pageerror', (e) => pageErrors.push(e.message));
        try {
          const row = await raceOne(page, server.url, n, side, size, prepared, opts, log, (s) => {
            result.ort.crossOriginIsolated = s.crossOriginIsolated;
            if (s.adapter) result.adapter ??= s.adapter;
            if (side === 'cpu' && !('error' in s.ours)) result.cpuEngine = s.ours.engine;
          });
          result.rows.push(row);
          const o = row.ours.stats;
          const r = row.ort.stats;
          log(`  median: ours ${o ? fmtMs(o.medianMs) : 'n/a'}, ORT ${r ? fmtMs(r.medianMs) : 'n/a'}${row.ratio ? `, ratio ${row.ratio.toFixed(2)}` : ''}; max |diff| ${row.maxAbsDiff === null ? 'n/a' : row.maxAbsDiff.toExponential(2)}`);
        } catch (e) {
          const msg = `${(e as Error).message.split('\n')[0]}${pageErrors.length ? ` (page: ${pageErrors[0]})` : ''}`;
          log(`  failed: ${msg}`);
          result.rows.push({ network: n.key, label: n.label, side, size, inputShape: prepared.inputShape, weights: prepared.weights, onnxBytes: prepared.onnxBytes, ours: {}, ort: {}, ratio: null, maxAbsDiff: null, maxAbsOutput: null, top1Agree: null, error: msg, wallS: 0 });
        } finally {
          await page.close().catch(() => undefined);
          for (const k of prepared.files.keys()) server.files.delete(k);
        }
      }
    }
  } finally {
    await browser.close().catch(() => undefined);
    await server.close();
  }
  result.wallS = (Date.now() - t0) / 1000;
  return result;
}

// ---------------------------------------------------------------- the table

export function formatTable(result: RaceResult): string {
  const lines: string[] = [];
  const head = ['network', 'size', 'ours ms', 'ORT ms', 'ratio', 'max |diff|', 'note'];
  for (const side of ['gpu', 'cpu'] as const) {
    const rows = result.rows.filter((r) => r.side === side);
    if (!rows.length) continue;
    const ortName = side === 'gpu' ? `ORT-web WebGPU (${result.ort.gpuBuild.split(' ')[0]})` : `ORT-web wasm, ${result.ort.threads} thread${result.ort.threads === 1 ? '' : 's'}`;
    const ours = side === 'gpu' ? `our WebGPU on ${result.adapter ? [result.adapter.vendor, result.adapter.architecture, result.adapter.description].filter(Boolean).join(' ') : 'the adapter'}` : `our CPU (${result.cpuEngine ?? 'n/a'})`;
    lines.push(`${side === 'gpu' ? 'WebGPU' : 'CPU'}: ${ours} vs ${ortName}; median of ${result.options.runs} alternating runs after ${result.options.warmup} warm-up; ratio = ORT / ours (> 1: we are faster)`);
    const body = rows.map((r) => {
      const med = (e: EngineRow) => (e.stats ? e.stats.medianMs.toFixed(e.stats.medianMs < 10 ? 2 : 1) : e.error ? 'error' : '-');
      const note = [r.error, r.ours.error && `ours: ${r.ours.error}`, r.ort.error && `ORT: ${r.ort.error}`, r.top1Agree === false ? 'top-1 differs' : ''].filter(Boolean).join('; ');
      const diff = r.maxAbsDiff === null ? '-' : `${r.maxAbsDiff.toExponential(1)}${r.maxAbsOutput ? ` (of ${r.maxAbsOutput.toPrecision(3)})` : ''}`;
      return [r.label, r.size ? String(r.size) : '-', med(r.ours), med(r.ort), r.ratio === null ? '-' : r.ratio.toFixed(2), diff, note.slice(0, 120)];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
    lines.push(fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt), '');
  }
  return lines.join('\n');
}
