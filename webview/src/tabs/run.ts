/**
 * The Run tab: an image through the network on WebGPU or the CPU engine, the top-k, the feature
 * maps of any layer, and the receptive field of a feature-map unit drawn on the input. Everything
 * shown belongs to one network (App.netKey): switching network or file clears it.
 */
import { givesProbabilities } from '../../../src/layers';
import imagenetClasses from '../../../assets/imagenet-classes.json';
import type { App, TabView } from '../app';
import { h } from '../dom';
import type { BackendKind, FeatureResult, RunResult } from '../engine/messages';
import { describe, formatShape, layerName, probabilities, topK } from '../model';
import type { PickedFile, SampleImage, WeightsSource } from '../protocol';
import { ErfPanel } from '../erf-panel';
import { fieldGeometry, fieldView, fmt } from '../rf-view';
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

function hash(s: string): string {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return x.toString(16);
}

const WEIGHTS_SOURCE = { beside: 'beside the file', trained: 'trained in the Train tab', picked: 'picked', seeded: '' } as const;

/** The last run of the current network, and what it ran with. */
interface LastRun {
  key: string;
  /** The text it ran: after an edit, its feature maps may no longer match the layers. */
  text: string;
  result: RunResult;
  shape: number[];
}

export class RunTab implements TabView {
  private samples: SampleImage[] = [];
  readonly samplesReady: Promise<void>;
  private readonly imagePicker: HTMLSelectElement;
  private readonly weightsPicker: HTMLSelectElement;
  readonly backendPicker: HTMLSelectElement;
  private readonly runButton: HTMLButtonElement;
  private readonly status = h('span', 'status');
  private readonly weightsNote = h('div', 'weights-note');
  private readonly imageFigure = h('figure', 'image');
  private readonly seenFigure = h('figure', 'seen');
  private readonly fieldCaption = h('p', 'rf-caption');
  private readonly predictions = h('div', 'predictions');
  private readonly featurePicker: HTMLSelectElement;
  private readonly featureBox = h('div', 'features');
  /** The "effective" toggle: the feature layer's effective receptive field under the field view. */
  private readonly erf: ErfPanel;
  private last: LastRun | undefined;
  private running = false;
  /** A run asked for while one was going: it starts when that one ends, with the choices then. */
  private again = false;
  /** The network whose results are shown. */
  private owner = '';
  /** The unit whose field is pinned (clicked), until another click or another layer. */
  private pinned: { node: number; i: number; j: number } | undefined;
  /** The network's view of the last run's input, as a data: URL (img-src allows data:), for the field view. */
  private seenUrl: string | undefined;

  constructor(
    private readonly app: App,
    view: HTMLElement,
  ) {
    this.samplesReady = fetch(`${app.media}/samples/manifest.json`)
      .then((r) => (r.ok ? (r.json() as Promise<SampleImage[]>) : []))
      .catch(() => [] as SampleImage[])
      .then((s) => {
        this.samples = s;
        this.syncImagePicker();
      });
    this.imagePicker = ui.dropdown([], undefined, (v) => {
      if (v === '__picked') return;
      app.state.images[app.netKey()] = { sample: v };
      app.save();
      void this.showImage();
      void this.run();
    }, { id: 'image-picker', title: 'Image to run on' });
    this.weightsPicker = ui.dropdown([], undefined, (v) => {
      app.state.weightsChoice[app.netKey()] = v as WeightsSource;
      app.save();
      this.syncWeightsPicker();
      void this.run();
    }, { id: 'weights-picker', title: 'Weights' });
    this.backendPicker = ui.dropdown([], undefined, (v) => {
      app.state.backends[app.netKey()] = v as BackendKind;
      app.save();
    }, { id: 'backend-picker', title: 'Where the forward pass runs' });
    this.runButton = ui.button('Run', () => void this.run(), { id: 'run-button' });
    this.status.id = 'run-status';
    this.status.setAttribute('role', 'status');
    this.weightsNote.id = 'weights-note';
    const controls = h('div', 'toolbar');
    controls.append(
      this.imagePicker,
      ui.button('Image file…', () => app.post({ type: 'pickImage' }), { appearance: 'secondary', id: 'pick-image' }),
      this.weightsPicker,
      ui.button('Weights file…', () => app.net && app.post({ type: 'pickWeights', network: app.net.graph.network }), { appearance: 'secondary', id: 'pick-weights' }),
      this.backendPicker,
      this.runButton,
      this.status,
    );
    this.imageFigure.id = 'input-figure';
    this.seenFigure.id = 'seen';
    this.fieldCaption.id = 'rf-caption';
    this.predictions.id = 'predictions';
    const seenBox = h('div', 'seen-box');
    this.erf = new ErfPanel(app, () => this.last);
    seenBox.append(this.seenFigure, this.fieldCaption, this.erf.controls, this.erf.figure);
    const result = h('div', 'run-result');
    result.append(this.imageFigure, seenBox, this.predictions);
    this.featurePicker = ui.dropdown([], undefined, (v) => {
      app.state.featureLayer = v;
      app.save();
      this.pinned = undefined;
      void this.showFeatures();
      this.drawField();
    }, { id: 'feature-picker', title: 'Layer whose output to show' });
    const featureControls = h('div', 'toolbar');
    featureControls.append(h('span', 'label', 'Feature maps of'), this.featurePicker, h('span', 'hint', 'hover or click a unit: its receptive field on the input'));
    this.featureBox.id = 'features';
    view.append(controls, this.weightsNote, result, featureControls, this.featureBox);
  }

  refresh(): void {
    const key = this.app.netKey();
    if (key !== this.owner) {
      this.owner = key;
      this.clear();
    }
    this.syncWeightsPicker();
    this.syncFeaturePicker();
    this.syncImagePicker();
    this.syncBackend();
    if (!this.last) this.drawField();
  }

  reset(): void {
    this.owner = '';
  }

  /** Forgets what the panel showed for the previous network: results, status, figures. */
  private clear(): void {
    this.last = undefined;
    this.pinned = undefined;
    this.again = false;
    this.status.replaceChildren();
    this.status.className = 'status';
    delete this.status.dataset.backend;
    this.seenFigure.replaceChildren();
    this.fieldCaption.replaceChildren();
    this.predictions.replaceChildren();
    this.featureBox.replaceChildren();
    this.erf.clear();
    void this.showImage();
  }

  selected(): void {
    this.syncFeaturePicker();
    this.pinned = undefined;
    if (this.last) void this.showFeatures();
    this.drawField();
  }

  /** A picked image: shown and run on. */
  imagePicked(file: PickedFile): void {
    this.app.state.images[this.app.netKey()] = { file };
    this.app.save();
    this.syncImagePicker();
    void this.showImage();
    void this.run();
  }

  /** Picked weights: chosen for this network, and run with. */
  weightsPicked(): void {
    this.app.state.weightsChoice[this.app.netKey()] = 'picked';
    this.app.save();
    this.syncWeightsPicker();
    void this.run();
  }

  private imageChoice(): { sample?: string; file?: PickedFile } {
    const app = this.app;
    const key = app.netKey();
    const c = app.state.images[key];
    if (c?.file || (c?.sample && this.samples.some((s) => s.id === c.sample))) return c;
    return { sample: this.pickDefaultSample() };
  }

  syncImagePicker(): void {
    const choice = this.imageChoice();
    const choices = this.samples.map((s) => ({ value: s.id, label: s.label }));
    if (choice.file) choices.unshift({ value: '__picked', label: choice.file.name });
    ui.setChoices(this.imagePicker, choices, choice.file ? '__picked' : choice.sample);
  }

  /** A Fashion-MNIST sample for a 1-channel network, else a photo. */
  private pickDefaultSample(): string | undefined {
    const gray = this.app.net?.input?.[0] === 1;
    return (this.samples.find((s) => (gray ? s.id.startsWith('fashion') : !s.id.startsWith('fashion'))) ?? this.samples[0])?.id;
  }

  syncWeightsPicker(): void {
    const app = this.app;
    const beside = app.besideWeights();
    const trained = app.trainedWeights();
    const picked = app.state.weights[app.netKey()];
    const now = app.weightsChoice();
    const choices = [];
    if (beside) choices.push({ value: 'beside', label: `Weights: ${beside.name} (beside the file)` });
    if (trained) choices.push({ value: 'trained', label: `Weights: ${trained.name} (trained in the Train tab)` });
    if (picked) choices.push({ value: 'picked', label: `Weights: ${picked.name} (picked)` });
    choices.push({ value: 'seeded', label: 'Seeded weights (He normal, seed 0)' });
    ui.setChoices(this.weightsPicker, choices, now.source);
    this.weightsNote.className = `weights-note ${now.source === 'seeded' ? 'warn' : ''}`;
    this.weightsNote.textContent =
      now.source === 'seeded'
        ? `Seeded weights: predictions are meaningless. Put ${app.net?.graph.network ?? 'NETWORK'}.safetensors beside the file, or pick a weights file.`
        : `Weights: ${now.file!.name} (${WEIGHTS_SOURCE[now.source]}).`;
  }

  /** The backends the engine can use here, this network's choice selected. */
  syncBackend(): void {
    const { engine } = this.app;
    const choices = [{ value: 'cpu', label: 'CPU engine (worker)' }];
    if (engine.gpuUsable()) choices.unshift({ value: 'webgpu', label: engine.probe?.status === 'software' ? 'WebGPU (software adapter)' : 'WebGPU' });
    ui.setChoices(this.backendPicker, choices, this.app.backend());
  }

  private syncFeaturePicker(): void {
    const { net: n, state } = this.app;
    if (!n) {
      ui.setChoices(this.featurePicker, [], undefined);
      return;
    }
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
    const c = this.imageChoice();
    if (c.file) return { url: c.file.uri, name: c.file.name };
    const s = this.samples.find((x) => x.id === c.sample);
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

  /** Runs the current network on the chosen image; ends in a result or an error next to the Run button. */
  async run(): Promise<void> {
    const app = this.app;
    if (!app.net) {
      this.fail(app.state.text === undefined ? 'no .cnn file yet: open one first' : 'no network in this file to run');
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const key = app.netKey();
    const text = app.state.text ?? '';
    const backend = app.backend();
    ui.setDisabled(this.runButton, true);
    this.status.className = 'status busy';
    this.status.replaceChildren(ui.spinner(), h('span', undefined, ` Running on ${backend === 'webgpu' ? 'WebGPU' : 'the CPU engine'}…`));
    try {
      const input = app.net.input;
      if (!input || input.length !== 3) throw new Error(`an image can feed a C×H×W input, not ${formatShape(input)}`);
      // A Run asked for as the panel opens: the samples' list first, or there is no default image yet.
      await this.samplesReady;
      const img = this.imageUrl();
      if (!img) throw new Error('pick an image first');
      const e = await app.loadEngine();
      const pixels = await loadPixels(img.url);
      const weights = app.weightsChoice();
      const r = await e.request<RunResult>({ op: 'run', backend, pixels, channels: input[0], height: input[1], width: input[2] }).promise;
      // Another network meanwhile: this result is not its.
      if (key !== app.netKey()) return;
      this.last = { key, text, result: r, shape: input };
      this.status.className = `status ok ${weights.source === 'seeded' ? 'seeded' : ''}`;
      this.status.textContent = `${r.backend === 'webgpu' ? 'WebGPU' : 'CPU'} (${r.adapter}): one forward pass in ${r.ms.toFixed(1)} ms · ${weights.source === 'seeded' ? 'seeded weights: predictions are meaningless' : `weights ${weights.file!.name}`}`;
      this.status.dataset.backend = r.backend;
      this.drawSeen(r.input, input);
      this.drawPredictions(r.output, weights.source === 'seeded');
      this.drawField();
      await this.showFeatures();
    } catch (err) {
      if (key !== app.netKey()) return;
      this.fail((err as Error).message);
    } finally {
      this.running = false;
      ui.setDisabled(this.runButton, false);
      if (this.again) {
        this.again = false;
        void this.run();
      }
    }
  }

  /** An error next to the Run button (in view of it, also in a narrow panel), and in the messages. */
  private fail(why: string): void {
    const message = `Run failed: ${why}`;
    this.status.className = 'status error';
    this.status.textContent = message;
    delete this.status.dataset.backend;
    this.app.showMessage(message);
  }

  private drawSeen(data: Float32Array, shape: number[]): void {
    const [C, H, W] = shape;
    const c = document.createElement('canvas');
    c.width = W;
    c.height = H;
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
    this.seenUrl = c.toDataURL();
  }

  /** The receptive field of a unit of the feature layer (the pinned one, the hovered one, else the centre) on the input. */
  drawField(hover?: { node: number; i: number; j: number }): void {
    if (!hover) this.erf.update();
    const app = this.app;
    const net = app.net;
    const input = net?.input;
    if (!net || !input || input.length !== 3) {
      this.seenFigure.replaceChildren();
      this.fieldCaption.replaceChildren();
      return;
    }
    const [C, H, W] = input;
    const node = app.nodeByPath(app.state.featureLayer);
    const unit = hover ?? this.pinned;
    const image = this.last ? this.seenUrl : undefined;
    const caption = h('figcaption', undefined, image ? `As the network sees it: ${C}×${H}×${W}, resized, centre-cropped${C === 3 ? ', ImageNet-normalised' : ''}` : `The ${C}×${H}×${W} input (run the network to see the image here)`);
    const rf = node !== undefined ? net.layers[node].rf : null;
    const out = node !== undefined ? net.layers[node].shape : null;
    if (node === undefined || !rf || !out || out.length !== 3) {
      this.seenFigure.replaceChildren(fieldView({ H, W, image }), caption);
      this.fieldCaption.textContent = node === undefined ? '' : `${layerName(net.graph.nodes[node])}: a flat output, every unit sees the whole input.`;
      return;
    }
    const [, Ho, Wo] = out;
    const u = unit && unit.node === node ? unit : { node, i: Math.floor((Ho - 1) / 2), j: Math.floor((Wo - 1) / 2) };
    const g = fieldGeometry(rf, [H, W], [Ho, Wo], u.i, u.j);
    this.seenFigure.replaceChildren(fieldView({ H, W, image, field: g }), caption);
    this.seenFigure.dataset.unit = `${u.i},${u.j}`;
    this.seenFigure.dataset.node = String(node);
    const which = unit && unit.node === node ? `unit (${u.i}, ${u.j})` : `the centre unit (${u.i}, ${u.j})`;
    const pad = g.paddedFraction > 0 ? `; ${fmt(100 * g.paddedFraction)}% of it lies in the padding (hatched)` : '';
    this.fieldCaption.textContent = `Receptive field of ${layerName(net.graph.nodes[node])}, ${which}: rows ${fmt(g.y0)}…${fmt(g.y1)}, columns ${fmt(g.x0)}…${fmt(g.x1)} of the input (size ${fmt(rf.size[0])}×${fmt(rf.size[1])}, stride ${fmt(rf.stride[0])}×${fmt(rf.stride[1])}, padding ${fmt(rf.padding[0])}×${fmt(rf.padding[1])})${pad}.`;
  }

  /** Shows the field of a layer's centre unit (the table's RF cell): that layer becomes the feature layer. */
  showFieldOf(node: number): void {
    const n = this.app.net?.graph.nodes[node];
    if (!n) return;
    this.app.state.featureLayer = n.path;
    this.app.save();
    this.pinned = undefined;
    this.syncFeaturePicker();
    this.drawField();
    if (this.last) void this.showFeatures();
  }

  private drawPredictions(out: Float32Array, seeded: boolean): void {
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
    const head = h('h4', undefined, `Top ${top.length}${givesProbabilities(net.graph.nodes[net.graph.output].attrs) ? '' : ' (softmax of the output)'}`);
    this.predictions.replaceChildren(head, ...(seeded ? [h('p', 'warn-text', 'Seeded weights: these predictions are meaningless.')] : []), list);
  }

  private async showFeatures(): Promise<void> {
    const app = this.app;
    const last = this.last;
    if (!last || !app.net) return;
    const id = app.nodeByPath(app.state.featureLayer);
    if (id === undefined) return;
    if (last.text !== app.state.text && hash(last.text) !== hash(app.state.text ?? '')) {
      this.featureBox.replaceChildren(h('p', 'note', 'The network changed since the last run: Run again to see its feature maps.'));
      return;
    }
    const e = await app.engine.ready;
    try {
      const f = await e.request<FeatureResult>({ op: 'features', node: id }).promise;
      if (this.last !== last || app.nodeByPath(app.state.featureLayer) !== id) return;
      this.drawFeatures(f, id);
    } catch (err) {
      this.featureBox.replaceChildren(h('p', 'error', `No feature maps: ${(err as Error).message}`));
    }
  }

  private drawFeatures(f: FeatureResult, node: number): void {
    const name = layerName(this.app.net!.graph.nodes[node]);
    const spatial = f.shape.length === 3;
    const [C, H = 1, W = 1] = spatial ? f.shape : [1, 1, f.shape[0]];
    const show = Math.min(C, 64);
    const grid = h('div', 'fgrid');
    grid.dataset.layer = this.app.net!.graph.nodes[node].path;
    const px = Math.max(32, Math.min(96, Math.round(480 / Math.ceil(Math.sqrt(show)))));
    const marker = h('span', 'unit-marker');
    marker.hidden = true;
    /** Where the pinned unit's marker goes back to when the pointer leaves a map. */
    let pinnedMark: (() => void) | undefined;
    for (let ch = 0; ch < show; ch++) {
      const cell = h('span', 'fcell');
      const c = document.createElement('canvas');
      c.width = W;
      c.height = H;
      c.className = 'pixelated fmap';
      c.title = `channel ${ch}`;
      c.dataset.channel = String(ch);
      if (spatial) {
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
      if (spatial) {
        // The unit under the pointer: its row and column in this map.
        const unitAt = (e: MouseEvent) => ({
          node,
          i: Math.min(H - 1, Math.max(0, Math.floor((e.offsetY / c.clientHeight) * H))),
          j: Math.min(W - 1, Math.max(0, Math.floor((e.offsetX / c.clientWidth) * W))),
        });
        const mark = (u: { i: number; j: number }) => {
          cell.append(marker);
          marker.hidden = false;
          marker.style.left = `${(u.j / W) * c.clientWidth}px`;
          marker.style.top = `${(u.i / H) * c.clientHeight}px`;
          marker.style.width = `${Math.max(2, c.clientWidth / W)}px`;
          marker.style.height = `${Math.max(2, c.clientHeight / H)}px`;
        };
        c.addEventListener('mousemove', (e) => {
          const u = unitAt(e);
          mark(u);
          this.drawField(u);
        });
        c.addEventListener('mouseleave', () => {
          marker.hidden = true;
          if (this.pinned?.node === node) pinnedMark?.();
          this.drawField();
        });
        c.addEventListener('click', (e) => {
          const u = unitAt(e);
          this.pinned = u;
          pinnedMark = () => mark(u);
          pinnedMark();
          this.drawField();
        });
      }
      cell.append(c);
      grid.append(cell);
    }
    this.featureBox.replaceChildren(h('p', 'caption', `${name}: ${formatShape(f.shape)}${C > show ? `, first ${show} of ${C} channels` : ''}; each channel scaled to its own range`), grid);
  }
}
