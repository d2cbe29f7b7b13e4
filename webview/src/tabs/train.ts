/**
 * The Train tab: trains the current network on Fashion-MNIST (Debian's dataset-fashion-mnist,
 * read by the extension) or a picked folder (IDX files, or images in ImageFolder layout), in a
 * training worker on WebGPU where a hardware adapter exists, else on the CPU engine's training
 * path (or on the one chosen), with live loss and accuracy curves per
 * step and per epoch, samples per second, pause, resume and stop. The weights go beside the file as FILE.trained.safetensors
 * (the extension writes them; the shipped FILE.safetensors is never replaced) and Run uses them.
 */
import type { App, TabView } from '../app';
import { curveChart } from '../charts';
import { h } from '../dom';
import type { TrainIn, TrainOut, TrainStep } from '../engine/messages';
import type { CurvePoint, ToWebview, TrainData, TrainRecord, TrainSettings } from '../protocol';
import * as ui from '../ui/toolkit';

const DEFAULT_LR = { sgd: 0.01, adam: 1e-3, adamw: 1e-3 } as const;
/** Points of each curve kept in the saved state (the live run keeps every step). */
const SAVED_POINTS = 300;

export function defaultTrainSettings(): TrainSettings {
  return { folder: '', epochs: 1, batch: 32, optimizer: 'adam', lr: DEFAULT_LR.adam, limit: 0, seed: 0, start: 'seeded', backend: 'auto' };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function keepEvery(points: CurvePoint[], max: number): CurvePoint[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  return Array.from({ length: max }, (_, i) => points[Math.min(points.length - 1, Math.floor((i + 1) * step) - 1)]);
}

/** A run under way (or just ended): for which network, and what it has shown. */
interface Run {
  key: string;
  uri: string;
  network: string;
  /** The file name the weights go to, for the wording. */
  target: string;
  epochs: number;
  record: TrainRecord;
  state: 'loading' | 'training' | 'paused' | 'testing' | 'saving' | 'done';
  started: number;
  last?: TrainStep;
}

export class TrainTab implements TabView {
  private readonly controls: Record<string, HTMLElement> = {};
  private readonly dataPicker: HTMLSelectElement;
  private readonly optimizerPicker: HTMLSelectElement;
  private readonly startPicker: HTMLSelectElement;
  private readonly backendPicker: HTMLSelectElement;
  private readonly startButton: HTMLButtonElement;
  private readonly pauseButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly saveCurrentButton: HTMLButtonElement;
  private readonly status = h('span', 'status');
  private readonly note = h('div', 'weights-note');
  /** Which engine the shown run trains on, and why that one. */
  private readonly engine = h('div', 'weights-note');
  private readonly charts = h('div', 'train-charts');
  private readonly table = h('div', 'train-epochs');
  private worker: Worker | undefined;
  private run: Run | undefined;
  private nextData = 1;
  private readonly waitingData = new Map<number, (m: Extract<ToWebview, { type: 'trainData' }>) => void>();
  private drawQueued = false;
  /** What the weights being saved are, for the line that says where they went. */
  private pending = '';

  constructor(
    private readonly app: App,
    view: HTMLElement,
    private readonly workerUrl: string,
  ) {
    const s = this.settings();
    this.dataPicker = ui.dropdown([], undefined, (v) => {
      if (v === '__pick') {
        ui.setValue(this.dataPicker, this.settings().folder ? 'folder' : 'fashion');
        app.post({ type: 'pickTrainFolder' });
        return;
      }
      if (v === 'fashion') this.settings().folder = '';
      app.save();
      this.syncData();
    }, { id: 'train-data', title: 'Training samples' });
    this.optimizerPicker = ui.dropdown(
      [
        { value: 'adam', label: 'Adam' },
        { value: 'adamw', label: 'AdamW' },
        { value: 'sgd', label: 'SGD (momentum 0.9)' },
      ],
      s.optimizer,
      (v) => {
        const t = this.settings();
        // The rate follows the optimiser while it is the previous one's default.
        if (t.lr === DEFAULT_LR[t.optimizer]) {
          t.lr = DEFAULT_LR[v as TrainSettings['optimizer']];
          ui.setValue(this.controls.lr, String(t.lr));
        }
        t.optimizer = v as TrainSettings['optimizer'];
        app.save();
      },
      { id: 'train-optimizer', title: 'Optimiser (torch.optim’s)' },
    );
    this.startPicker = ui.dropdown([], undefined, (v) => {
      this.settings().start = v as TrainSettings['start'];
      app.save();
    }, { id: 'train-from', title: 'Start from' });
    this.backendPicker = ui.dropdown(
      [
        { value: 'auto', label: 'Auto (WebGPU on a hardware adapter, else CPU)' },
        { value: 'cpu', label: 'CPU (fast training path)' },
        { value: 'webgpu', label: 'WebGPU (any adapter; a software one is slow)' },
      ],
      s.backend,
      (v) => {
        this.settings().backend = v as TrainSettings['backend'];
        app.save();
      },
      { id: 'train-backend', title: 'Where training runs: Auto takes WebGPU only on a hardware GPU; WebGPU takes a software adapter (SwiftShader) too, which is slower than the CPU engine' },
    );
    const num = (key: 'epochs' | 'batch' | 'lr' | 'limit' | 'seed', label: string, min: number, title: string) => {
      const f = ui.numberField(label, this.settings()[key], (v) => {
        this.settings()[key] = key === 'lr' ? v : Math.max(min, Math.round(v));
        app.save();
      }, { id: `train-${key}`, min, title });
      this.controls[key] = f.querySelector('input')!;
      return f;
    };
    this.startButton = ui.button('Train', () => void this.start(), { id: 'train-start' });
    this.pauseButton = ui.button('Pause', () => this.pauseOrResume(), { id: 'train-pause', appearance: 'secondary' });
    this.stopButton = ui.button('Stop', () => this.stop(), { id: 'train-stop', appearance: 'secondary' });
    this.saveCurrentButton = ui.button('Save the weights as they are now', () => this.worker?.postMessage({ op: 'current' } satisfies TrainIn), { id: 'train-save-current', appearance: 'secondary' });
    this.saveCurrentButton.hidden = true;
    this.status.id = 'train-status';
    this.status.setAttribute('role', 'status');
    this.note.id = 'train-note';
    this.engine.id = 'train-engine';
    this.charts.id = 'train-charts';
    this.table.id = 'train-epochs-table';
    const data = h('div', 'toolbar');
    data.append(this.dataPicker, num('limit', 'Samples (0: all)', 0, 'Training samples per epoch, and at most as many test samples (cnn train --limit)'), this.startPicker, this.backendPicker);
    const hyper = h('div', 'toolbar');
    hyper.append(num('epochs', 'Epochs', 1, 'Passes over the training samples'), num('batch', 'Batch', 2, 'Samples per step'), this.optimizerPicker, num('lr', 'Learning rate', 0, 'The learning rate (constant)'), num('seed', 'Seed', 0, 'The initialisation, the shuffles and the dropout masks'));
    const actions = h('div', 'toolbar');
    actions.append(this.startButton, this.pauseButton, this.stopButton, this.saveCurrentButton, this.status);
    view.append(data, hyper, actions, this.engine, this.note, this.charts, this.table);
    this.syncButtons();
  }

  /** The settings, shared by every network (the state of an older panel has none). */
  private settings(): TrainSettings {
    const s = this.app.state;
    s.train = { ...defaultTrainSettings(), ...(s.train ?? {}) };
    return s.train;
  }

  refresh(): void {
    this.syncData();
    this.syncStart();
    this.syncNote();
    this.draw();
  }

  reset(): void {
    this.draw();
  }

  private syncData(): void {
    const s = this.settings();
    const choices = [{ value: 'fashion', label: "Fashion-MNIST (Debian's dataset-fashion-mnist)" }];
    if (s.folder) choices.push({ value: 'folder', label: `Folder: ${s.folderName ?? s.folder}` });
    choices.push({ value: '__pick', label: 'Folder (IDX files, or train/CLASS/*.png)…' });
    ui.setChoices(this.dataPicker, choices, s.folder ? 'folder' : 'fashion');
  }

  private syncStart(): void {
    const w = this.app.weightsChoice();
    const choices = [{ value: 'seeded', label: `From seeded weights (He normal)` }];
    if (w.file) choices.push({ value: 'current', label: `From ${w.file.name} (what Run uses)` });
    const s = this.settings();
    ui.setChoices(this.startPicker, choices, s.start === 'current' && w.file ? 'current' : 'seeded');
  }

  /** Where the weights will go, and that Run then uses them. */
  private target(): string {
    const file = (this.app.state.fileName ?? 'network.cnn').split(/[\\/]/).pop()!.replace(/\.cnn$/, '');
    return `${file}.trained.safetensors`;
  }

  private syncNote(): void {
    const untitled = this.app.state.uri?.startsWith('untitled:');
    const shipped = this.app.besideWeights();
    this.note.textContent = untitled
      ? `This file is not saved: you will be asked where the trained weights go. Run then uses them.`
      : `The trained weights go beside the file as ${this.target()}${shipped ? ` (${shipped.name} is never replaced)` : ''}; Run then uses them (its weights list says which).`;
  }

  private syncButtons(): void {
    const r = this.run;
    const busy = !!r && r.state !== 'done';
    ui.setDisabled(this.startButton, busy);
    ui.setDisabled(this.pauseButton, !r || !(r.state === 'training' || r.state === 'paused' || r.state === 'testing'));
    ui.setDisabled(this.stopButton, !r || !(r.state === 'training' || r.state === 'paused' || r.state === 'testing'));
    this.pauseButton.textContent = r?.state === 'paused' ? 'Resume' : 'Pause';
    for (const id of ['train-data', 'train-from', 'train-backend', 'train-optimizer']) ui.setDisabled(document.getElementById(id) ?? this.dataPicker, busy);
    for (const c of Object.values(this.controls)) (c as HTMLInputElement).disabled = busy;
  }

  /** Messages from the extension for this tab. */
  receive(m: ToWebview): void {
    switch (m.type) {
      case 'trainData':
        this.waitingData.get(m.id)?.(m);
        this.waitingData.delete(m.id);
        break;
      case 'trainFolder': {
        const s = this.settings();
        s.folder = m.uri;
        s.folderName = m.name;
        this.app.save();
        this.syncData();
        break;
      }
      case 'trained':
        this.trained(m);
        break;
    }
  }

  /** The run's status line; shown while its network is the panel's (else draw() says it runs in the background). */
  private setStatus(text: string, kind: 'busy' | 'ok' | 'error' | '' = ''): void {
    if (this.run) this.run.record.status = text;
    if (this.run && this.run.key !== this.app.netKey()) return;
    this.status.className = `status ${kind}`;
    this.status.textContent = text;
  }

  /** The line that says which engine trains (kept in the record, so a reloaded panel says it again). */
  private setEngine(on: string): void {
    if (this.run) this.run.record.engine = on;
    if (this.run && this.run.key !== this.app.netKey()) return;
    this.engine.textContent = `Training on ${on}.`;
  }

  private fail(why: string): void {
    const line = `Training failed: ${why.split('\n')[0]}`;
    if (this.run) this.run.state = 'done';
    this.setStatus(line, 'error');
    this.app.showMessage(line);
    this.syncButtons();
  }

  private async ensureWorker(): Promise<Worker> {
    if (this.worker) return this.worker;
    // Same as the engine's worker: a blob: of the fetched bundle (VS Code serves it from another origin).
    const res = await fetch(this.workerUrl);
    if (!res.ok) throw new Error(`cannot load the training worker: HTTP ${res.status}`);
    const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/javascript' }));
    const w = new Worker(url);
    w.onmessage = (e: MessageEvent<TrainOut>) => this.event(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      this.worker = undefined;
      this.fail(`the training worker stopped: ${e.message || 'unknown error'}`);
    };
    this.worker = w;
    return w;
  }

  private askData(folder: string, limit: number): Promise<TrainData> {
    const id = this.nextData++;
    return new Promise<TrainData>((resolve, reject) => {
      this.waitingData.set(id, (m) => (m.data ? resolve(m.data) : reject(new Error(m.error ?? 'no samples'))));
      this.app.post({ type: 'trainData', id, folder: folder || undefined, limit });
    });
  }

  async start(): Promise<void> {
    const app = this.app;
    const net = app.net;
    if (this.run && this.run.state !== 'done') return;
    if (!net || !app.analysis || !app.state.uri) {
      this.fail(app.state.text === undefined ? 'no .cnn file yet: open one first' : 'no network in this file to train');
      return;
    }
    const s = { ...this.settings() };
    this.run = {
      key: app.netKey(),
      uri: app.state.uri,
      network: net.graph.network,
      target: this.target(),
      epochs: s.epochs,
      record: { stepLoss: [], stepAccuracy: [], epochs: [], status: '' },
      state: 'loading',
      started: performance.now(),
    };
    this.saveCurrentButton.hidden = true;
    this.syncButtons();
    this.draw();
    try {
      const errors = app.analysis.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length) throw new Error(`the file has ${errors.length} error${errors.length > 1 ? 's' : ''} (line ${errors[0].range.start.line + 1}: ${errors[0].message})`);
      if (net.layers.some((l) => !l.shape)) throw new Error('some layer shapes are unknown');
      const input = net.input;
      if (!input || input.length !== 3) throw new Error(`the samples are images; the input is ${input?.join('×') ?? 'unknown'}`);
      this.setStatus(s.folder ? `Reading the samples in ${s.folderName ?? s.folder}…` : 'Reading Fashion-MNIST…', 'busy');
      const data = await this.askData(s.folder, s.limit);
      let weights: Uint8Array | null = null;
      const from = app.weightsChoice().file;
      if (s.start === 'current' && from) {
        const res = await fetch(from.uri);
        if (!res.ok) throw new Error(`cannot read the weights ${from.name}: HTTP ${res.status}`);
        weights = new Uint8Array(await res.arrayBuffer());
      }
      const worker = await this.ensureWorker();
      if (!this.run || this.run.state !== 'loading') return;
      this.setStatus(`Starting on ${data.source}…`, 'busy');
      const msg: TrainIn = {
        op: 'start',
        model: { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors },
        input,
        weights,
        data,
        config: { epochs: s.epochs, batch: s.batch, optimizer: s.optimizer, lr: s.lr, seed: s.seed, backend: s.backend },
      };
      worker.postMessage(msg);
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  private pauseOrResume(): void {
    const r = this.run;
    if (!r || !this.worker) return;
    if (r.state === 'paused') this.worker.postMessage({ op: 'resume' } satisfies TrainIn);
    else {
      this.worker.postMessage({ op: 'pause' } satisfies TrainIn);
      this.setStatus('Pausing after this batch…', 'busy');
    }
  }

  private stop(): void {
    const r = this.run;
    if (!r || !this.worker) return;
    this.worker.postMessage({ op: 'stop' } satisfies TrainIn);
    this.setStatus('Stopping after this batch…', 'busy');
  }

  private progressLine(p: TrainStep): string {
    const r = this.run!;
    const left = ((p.batches - p.batch) + (r.epochs - p.epoch) * p.batches) * (p.samplesPerSecond > 0 ? (this.batchSize() / p.samplesPerSecond) : 0);
    return `Epoch ${p.epoch}/${r.epochs}, batch ${p.batch}/${p.batches}: loss ${p.epochLoss.toFixed(4)}, accuracy ${pct(p.epochAccuracy)}, ${p.samplesPerSecond.toFixed(1)} samples/s${left > 0 ? `, about ${Math.ceil(left)} s left` : ''}`;
  }

  private batchSize(): number {
    return this.settings().batch;
  }

  private event(m: TrainOut): void {
    const r = this.run;
    if (!r) return;
    switch (m.event) {
      case 'started':
        r.state = 'training';
        this.setEngine(m.on);
        this.setStatus(`Training on ${m.on}: ${m.train} samples (${m.test} test), ${m.batches} batches an epoch…`, 'busy');
        break;
      case 'engine':
        this.setEngine(m.on);
        this.setStatus(`Training on ${m.on}`, 'busy');
        break;
      case 'step':
        r.last = m.step;
        r.record.stepLoss.push({ x: m.step.step, y: m.step.loss });
        r.record.stepAccuracy.push({ x: m.step.step, y: m.step.accuracy });
        if (r.state !== 'paused') this.setStatus(this.progressLine(m.step), 'busy');
        this.queueDraw();
        break;
      case 'testing':
        r.state = 'testing';
        this.setStatus(`Epoch ${m.epoch}/${r.epochs}: testing…`, 'busy');
        break;
      case 'epoch':
        r.state = 'training';
        r.record.epochs.push(m.epoch);
        this.saveRecord();
        this.queueDraw();
        break;
      case 'paused':
        r.state = 'paused';
        this.setStatus(`Paused at epoch ${r.last?.epoch ?? 1}, batch ${r.last?.batch ?? 0}/${r.last?.batches ?? '?'}`, '');
        break;
      case 'resumed':
        r.state = 'training';
        this.setStatus('Resumed…', 'busy');
        break;
      case 'done':
        this.done(m);
        break;
      case 'current':
        this.saveCurrentButton.hidden = true;
        this.save(m.weights, `the weights as they were at epoch ${m.epoch}, batch ${m.batch} (mid-epoch)`);
        break;
      case 'error':
        this.fail(m.message);
        break;
    }
    this.syncButtons();
  }

  private done(m: Extract<TrainOut, { event: 'done' }>): void {
    const r = this.run!;
    const at = m.stoppedAt ? `in epoch ${m.stoppedAt.epoch} at batch ${m.stoppedAt.batch}/${m.stoppedAt.batches}` : '';
    if (!m.weights) {
      r.state = 'done';
      this.setStatus(`Stopped ${at} before the first epoch finished: nothing saved (as cnn train).`, '');
      this.saveCurrentButton.hidden = false;
      this.saveRecord();
      return;
    }
    const what = m.stopped && m.stoppedAt ? `Stopped ${at}: the epoch under way is dropped, as cnn train does; the weights of epoch ${m.epochs}` : `the weights after ${m.epochs} epoch${m.epochs > 1 ? 's' : ''}`;
    this.save(m.weights, what);
  }

  /** Hands the weights to the extension, which writes them beside the file. */
  private save(weights: Uint8Array, what: string): void {
    const r = this.run!;
    r.state = 'saving';
    this.setStatus(`${what[0].toUpperCase()}${what.slice(1)}: saving ${r.target}…`, 'busy');
    this.pending = what;
    this.app.post({ type: 'saveTrained', uri: r.uri, network: r.network, bytes: weights, epochs: r.record.epochs.length });
    this.syncButtons();
  }

  private trained(m: Extract<ToWebview, { type: 'trained' }>): void {
    const r = this.run;
    const what = this.pending || 'the trained weights';
    if (r) r.state = 'done';
    if (m.error || !m.file) {
      if (r && r.uri === m.uri) this.fail(`${what}: ${m.error ?? 'not saved'}`);
      this.syncButtons();
      return;
    }
    const s = this.app.state;
    const key = `${m.uri}#${m.network}`;
    const list = (s.besideTrained ?? []).filter((f) => f.name !== m.file!.name);
    s.besideTrained = [...list, m.file];
    // A name the panel would not find beside the file (saved elsewhere, for an untitled file): it is Run's picked file.
    const match = m.uri === s.uri && this.app.trainedWeights()?.name === m.file.name;
    if (!match) s.weights[key] = m.file;
    s.weightsChoice[key] = match ? 'trained' : 'picked';
    const line = `${what[0].toUpperCase()}${what.slice(1)}: saved as ${m.path ?? m.file.name}. Run now uses ${m.file.name}.`;
    this.setStatus(line, 'ok');
    // A page reloaded meanwhile (the file's folder became a resource root) has no run: its saved record says it.
    const saved = s.trainRuns?.[key];
    if (!r && saved) saved.status = line;
    this.saveRecord();
    this.syncButtons();
    this.app.refresh();
  }

  /** The run's curves and epochs, thinned, in the saved state of its network. */
  private saveRecord(): void {
    const r = this.run;
    if (!r) return;
    const s = this.app.state;
    s.trainRuns = { ...(s.trainRuns ?? {}), [r.key]: { ...r.record, stepLoss: keepEvery(r.record.stepLoss, SAVED_POINTS), stepAccuracy: keepEvery(r.record.stepAccuracy, SAVED_POINTS) } };
    this.app.save();
  }

  private queueDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  /** The current network's curves: the run under way, else the last one saved. */
  private draw(): void {
    const key = this.app.netKey();
    const live = this.run?.key === key ? this.run : undefined;
    const rec = live?.record ?? this.app.state.trainRuns?.[key];
    if (!live) {
      this.status.className = 'status';
      this.status.textContent = this.run && this.run.state !== 'done' ? `Training ${this.run.network} (another network) in the background.` : rec?.status ?? '';
    }
    this.engine.textContent = rec?.engine ? `Training on ${rec.engine}.` : '';
    if (!rec) {
      this.charts.replaceChildren(h('p', 'note', 'No training yet: choose the samples and Train.'));
      this.table.replaceChildren();
      return;
    }
    const ep = rec.epochs;
    const loss = curveChart('Loss', [
      { name: 'per step', cls: 'first', points: rec.stepLoss },
      { name: 'epoch mean', cls: 'second', points: ep.map((e) => ({ x: e.step, y: e.loss })), dots: true },
    ], 'step', 'cross-entropy');
    loss.id = 'train-loss';
    const acc = curveChart('Accuracy', [
      { name: 'per step', cls: 'first', points: rec.stepAccuracy },
      { name: 'epoch (train)', cls: 'second', points: ep.map((e) => ({ x: e.step, y: e.trainAccuracy })), dots: true },
      { name: 'epoch (test)', cls: 'third', points: ep.filter((e) => e.testAccuracy !== null).map((e) => ({ x: e.step, y: e.testAccuracy! })), dots: true },
    ], 'step', 'accuracy', 1);
    acc.id = 'train-accuracy';
    this.charts.replaceChildren(loss, acc);
    if (!ep.length) {
      this.table.replaceChildren();
      return;
    }
    const t = h('table', 'grid');
    const head = h('tr');
    for (const c of ['epoch', 'loss', 'train accuracy', 'test accuracy', 'seconds', 'samples/s']) head.append(h('th', undefined, c));
    t.append(head);
    for (const e of ep) {
      const tr = h('tr');
      for (const c of [String(e.epoch), e.loss.toFixed(4), pct(e.trainAccuracy), e.testAccuracy === null ? '—' : pct(e.testAccuracy), e.seconds.toFixed(1), e.samplesPerSecond.toFixed(1)]) tr.append(h('td', undefined, c));
      t.append(tr);
    }
    this.table.replaceChildren(t);
  }
}
