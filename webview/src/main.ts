/**
 * The network panel: graph, table and charts of the active .cnn network; runs on an image and
 * benchmarks on WebGPU or the CPU engine in a worker. Talks to the extension only through the
 * messages of protocol.ts, and keeps what the user chose with the webview state API.
 */
import { givesProbabilities } from '../../src/layers';
import { analyzeText, type FileAnalysis, type NetworkAnalysis } from '../../src/analysis';
import imagenetClasses from '../../assets/imagenet-classes.json';
import { barChart, type BarRow, type BarSeries, lineChart } from './charts';
import { EngineClient } from './engine/client';
import type { BackendKind, BenchBackendResult, BenchResult, FeatureResult, GpuProbe, RunResult } from './engine/messages';
import { renderGraph } from './graph-view';
import { type BlockInstance, blockInstances, bytes, describe, formatShape, grouped, layerName, metric, nodesAt, probabilities, stageOf, topK } from './model';
import { defaultState, type FromWebview, type PanelState, type PickedFile, type SampleImage, type Tab, type ToWebview } from './protocol';
import { renderTable } from './table-view';
import * as ui from './ui/toolkit';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const MEDIA = document.body.dataset.media ?? '';
const WORKER = document.body.dataset.worker ?? '';

const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

let state: PanelState = { ...defaultState(), ...((vscode.getState() as Partial<PanelState> | undefined) ?? {}) };
const save = () => vscode.setState(state);
const post = (m: FromWebview) => vscode.postMessage(m);

// ---- page skeleton --------------------------------------------------------------------------

ui.registerToolkit();

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const app = document.getElementById('app')!;
const header = h('header', 'bar');
const fileLabel = h('span', 'file', 'No .cnn file yet: open one and run “CNN: Show Network Graph”.');
const netPicker = ui.dropdown([], undefined, (v) => {
  state.network = v;
  save();
  refresh();
}, { id: 'network-picker', title: 'Network in this file' });
netPicker.hidden = true;
const engineBadge = h('span', 'engine', 'engine: starting…');
engineBadge.id = 'engine-badge';
header.append(fileLabel, netPicker, engineBadge);
const banners = h('div', 'banners');
const gpuBanner = h('div', 'banner warn');
gpuBanner.id = 'gpu-banner';
gpuBanner.hidden = true;
gpuBanner.setAttribute('role', 'status');
const messages = h('div', 'messages');
messages.id = 'messages';
messages.setAttribute('role', 'alert');
banners.append(gpuBanner, messages);

const networkView = h('section', 'view network-view');
const runView = h('section', 'view run-view');
const benchView = h('section', 'view bench-view');
const tabs = ui.tabs(
  [
    { id: 'network', label: 'Network', view: networkView },
    { id: 'run', label: 'Run', view: runView },
    { id: 'benchmark', label: 'Benchmark', view: benchView },
  ],
  state.tab,
  (id) => {
    state.tab = id as Tab;
    save();
  },
);
app.replaceChildren(header, banners, tabs);

/** An error or notice in the panel; stays until dismissed, at most five kept. */
function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  const m = h('div', `message ${kind}`);
  m.append(h('span', 'text', text), ui.button('Dismiss', () => m.remove(), { appearance: 'secondary', className: 'dismiss' }));
  messages.prepend(m);
  while (messages.children.length > 5) messages.lastElementChild?.remove();
}

window.addEventListener('error', (e) => showMessage(`Unexpected error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => showMessage(`Unexpected error: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`));

// ---- analysis -------------------------------------------------------------------------------

let analysis: FileAnalysis | undefined;
let net: NetworkAnalysis | undefined;
let blocks: BlockInstance[] = [];
let highlight = new Set<number>();
let marks: ((hl: ReadonlySet<number>, sel: number | undefined) => Element | undefined)[] = [];

function analyze(): void {
  if (state.text === undefined) return;
  try {
    analysis = analyzeText(state.text);
  } catch (e) {
    showMessage(`The analysis failed: ${(e as Error).message}`);
    return;
  }
  const names = analysis.networks.map((n) => n.graph.network);
  if (!state.network || !names.includes(state.network)) state.network = names[0];
  net = analysis.networks.find((n) => n.graph.network === state.network);
  blocks = net ? blockInstances(net.graph.nodes) : [];
  ui.setChoices(netPicker, names.map((n) => ({ value: n, label: n })), state.network);
  netPicker.hidden = names.length < 2;
}

function nodeByPath(path: string | undefined): number | undefined {
  if (!net || path === undefined) return undefined;
  return net.graph.nodes.find((n) => n.path === path)?.id;
}

function collapsedSet(): Set<string> {
  if (!net) return new Set();
  const name = net.graph.network;
  if (!state.touched.includes(name)) {
    // Big networks start with their top-level blocks collapsed.
    return new Set(net.graph.nodes.length > 60 ? blocks.filter((b) => b.depth === 0).map((b) => b.key) : []);
  }
  return new Set(state.collapsed[name] ?? []);
}

function setCollapsed(keys: Set<string>): void {
  if (!net) return;
  const name = net.graph.network;
  if (!state.touched.includes(name)) state.touched.push(name);
  state.collapsed[name] = [...keys];
  save();
  renderNetwork();
}

function reveal(range: import('../../src/language/range').Range): void {
  if (state.uri) post({ type: 'reveal', uri: state.uri, range });
}

function selectNode(id: number): void {
  if (!net) return;
  const n = net.graph.nodes[id];
  state.selected = n.path;
  if (n.attrs.kind !== 'input' && net.layers[id].shape) state.featureLayer = n.path;
  save();
  reveal(n.attrs.kind === 'add' || n.attrs.kind === 'concat' ? n.nameRange : n.range);
  markAll(false);
  syncFeaturePicker();
  if (lastRun) void showFeatures();
}

function markAll(scroll: boolean): void {
  const sel = nodeByPath(state.selected);
  for (const m of marks) {
    const first = m(highlight, sel);
    if (scroll && first && state.tab === 'network') first.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }
}

// ---- network view ---------------------------------------------------------------------------

const netToolbar = h('div', 'toolbar');
const summary = h('div', 'summary');
summary.id = 'summary';
const graphBox = h('div', 'graph-box');
graphBox.id = 'graph';
const tableBox = h('div', 'table-box');
tableBox.id = 'table';
const chartBox = h('div', 'chart-box');
chartBox.id = 'charts';
const diagBox = h('div', 'diagnostics');
netToolbar.append(
  ui.button('Expand all', () => setCollapsed(new Set()), { appearance: 'secondary', id: 'expand-all' }),
  ui.button('Collapse blocks', () => setCollapsed(new Set(blocks.filter((b) => b.depth === 0).map((b) => b.key))), { appearance: 'secondary', id: 'collapse-all' }),
  ui.dropdown(
    [
      { value: 'auto', label: 'Charts: auto' },
      { value: 'layer', label: 'Charts: per layer' },
      { value: 'stage', label: 'Charts: per stage' },
    ],
    state.chartMode ?? 'auto',
    (v) => {
      state.chartMode = v === 'auto' ? undefined : (v as 'layer' | 'stage');
      save();
      renderCharts();
    },
    { id: 'chart-mode' },
  ),
);
const graphTitle = h('h3', undefined, 'Graph');
const tableTitle = h('h3', undefined, 'Layers');
const chartTitle = h('h3', undefined, 'Compute and receptive field');
networkView.append(summary, diagBox, netToolbar, graphTitle, graphBox, tableTitle, tableBox, chartTitle, chartBox);

function renderNetwork(): void {
  marks = [];
  if (!net || !analysis) {
    summary.textContent = analysis ? 'This file defines no network.' : 'Waiting for a .cnn document…';
    graphBox.replaceChildren();
    tableBox.replaceChildren();
    chartBox.replaceChildren();
    diagBox.replaceChildren();
    return;
  }
  const t = net.totals;
  summary.textContent = `${net.graph.network}: input ${formatShape(net.input)} → ${formatShape(net.output)} · ${grouped(t.params)} params · ${metric(t.macs)} MACs (${metric(2 * t.macs)} FLOPs) · activations ${bytes(t.activationBytes)}, peak ${bytes(t.peakActivationBytes)} · depth ${t.depth}`;
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  diagBox.replaceChildren(
    ...errors.slice(0, 5).map((d) => {
      const p = h('div', 'diagnostic', `Line ${d.range.start.line + 1}: ${d.message}`);
      p.addEventListener('click', () => reveal(d.range));
      return p;
    }),
  );
  try {
    const g = renderGraph(net, blocks, collapsedSet(), {
      selectNode,
      selectBlock: (b) => reveal(b.call),
      toggle: (key) => {
        const s = collapsedSet();
        if (s.has(key)) s.delete(key);
        else s.add(key);
        setCollapsed(s);
      },
    });
    graphBox.replaceChildren(g.svg);
    marks.push(g.mark);
  } catch (e) {
    graphBox.replaceChildren(h('p', 'error', `The graph could not be drawn: ${(e as Error).message}`));
  }
  const table = renderTable(net, state.sort, {
    select: selectNode,
    sort: (key) => {
      state.sort = key === 'order' ? undefined : { key, dir: state.sort?.key === key ? ((-state.sort.dir) as 1 | -1) : 1 };
      save();
      renderNetwork();
    },
  });
  tableBox.replaceChildren(table.table);
  marks.push(table.mark);
  renderCharts();
  markAll(false);
}

function renderCharts(): void {
  if (!net) return;
  const n = net;
  const heavy = n.graph.nodes.filter((x) => n.layers[x.id].macs > 0 || n.layers[x.id].params > 0);
  const mode = state.chartMode ?? (heavy.length > 40 ? 'stage' : 'layer');
  let rows: BarRow[];
  let macs: number[];
  let params: number[];
  if (mode === 'layer') {
    rows = heavy.map((x) => ({ label: layerName(x), nodes: [x.id] }));
    macs = heavy.map((x) => n.layers[x.id].macs);
    params = heavy.map((x) => n.layers[x.id].params);
  } else {
    const stages = new Map<string, number[]>();
    for (const x of n.graph.nodes) if (x.attrs.kind !== 'input') (stages.get(stageOf(x)) ?? stages.set(stageOf(x), []).get(stageOf(x))!).push(x.id);
    rows = [...stages].map(([label, nodes]) => ({ label, nodes }));
    macs = rows.map((r) => r.nodes.reduce((s, id) => s + n.layers[id].macs, 0));
    params = rows.map((r) => r.nodes.reduce((s, id) => s + n.layers[id].params, 0));
  }
  const series: BarSeries[] = [
    { name: 'MACs', cls: 'macs', values: macs, format: metric },
    { name: 'Params', cls: 'params', values: params, format: metric },
  ];
  const bars = barChart(`MACs and parameters per ${mode}`, rows, series, (r) => r.nodes.length && selectNode(r.nodes[0]));
  const spatial = n.graph.nodes.filter((x) => n.layers[x.id].rf && x.attrs.kind !== 'input');
  const rf = lineChart(
    'Receptive field through depth',
    spatial.map((x) => ({ label: layerName(x), value: n.layers[x.id].rf!.size[0], node: x.id })),
    { name: 'effective stride', values: spatial.map((x) => n.layers[x.id].rf!.stride[0]) },
    'RF (px)',
    (p) => selectNode(p.node),
  );
  chartBox.replaceChildren(bars, rf);
}

// ---- engine ---------------------------------------------------------------------------------

let engine: EngineClient | undefined;
let probe: GpuProbe | undefined;
const enginePromise = EngineClient.create(WORKER).then(async (e) => {
  engine = e;
  e.onDeviceLost = (m) => {
    showMessage(m);
    loadedKey = '';
  };
  probe = await e.request<GpuProbe>({ op: 'probe' }).promise;
  showProbe();
  return e;
});

function showProbe(): void {
  if (!probe || !engine) return;
  const where = engine.mode === 'worker' ? 'in a worker' : `on the page (no worker: ${engine.why})`;
  gpuBanner.hidden = probe.status === 'ok';
  gpuBanner.className = `banner ${probe.status === 'software' ? 'info' : 'warn'}`;
  if (probe.status === 'software') {
    gpuBanner.textContent = `WebGPU runs on a software adapter here: ${probe.reason} The CPU engine is the default; WebGPU stays selectable.`;
  } else if (probe.status !== 'ok') {
    gpuBanner.textContent = `No WebGPU: ${probe.reason} Runs and benchmarks use the CPU engine ${where} instead.`;
  }
  if (!state.backend || (state.backend === 'webgpu' && !gpuUsable())) state.backend = probe.status === 'ok' ? 'webgpu' : 'cpu';
  syncBackend();
  engineBadge.textContent = gpuUsable() ? `WebGPU adapter: ${probe.adapter}` : 'CPU engine (no WebGPU)';
  engineBadge.title = `engine ${where}`;
}

const gpuUsable = () => probe?.status === 'ok' || probe?.status === 'software';

let loadedKey = '';

function hash(s: string): string {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return x.toString(16);
}

const weightsKey = () => `${state.uri}#${net?.graph.network}`;

/** Makes the current network the engine's, with the user's weights or the seeded ones. */
async function ensureLoaded(): Promise<EngineClient> {
  const e = await enginePromise;
  if (!net || !analysis) throw new Error('no network to run');
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`the file has ${errors.length} error${errors.length > 1 ? 's' : ''}; fix ${errors.length > 1 ? 'them' : 'it'} first (line ${errors[0].range.start.line + 1}: ${errors[0].message})`);
  if (net.layers.some((l) => !l.shape)) throw new Error('some layer shapes are unknown');
  const weights = state.weights[weightsKey()];
  const key = `${net.graph.network}|${hash(state.text ?? '')}|${weights?.uri ?? 'seeded'}`;
  if (key === loadedKey) return e;
  let bytes: Uint8Array | null = null;
  if (weights) {
    const res = await fetch(weights.uri);
    if (!res.ok) throw new Error(`cannot read the weights ${weights.name}: HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  }
  const model = { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors };
  await e.request({ op: 'load', key, model, weights: bytes }).promise;
  loadedKey = key;
  return e;
}

// ---- run view -------------------------------------------------------------------------------

let samples: SampleImage[] = [];
const samplesReady = fetch(`${MEDIA}/samples/manifest.json`)
  .then((r) => (r.ok ? (r.json() as Promise<SampleImage[]>) : []))
  .catch(() => [] as SampleImage[])
  .then((s) => {
    samples = s;
    syncImagePicker();
  });

const runControls = h('div', 'toolbar');
const imagePicker = ui.dropdown([], undefined, (v) => {
  if (v === '__picked') return;
  state.sample = v;
  state.image = undefined;
  save();
  void showImage();
}, { id: 'image-picker', title: 'Image to run on' });
const weightsPicker = ui.dropdown([], undefined, (v) => {
  if (v === 'seeded') delete state.weights[weightsKey()];
  save();
}, { id: 'weights-picker', title: 'Weights' });
const backendPicker = ui.dropdown([], undefined, (v) => {
  state.backend = v as BackendKind;
  save();
}, { id: 'backend-picker', title: 'Where the forward pass runs' });
const runButton = ui.button('Run', () => void runNow(), { id: 'run-button' });
runControls.append(
  imagePicker,
  ui.button('Image file…', () => post({ type: 'pickImage' }), { appearance: 'secondary', id: 'pick-image' }),
  weightsPicker,
  ui.button('Weights file…', () => net && post({ type: 'pickWeights', network: net.graph.network }), { appearance: 'secondary', id: 'pick-weights' }),
  backendPicker,
  runButton,
);
const runStatus = h('div', 'status');
runStatus.id = 'run-status';
const runResult = h('div', 'run-result');
const imageFigure = h('figure', 'image');
const seenFigure = h('figure', 'seen');
const predictions = h('div', 'predictions');
predictions.id = 'predictions';
runResult.append(imageFigure, seenFigure, predictions);
const featureControls = h('div', 'toolbar');
const featurePicker = ui.dropdown([], undefined, (v) => {
  state.featureLayer = v;
  save();
  void showFeatures();
}, { id: 'feature-picker', title: 'Layer whose output to show' });
featureControls.append(h('span', 'label', 'Feature maps of'), featurePicker);
const featureBox = h('div', 'features');
featureBox.id = 'features';
runView.append(runControls, runStatus, runResult, featureControls, featureBox);

function syncImagePicker(): void {
  const choices = samples.map((s) => ({ value: s.id, label: s.label }));
  if (state.image) choices.unshift({ value: '__picked', label: state.image.name });
  if (!state.sample && !state.image && samples.length) state.sample = pickDefaultSample();
  ui.setChoices(imagePicker, choices, state.image ? '__picked' : state.sample);
}

/** A Fashion-MNIST sample for a 1-channel 28x28 network, else a photo. */
function pickDefaultSample(): string | undefined {
  const gray = net?.input?.[0] === 1;
  return (samples.find((s) => (gray ? s.id.startsWith('fashion') : !s.id.startsWith('fashion'))) ?? samples[0])?.id;
}

function syncWeightsPicker(): void {
  const w = state.weights[weightsKey()];
  const choices = [{ value: 'seeded', label: 'Seeded weights (He normal, seed 0)' }];
  if (w) choices.push({ value: 'file', label: `Weights: ${w.name}` });
  ui.setChoices(weightsPicker, choices, w ? 'file' : 'seeded');
}

function syncBackend(): void {
  const choices = [{ value: 'cpu', label: 'CPU engine (worker)' }];
  if (gpuUsable()) choices.unshift({ value: 'webgpu', label: probe?.status === 'software' ? 'WebGPU (software adapter)' : 'WebGPU' });
  ui.setChoices(backendPicker, choices, state.backend);
}

function syncFeaturePicker(): void {
  if (!net) return;
  const n = net;
  const choices = n.graph.nodes.filter((x) => x.attrs.kind !== 'input' && n.layers[x.id].shape).map((x) => ({ value: x.path, label: `${layerName(x)} (${describe(x.attrs)}) → ${formatShape(n.layers[x.id].shape)}` }));
  if (!state.featureLayer || !choices.some((c) => c.value === state.featureLayer)) {
    // The first weighted layer with a feature map: the first conv, usually.
    state.featureLayer = n.graph.nodes.find((x) => n.layers[x.id].macs > 0 && n.layers[x.id].shape?.length === 3)?.path ?? choices[0]?.value;
  }
  ui.setChoices(featurePicker, choices, state.featureLayer);
}

function imageUrl(): { url: string; name: string } | undefined {
  if (state.image) return { url: state.image.uri, name: state.image.name };
  const s = samples.find((x) => x.id === state.sample);
  return s ? { url: `${MEDIA}/samples/${s.file}`, name: s.label } : undefined;
}

async function loadPixels(url: string): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load the image: HTTP ${res.status}`);
  const blob = await res.blob();
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error('cannot decode the image (PNG, JPEG, GIF, WebP and BMP work)');
  }
  const c = document.createElement('canvas');
  c.width = bmp.width;
  c.height = bmp.height;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const d = ctx.getImageData(0, 0, c.width, c.height);
  return { width: d.width, height: d.height, data: d.data };
}

async function showImage(): Promise<void> {
  const img = imageUrl();
  if (!img) {
    imageFigure.replaceChildren(h('figcaption', undefined, 'No image: pick a sample or an image file.'));
    return;
  }
  const el = h('img');
  el.alt = img.name;
  el.src = img.url;
  imageFigure.replaceChildren(el, h('figcaption', undefined, img.name));
}

function labelsFor(n: number): string[] | undefined {
  if (state.labels?.length === n) return state.labels;
  if (n === 1000) return imagenetClasses as string[];
  if (n === 10 && /fashion/i.test(net?.graph.network ?? '')) return FASHION;
  if (n === 10 && /cifar/i.test(net?.graph.network ?? '')) return CIFAR10;
  return undefined;
}

let lastRun: RunResult | undefined;
let running = false;

async function runNow(): Promise<void> {
  if (running) return;
  running = true;
  ui.setDisabled(runButton, true);
  runStatus.replaceChildren(ui.spinner(), h('span', undefined, ' Running…'));
  try {
    const e = await ensureLoaded();
    const img = imageUrl();
    if (!img) throw new Error('pick an image first');
    const input = net!.input!;
    if (input.length !== 3) throw new Error(`an image can feed a C×H×W input, not ${formatShape(input)}`);
    const pixels = await loadPixels(img.url);
    const backend = state.backend ?? 'cpu';
    const r = await e.request<RunResult>({ op: 'run', backend, pixels, channels: input[0], height: input[1], width: input[2] }).promise;
    lastRun = r;
    runStatus.textContent = `${r.backend === 'webgpu' ? 'WebGPU' : 'CPU'} (${r.adapter}): one forward pass in ${r.ms.toFixed(1)} ms, weights: ${state.weights[weightsKey()]?.name ?? 'seeded'}.`;
    runStatus.dataset.backend = r.backend;
    drawSeen(r.input, input);
    drawPredictions(r.output);
    await showFeatures();
  } catch (err) {
    runStatus.textContent = '';
    showMessage(`Run failed: ${(err as Error).message}`);
  } finally {
    running = false;
    ui.setDisabled(runButton, false);
  }
}

function drawSeen(data: Float32Array, shape: number[]): void {
  const [C, H, W] = shape;
  const c = document.createElement('canvas');
  c.width = W;
  c.height = H;
  c.className = 'pixelated';
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const k = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < H * W; i++) {
    for (let ch = 0; ch < 3; ch++) img.data[4 * i + ch] = (data[(C === 3 ? ch : 0) * H * W + i] - lo) * k;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  seenFigure.replaceChildren(c, h('figcaption', undefined, `As the network sees it: ${C}×${H}×${W}, resized, centre-cropped${C === 3 ? ', ImageNet-normalised' : ''}`));
}

function drawPredictions(out: Float32Array): void {
  if (!net) return;
  const p = probabilities(net, out);
  const names = labelsFor(p.length);
  const top = topK(p, Math.min(5, p.length));
  const list = h('ol', 'topk');
  for (const t of top) {
    const li = h('li');
    li.dataset.index = String(t.index);
    const bar = h('span', 'pbar');
    bar.style.width = `${Math.max(1, t.p * 100)}%`;
    li.append(h('span', 'cls', names ? `${names[t.index]} (${t.index})` : `class ${t.index}`), h('span', 'pval', `${(t.p * 100).toFixed(1)}%`), bar);
    list.append(li);
  }
  predictions.replaceChildren(h('h4', undefined, `Top ${top.length}${givesProbabilities(net.graph.nodes[net.graph.output].attrs) ? '' : ' (softmax of the output)'}`), list);
}

async function showFeatures(): Promise<void> {
  if (!lastRun || !net) return;
  const id = nodeByPath(state.featureLayer);
  if (id === undefined) return;
  const e = await enginePromise;
  try {
    const f = await e.request<FeatureResult>({ op: 'features', node: id }).promise;
    drawFeatures(f, layerName(net.graph.nodes[id]));
  } catch (err) {
    featureBox.replaceChildren(h('p', 'error', `No feature maps: ${(err as Error).message}`));
  }
}

function drawFeatures(f: FeatureResult, name: string): void {
  const [C, H = 1, W = 1] = f.shape.length === 3 ? f.shape : [1, 1, f.shape[0]];
  const show = Math.min(C, 64);
  const grid = h('div', 'fgrid');
  grid.dataset.layer = name;
  const px = Math.max(32, Math.min(96, Math.round(480 / Math.ceil(Math.sqrt(show)))));
  for (let ch = 0; ch < show; ch++) {
    const c = document.createElement('canvas');
    c.width = W;
    c.height = H;
    c.className = 'pixelated fmap';
    c.title = `channel ${ch}`;
    if (f.shape.length === 3) {
      c.style.width = `${px}px`;
      c.style.height = `${Math.max(4, Math.round((px * H) / W))}px`;
    } else {
      c.style.width = '100%';
      c.style.height = '24px';
    }
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(W, H);
    const off = ch * H * W;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < H * W; i++) {
      lo = Math.min(lo, f.data[off + i]);
      hi = Math.max(hi, f.data[off + i]);
    }
    const k = hi > lo ? 255 / (hi - lo) : 0;
    for (let i = 0; i < H * W; i++) {
      const v = (f.data[off + i] - lo) * k;
      img.data[4 * i] = v;
      img.data[4 * i + 1] = v;
      img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    grid.append(c);
  }
  featureBox.replaceChildren(h('p', 'caption', `${name}: ${formatShape(f.shape)}${C > show ? `, first ${show} of ${C} channels` : ''}; each channel scaled to its own range`), grid);
}

// ---- benchmark view -------------------------------------------------------------------------

const benchControls = h('div', 'toolbar');
const benchButton = ui.button('Run benchmark', () => void benchNow(), { id: 'bench-button' });
const cancelButton = ui.button('Cancel', () => benchPending?.cancel(), { appearance: 'secondary', id: 'bench-cancel' });
ui.setDisabled(cancelButton, true);
const copyButton = ui.button('Copy as Markdown', () => copyMarkdown(), { appearance: 'secondary', id: 'bench-copy' });
ui.setDisabled(copyButton, true);
benchControls.append(
  ui.numberField('Runs', state.bench.iterations, (v) => ((state.bench.iterations = Math.max(1, Math.round(v))), save()), { id: 'bench-iterations', min: 1, max: 1000 }),
  ui.numberField('Warm-up', state.bench.warmup, (v) => ((state.bench.warmup = Math.max(0, Math.round(v))), save()), { id: 'bench-warmup', min: 0, max: 100 }),
  ui.checkbox('Compare with the CPU engine', state.bench.compareCpu, (v) => ((state.bench.compareCpu = v), save()), { id: 'bench-compare' }),
  benchButton,
  cancelButton,
  copyButton,
);
const progress = h('div', 'progress');
progress.id = 'bench-progress';
progress.setAttribute('role', 'progressbar');
progress.hidden = true;
const progressBar = h('div', 'fill');
const progressLabel = h('span', 'plabel');
progress.append(progressBar, progressLabel);
const benchResult = h('div', 'bench-result');
benchResult.id = 'bench-result';
benchView.append(benchControls, progress, benchResult);

let benchPending: { cancel(): void } | undefined;
let lastBench: { res: BenchResult; network: string; macs: number } | undefined;

const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
}
const gflops = (macs: number, ms: number) => (2 * macs) / (ms * 1e6);

async function benchNow(): Promise<void> {
  if (benchPending) return;
  ui.setDisabled(benchButton, true);
  ui.setDisabled(cancelButton, false);
  progress.hidden = false;
  progressBar.style.width = '0%';
  progressLabel.textContent = 'Preparing…';
  try {
    const e = await ensureLoaded();
    const primary = state.backend ?? 'cpu';
    const backends: BackendKind[] = [primary];
    if (state.bench.compareCpu && primary !== 'cpu') backends.push('cpu');
    if (primary === 'cpu' && state.bench.compareCpu && gpuUsable()) backends.unshift('webgpu');
    const req = e.request<BenchResult>({ op: 'bench', backends, iterations: state.bench.iterations, warmup: state.bench.warmup }, (p) => {
      progressBar.style.width = `${(100 * p.done) / p.total}%`;
      progress.setAttribute('aria-valuenow', String(Math.round((100 * p.done) / p.total)));
      progressLabel.textContent = p.label;
    });
    benchPending = req;
    const res = await req.promise;
    lastBench = { res, network: net!.graph.network, macs: net!.totals.macs };
    drawBench();
    if (res.cancelled) showMessage('Benchmark cancelled; the results so far are shown.', 'info');
  } catch (err) {
    showMessage(`Benchmark failed: ${(err as Error).message}`);
  } finally {
    benchPending = undefined;
    progress.hidden = true;
    ui.setDisabled(benchButton, false);
    ui.setDisabled(cancelButton, true);
  }
}

interface LayerRow {
  label: string;
  nodes: number[];
  macs: number;
  ms: Map<BackendKind, number>;
}

/** Per-layer rows: the WebGPU steps where there are (fused layers share one), the CPU layers summed into them. */
function layerRows(results: BenchBackendResult[]): LayerRow[] {
  if (!net) return [];
  const n = net;
  const gpu = results.find((r) => r.backend === 'webgpu');
  const base = gpu ?? results[0];
  if (!base) return [];
  const rows: LayerRow[] = base.layers.map((l) => ({ label: l.path, nodes: l.nodes, macs: l.nodes.reduce((s, id) => s + n.layers[id].macs, 0), ms: new Map() }));
  const rowOf = new Map<number, LayerRow>();
  rows.forEach((r) => r.nodes.forEach((id) => rowOf.set(id, r)));
  for (const r of results) {
    for (const l of r.layers) {
      for (const id of l.nodes) {
        const row = rowOf.get(id);
        if (!row) continue;
        row.ms.set(r.backend, (row.ms.get(r.backend) ?? 0) + l.ms / l.nodes.length);
      }
    }
  }
  return rows;
}

const backendName = (b: BackendKind) => (b === 'webgpu' ? 'WebGPU' : 'CPU');

function drawBench(): void {
  if (!lastBench || !net) return;
  const { res, macs } = lastBench;
  const table = h('table', 'bench');
  const head = table.createTHead().insertRow();
  for (const c of ['Backend', 'Adapter', 'Runs', 'Median', 'p90', 'GFLOP/s (median)']) head.append(h('th', undefined, c));
  for (const r of res.results) {
    const tr = table.createTBody().insertRow();
    tr.dataset.backend = r.backend;
    const med = median(r.times);
    for (const s of [backendName(r.backend), r.adapter, String(r.times.length), `${med.toFixed(2)} ms`, `${quantile(r.times, 0.9).toFixed(2)} ms`, gflops(macs, med).toFixed(2)]) tr.insertCell().textContent = s;
  }
  const rows = layerRows(res.results);
  const series: BarSeries[] = res.results.map((r) => ({
    name: `${backendName(r.backend)} ms`,
    cls: r.backend,
    values: rows.map((row) => row.ms.get(r.backend) ?? 0),
    format: (v: number) => `${v.toFixed(3)} ms`,
  }));
  series.push({ name: 'MACs', cls: 'macs', values: rows.map((r) => r.macs), format: metric });
  // The achieved rate goes in each time bar's label.
  for (const s of series.slice(0, res.results.length)) {
    s.format = (v: number, i: number) => (rows[i].macs && v > 0 ? `${v.toFixed(3)} ms · ${gflops(rows[i].macs, v).toFixed(2)} GFLOP/s` : `${v.toFixed(3)} ms`);
  }
  const chart = barChart(`Time per layer (${res.results.map((r) => `${backendName(r.backend)}: ${r.method}`).join('; ')}) next to MACs`, rows.map((r) => ({ label: r.label, nodes: r.nodes })), series, (r) => r.nodes.length && selectNode(r.nodes[0]));
  const note = h('p', 'note', `${lastBench.network}, batch 1, ${grouped(macs)} MACs per forward; GFLOP/s = 2 × MACs / time. A forward's time runs from writing the input to reading the output back.`);
  benchResult.replaceChildren(note, table, chart);
  ui.setDisabled(copyButton, false);
}

function benchMarkdown(): string {
  if (!lastBench) return '';
  const { res, macs, network } = lastBench;
  const lines = [`### ${network}: benchmark`, '', `Batch 1, ${grouped(macs)} MACs per forward.`, '', '| backend | adapter | runs | median ms | p90 ms | GFLOP/s |', '|---|---|---:|---:|---:|---:|'];
  for (const r of res.results) {
    const med = median(r.times);
    lines.push(`| ${backendName(r.backend)} | ${r.adapter} | ${r.times.length} | ${med.toFixed(2)} | ${quantile(r.times, 0.9).toFixed(2)} | ${gflops(macs, med).toFixed(2)} |`);
  }
  const rows = layerRows(res.results);
  lines.push('', `| layer | MACs | ${res.results.map((r) => `${backendName(r.backend)} ms | ${backendName(r.backend)} GFLOP/s`).join(' | ')} |`, `|---|---:|${res.results.map(() => '---:|---:').join('|')}|`);
  for (const row of rows) {
    const cells = res.results.map((r) => {
      const ms = row.ms.get(r.backend) ?? 0;
      return `${ms.toFixed(3)} | ${row.macs && ms ? gflops(row.macs, ms).toFixed(2) : '—'}`;
    });
    lines.push(`| ${row.label} | ${grouped(row.macs)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

function copyMarkdown(): void {
  const text = benchMarkdown();
  post({ type: 'copy', text });
  void navigator.clipboard?.writeText(text).catch(() => undefined);
  showMessage('Benchmark copied as Markdown.', 'info');
}

// ---- messages from the extension ------------------------------------------------------------

function refresh(): void {
  analyze();
  const name = state.fileName ? state.fileName.split(/[\\/]/).pop() : undefined;
  fileLabel.textContent = name ? `${name}${net ? ` — ${net.graph.network}` : ''}` : fileLabel.textContent;
  renderNetwork();
  syncWeightsPicker();
  syncFeaturePicker();
  syncImagePicker();
  save();
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
  switch (m.type) {
    case 'document': {
      const sameFile = m.uri === state.uri;
      if (sameFile && m.text === state.text && net) return;
      state.uri = m.uri;
      state.fileName = m.fileName;
      state.text = m.text;
      state.labels = m.labels;
      if (!sameFile) {
        highlight = new Set();
        lastRun = undefined;
        featureBox.replaceChildren();
        predictions.replaceChildren();
      }
      refresh();
      break;
    }
    case 'cursor':
      if (m.uri !== state.uri || !net) return;
      highlight = new Set(nodesAt(net.graph.nodes, m.line, m.character));
      markAll(true);
      break;
    case 'image':
      state.image = m.file;
      save();
      syncImagePicker();
      void showImage();
      if (m.run) {
        ui.selectTab(tabs, 'run');
        state.tab = 'run';
        void runNow();
      }
      break;
    case 'weights':
      state.weights[`${state.uri}#${m.network}`] = m.file;
      save();
      syncWeightsPicker();
      break;
    case 'command':
      if (m.network && m.network !== state.network && analysis?.networks.some((n) => n.graph.network === m.network)) {
        state.network = m.network;
        refresh();
      }
      state.tab = m.command === 'show' ? 'network' : m.command === 'run' ? 'run' : 'benchmark';
      ui.selectTab(tabs, state.tab);
      save();
      if (m.command === 'run') void runNow();
      if (m.command === 'benchmark') void benchNow();
      break;
    case 'notice':
      showMessage(m.message, 'info');
      break;
  }
});

// A restored panel draws from its saved text at once; the extension sends the live document next.
refresh();
void samplesReady.then(() => showImage());
post({ type: 'ready' });
