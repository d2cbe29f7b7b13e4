/** The Run tab: an image through the network on WebGPU or the CPU engine, top-k and feature maps. */
import { givesProbabilities } from '../../../src/layers';
import imagenetClasses from '../../../assets/imagenet-classes.json';
import type { App, TabView } from '../app';
import { h } from '../dom';
import type { BackendKind, FeatureResult, RunResult } from '../engine/messages';
import { describe, formatShape, layerName, probabilities, topK } from '../model';
import type { SampleImage } from '../protocol';
import * as ui from '../ui/toolkit';

const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

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

export class RunTab implements TabView {
  private samples: SampleImage[] = [];
  readonly samplesReady: Promise<void>;
  private readonly imagePicker: HTMLElement;
  private readonly weightsPicker: HTMLElement;
  readonly backendPicker: HTMLElement;
  private readonly runButton: HTMLElement;
  private readonly status = h('div', 'status');
  private readonly imageFigure = h('figure', 'image');
  private readonly seenFigure = h('figure', 'seen');
  private readonly predictions = h('div', 'predictions');
  private readonly featurePicker: HTMLElement;
  private readonly featureBox = h('div', 'features');
  private lastRun: RunResult | undefined;
  private running = false;

  constructor(
    private readonly app: App,
    view: HTMLElement,
  ) {
    const state = () => app.state;
    this.samplesReady = fetch(`${app.media}/samples/manifest.json`)
      .then((r) => (r.ok ? (r.json() as Promise<SampleImage[]>) : []))
      .catch(() => [] as SampleImage[])
      .then((s) => {
        this.samples = s;
        this.syncImagePicker();
      });
    this.imagePicker = ui.dropdown([], undefined, (v) => {
      if (v === '__picked') return;
      state().sample = v;
      state().image = undefined;
      app.save();
      void this.showImage();
    }, { id: 'image-picker', title: 'Image to run on' });
    this.weightsPicker = ui.dropdown([], undefined, (v) => {
      if (v === 'seeded') delete state().weights[app.weightsKey()];
      app.save();
    }, { id: 'weights-picker', title: 'Weights' });
    this.backendPicker = ui.dropdown([], undefined, (v) => {
      state().backend = v as BackendKind;
      app.save();
    }, { id: 'backend-picker', title: 'Where the forward pass runs' });
    this.runButton = ui.button('Run', () => void this.run(), { id: 'run-button' });
    const controls = h('div', 'toolbar');
    controls.append(
      this.imagePicker,
      ui.button('Image file…', () => app.post({ type: 'pickImage' }), { appearance: 'secondary', id: 'pick-image' }),
      this.weightsPicker,
      ui.button('Weights file…', () => app.net && app.post({ type: 'pickWeights', network: app.net.graph.network }), { appearance: 'secondary', id: 'pick-weights' }),
      this.backendPicker,
      this.runButton,
    );
    this.status.id = 'run-status';
    this.predictions.id = 'predictions';
    const result = h('div', 'run-result');
    result.append(this.imageFigure, this.seenFigure, this.predictions);
    this.featurePicker = ui.dropdown([], undefined, (v) => {
      state().featureLayer = v;
      app.save();
      void this.showFeatures();
    }, { id: 'feature-picker', title: 'Layer whose output to show' });
    const featureControls = h('div', 'toolbar');
    featureControls.append(h('span', 'label', 'Feature maps of'), this.featurePicker);
    this.featureBox.id = 'features';
    view.append(controls, this.status, result, featureControls, this.featureBox);
  }

  refresh(): void {
    this.syncWeightsPicker();
    this.syncFeaturePicker();
    this.syncImagePicker();
  }

  reset(): void {
    this.lastRun = undefined;
    this.featureBox.replaceChildren();
    this.predictions.replaceChildren();
  }

  selected(): void {
    this.syncFeaturePicker();
    if (this.lastRun) void this.showFeatures();
  }

  /** A picked image: shown, and run when asked. */
  imagePicked(): void {
    this.syncImagePicker();
    void this.showImage();
  }

  weightsPicked(): void {
    this.syncWeightsPicker();
  }

  syncImagePicker(): void {
    const state = this.app.state;
    const choices = this.samples.map((s) => ({ value: s.id, label: s.label }));
    if (state.image) choices.unshift({ value: '__picked', label: state.image.name });
    if (!state.sample && !state.image && this.samples.length) state.sample = this.pickDefaultSample();
    ui.setChoices(this.imagePicker, choices, state.image ? '__picked' : state.sample);
  }

  /** A Fashion-MNIST sample for a 1-channel 28x28 network, else a photo. */
  private pickDefaultSample(): string | undefined {
    const gray = this.app.net?.input?.[0] === 1;
    return (this.samples.find((s) => (gray ? s.id.startsWith('fashion') : !s.id.startsWith('fashion'))) ?? this.samples[0])?.id;
  }

  private syncWeightsPicker(): void {
    const w = this.app.weights();
    const choices = [{ value: 'seeded', label: 'Seeded weights (He normal, seed 0)' }];
    if (w) choices.push({ value: 'file', label: `Weights: ${w.name}` });
    ui.setChoices(this.weightsPicker, choices, w ? 'file' : 'seeded');
  }

  /** The backends the engine can use here, the saved choice selected. */
  syncBackend(): void {
    const { engine, state } = this.app;
    const choices = [{ value: 'cpu', label: 'CPU engine (worker)' }];
    if (engine.gpuUsable()) choices.unshift({ value: 'webgpu', label: engine.probe?.status === 'software' ? 'WebGPU (software adapter)' : 'WebGPU' });
    ui.setChoices(this.backendPicker, choices, state.backend);
  }

  private syncFeaturePicker(): void {
    const { net: n, state } = this.app;
    if (!n) return;
    // Grouped by the top-level block call each layer comes from (`layer1.0 (Basic)`).
    const groupOf = new Map<number, string>();
    for (const b of this.app.blocks) if (b.depth === 0) for (const id of b.nodes) groupOf.set(id, b.label === b.block ? b.block : `${b.label} (${b.block})`);
    const choices = n.graph.nodes
      .filter((x) => x.attrs.kind !== 'input' && n.layers[x.id].shape)
      .map((x) => ({ value: x.path, label: `${layerName(x)} (${describe(x.attrs)}) → ${formatShape(n.layers[x.id].shape)}`, group: groupOf.get(x.id) }));
    if (!state.featureLayer || !choices.some((c) => c.value === state.featureLayer)) {
      // The first weighted layer with a feature map: the first conv, usually.
      state.featureLayer = n.graph.nodes.find((x) => n.layers[x.id].macs > 0 && n.layers[x.id].shape?.length === 3)?.path ?? choices[0]?.value;
    }
    ui.setChoices(this.featurePicker, choices, state.featureLayer);
  }

  private imageUrl(): { url: string; name: string } | undefined {
    const state = this.app.state;
    if (state.image) return { url: state.image.uri, name: state.image.name };
    const s = this.samples.find((x) => x.id === state.sample);
    return s ? { url: `${this.app.media}/samples/${s.file}`, name: s.label } : undefined;
  }

  async showImage(): Promise<void> {
    const img = this.imageUrl();
    if (!img) {
      this.imageFigure.replaceChildren(h('figcaption', undefined, 'No image: pick a sample or an image file.'));
      return;
    }
    const el = h('img');
    el.alt = img.name;
    el.src = img.url;
    this.imageFigure.replaceChildren(el, h('figcaption', undefined, img.name));
  }

  private labelsFor(n: number): string[] | undefined {
    const { state, net } = this.app;
    if (state.labels?.length === n) return state.labels;
    if (n === 1000) return imagenetClasses as string[];
    if (n === 10 && /fashion/i.test(net?.graph.network ?? '')) return FASHION;
    if (n === 10 && /cifar/i.test(net?.graph.network ?? '')) return CIFAR10;
    return undefined;
  }

  async run(): Promise<void> {
    if (this.running) return;
    const app = this.app;
    this.running = true;
    ui.setDisabled(this.runButton, true);
    this.status.replaceChildren(ui.spinner(), h('span', undefined, ' Running…'));
    try {
      const e = await app.loadEngine();
      const img = this.imageUrl();
      if (!img) throw new Error('pick an image first');
      const input = app.net!.input!;
      if (input.length !== 3) throw new Error(`an image can feed a C×H×W input, not ${formatShape(input)}`);
      const pixels = await loadPixels(img.url);
      const backend = app.state.backend ?? 'cpu';
      const r = await e.request<RunResult>({ op: 'run', backend, pixels, channels: input[0], height: input[1], width: input[2] }).promise;
      this.lastRun = r;
      this.status.textContent = `${r.backend === 'webgpu' ? 'WebGPU' : 'CPU'} (${r.adapter}): one forward pass in ${r.ms.toFixed(1)} ms, weights: ${app.weights()?.name ?? 'seeded'}.`;
      this.status.dataset.backend = r.backend;
      this.drawSeen(r.input, input);
      this.drawPredictions(r.output);
      await this.showFeatures();
    } catch (err) {
      this.status.textContent = '';
      app.showMessage(`Run failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
      ui.setDisabled(this.runButton, false);
    }
  }

  private drawSeen(data: Float32Array, shape: number[]): void {
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
    this.seenFigure.replaceChildren(c, h('figcaption', undefined, `As the network sees it: ${C}×${H}×${W}, resized, centre-cropped${C === 3 ? ', ImageNet-normalised' : ''}`));
  }

  private drawPredictions(out: Float32Array): void {
    const net = this.app.net;
    if (!net) return;
    const p = probabilities(net, out);
    const names = this.labelsFor(p.length);
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
    this.predictions.replaceChildren(h('h4', undefined, `Top ${top.length}${givesProbabilities(net.graph.nodes[net.graph.output].attrs) ? '' : ' (softmax of the output)'}`), list);
  }

  private async showFeatures(): Promise<void> {
    const app = this.app;
    if (!this.lastRun || !app.net) return;
    const id = app.nodeByPath(app.state.featureLayer);
    if (id === undefined) return;
    const e = await app.engine.ready;
    try {
      const f = await e.request<FeatureResult>({ op: 'features', node: id }).promise;
      this.drawFeatures(f, layerName(app.net.graph.nodes[id]));
    } catch (err) {
      this.featureBox.replaceChildren(h('p', 'error', `No feature maps: ${(err as Error).message}`));
    }
  }

  private drawFeatures(f: FeatureResult, name: string): void {
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
    this.featureBox.replaceChildren(h('p', 'caption', `${name}: ${formatShape(f.shape)}${C > show ? `, first ${show} of ${C} channels` : ''}; each channel scaled to its own range`), grid);
  }
}
