/**
 * The Benchmark tab: timed forward passes on the CPU engine, WebGPU or both, per layer, with
 * GFLOP/s and a Markdown copy. The backend is chosen per network (by default where Run runs:
 * the CPU engine on a software adapter), so a WebGPU choice never carries over to the next
 * network. After each backend's first pass the worker says what the rest would take; past
 * ASK_ABOVE_MS the panel asks before going on (Continue, Fewer runs, Cancel).
 */
import type { App, TabView } from '../app';
import { barChart, type BarSeries } from '../charts';
import { h } from '../dom';
import type { BackendKind, BenchBackendResult, BenchEstimate, BenchResult, Progress } from '../engine/messages';
import type { Pending } from '../engine/client';
import { grouped, layerName, metric } from '../model';
import type { BenchBackends } from '../protocol';
import * as ui from '../ui/toolkit';

/** Past this estimate for the rest of a backend's passes, the panel asks before going on; "Fewer runs" fits the rest in it. */
export const ASK_ABOVE_MS = 20_000;

interface LayerRow {
  label: string;
  nodes: number[];
  macs: number;
  ms: Map<BackendKind, number>;
}

const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
}
const gflops = (macs: number, ms: number) => (2 * macs) / (ms * 1e6);
const backendName = (b: BackendKind) => (b === 'webgpu' ? 'WebGPU' : 'CPU');

/** A duration for people: µs below a millisecond, ms below ten seconds, then s, min, h. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  // GPU timestamps tick in nanoseconds.
  if (ms > 0 && ms < 0.001) return `${Math.round(ms * 1e6)} ns`;
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;
  if (ms < 10_000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Per-layer times: µs to a tenth where the means resolve them (the clock's step over the passes), else ms. */
function layerTime(ms: number): string {
  return ms < 10 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

interface Shown {
  res: BenchResult;
  network: string;
  macs: number;
}

export class BenchTab implements TabView {
  private readonly backendPicker: HTMLSelectElement;
  private readonly backendNote = h('span', 'note');
  private readonly benchButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly copyButton: HTMLButtonElement;
  private readonly status = h('span', 'status');
  private readonly progress = h('div', 'progress');
  private readonly progressBar = h('div', 'fill');
  private readonly progressLabel = h('span', 'plabel');
  private readonly confirm = h('div', 'confirm');
  private readonly result = h('div', 'bench-result');
  private pending: (Pending<BenchResult> & { key: string }) | undefined;
  /** The last result of each network this session (a result belongs to its network). */
  private readonly shown = new Map<string, Shown>();
  private owner = '';
  private started = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private lastProgress: Progress | undefined;
  /** Cancel was pressed before the worker had the request (while the network loaded). */
  private cancelRequested = false;

  constructor(
    private readonly app: App,
    view: HTMLElement,
  ) {
    const state = app.state;
    this.backendPicker = ui.dropdown([], undefined, (v) => {
      app.state.bench.backends[app.netKey()] = v as BenchBackends;
      app.save();
      this.syncBackend();
    }, { id: 'bench-backend', title: 'Where the benchmark runs' });
    const runs = ui.numberField('Runs', state.bench.iterations, (v) => ((app.state.bench.iterations = Math.max(1, Math.min(1000, Math.round(v)))), app.save()), { id: 'bench-iterations', min: 1, max: 1000 });
    const warm = ui.numberField('Warm-up', state.bench.warmup, (v) => ((app.state.bench.warmup = Math.max(0, Math.min(100, Math.round(v)))), app.save()), { id: 'bench-warmup', min: 0, max: 100 });
    this.benchButton = ui.button('Run benchmark', () => void this.bench(), { id: 'bench-button' });
    this.cancelButton = ui.button('Cancel', () => this.cancel(), { appearance: 'secondary', id: 'bench-cancel' });
    ui.setDisabled(this.cancelButton, true);
    this.copyButton = ui.button('Copy as Markdown', () => this.copyMarkdown(), { appearance: 'secondary', id: 'bench-copy' });
    ui.setDisabled(this.copyButton, true);
    this.status.id = 'bench-status';
    this.status.setAttribute('role', 'status');
    this.backendNote.id = 'bench-backend-note';
    const controls = h('div', 'toolbar');
    controls.append(this.backendPicker, runs, warm, this.benchButton, this.cancelButton, this.copyButton, this.status);
    this.progress.id = 'bench-progress';
    this.progress.setAttribute('role', 'progressbar');
    this.progress.setAttribute('aria-valuemin', '0');
    this.progress.setAttribute('aria-valuemax', '100');
    this.progress.hidden = true;
    this.progress.append(this.progressBar, this.progressLabel);
    this.confirm.id = 'bench-confirm';
    this.confirm.hidden = true;
    this.result.id = 'bench-result';
    const note = h('div', 'toolbar');
    note.append(this.backendNote);
    view.append(controls, note, this.progress, this.confirm, this.result);
  }

  refresh(): void {
    const key = this.app.netKey();
    if (key !== this.owner) {
      this.owner = key;
      // A benchmark belongs to its network: another one shown (whose load replaces the engine's model) stops it.
      if (this.pending && this.pending.key !== key) {
        this.cancel();
        this.app.showMessage('Benchmark cancelled: another network is shown.', 'info');
      }
      // Another network: its own result (if it had one this session), its own backend, no other network's status.
      this.status.replaceChildren();
      this.status.className = 'status';
      this.draw();
    }
    this.syncBackend();
    // The buttons and the progress follow whether this network's benchmark runs.
    this.syncButtons();
  }

  /** This network's choice, else where Run runs for it. */
  private choice(): BenchBackends {
    const app = this.app;
    const chosen = app.state.bench.backends[app.netKey()];
    if (chosen && (chosen === 'cpu' || app.engine.gpuUsable())) return chosen;
    return app.backend();
  }

  syncBackend(): void {
    const app = this.app;
    const gpu = app.engine.gpuUsable();
    const soft = app.engine.probe?.status === 'software';
    const choices = [{ value: 'cpu', label: 'CPU engine' }];
    if (gpu) choices.push({ value: 'webgpu', label: soft ? 'WebGPU (software adapter)' : 'WebGPU' }, { value: 'both', label: 'Both: WebGPU, then the CPU' });
    const c = this.choice();
    ui.setChoices(this.backendPicker, choices, c);
    const explicit = app.state.bench.backends[app.netKey()] !== undefined;
    this.backendNote.textContent = explicit
      ? ''
      : soft
        ? 'The CPU engine by default: WebGPU runs on a software adapter here, slower than the CPU engine.'
        : !gpu
          ? 'The CPU engine: no WebGPU here.'
          : `${backendName(c === 'both' ? 'webgpu' : c)} by default, where Run runs.`;
  }

  private syncButtons(): void {
    const mine = this.pending?.key === this.app.netKey();
    ui.setDisabled(this.benchButton, !!this.pending);
    ui.setDisabled(this.cancelButton, !mine);
    this.progress.hidden = !mine;
    this.confirm.hidden = !mine || this.confirm.childElementCount === 0;
  }

  private cancel(): void {
    if (!this.pending) return;
    this.cancelRequested = true;
    this.pending.cancel();
    this.progressLabel.textContent = 'Cancelling…';
    this.confirm.replaceChildren();
    this.confirm.hidden = true;
  }

  async bench(): Promise<void> {
    const app = this.app;
    if (this.pending || !app.net) return;
    const key = app.netKey();
    const net = app.net;
    const c = this.choice();
    const backends: BackendKind[] = c === 'both' ? ['webgpu', 'cpu'] : [c];
    const { iterations, warmup } = app.state.bench;
    this.status.className = 'status busy';
    this.status.replaceChildren(ui.spinner(), h('span', undefined, ` Benchmarking on ${backends.map(backendName).join(' and ')}…`));
    this.progressBar.style.width = '0%';
    this.progressLabel.textContent = 'Preparing: loading the network and its weights…';
    this.confirm.replaceChildren();
    this.started = performance.now();
    this.lastProgress = undefined;
    // The label shows the elapsed time every second, also while the worker is busy in one long step.
    this.ticker = setInterval(() => this.showProgress(), 1000);
    let req: (Pending<BenchResult> & { key: string }) | undefined;
    try {
      this.cancelRequested = false;
      this.pending = { key, promise: new Promise<BenchResult>(() => {}), cancel: () => {}, answer: () => {} };
      this.syncButtons();
      const e = await app.loadEngine();
      const p = e.request<BenchResult>({ op: 'bench', backends, iterations, warmup, askAboveMs: ASK_ABOVE_MS }, (pr) => {
        if (pr.ask) this.ask(pr.ask, { iterations, warmup });
        else {
          this.lastProgress = pr;
          this.showProgress();
        }
      });
      req = { ...p, key };
      this.pending = req;
      // A Cancel pressed while the network was loading applies now.
      if (this.cancelRequested) req.cancel();
      const res = await req.promise;
      const shown = { res, network: net.graph.network, macs: net.totals.macs };
      if (res.results.length) this.shown.set(key, shown);
      if (app.netKey() === key) {
        this.draw();
        const secs = ((performance.now() - this.started) / 1000).toFixed(1);
        this.status.className = `status ${res.cancelled ? 'info' : 'ok'}`;
        this.status.textContent = res.cancelled
          ? `Cancelled after ${secs} s${res.results.some((r) => r.times.length) ? '; the runs done so far are shown' : ''}.`
          : `Done in ${secs} s: ${res.results.map((r) => `${backendName(r.backend)} median ${duration(median(r.times))}`).join(', ')}.`;
      }
      if (res.cancelled) app.showMessage('Benchmark cancelled; the runs done so far are shown.', 'info');
    } catch (err) {
      const message = `Benchmark failed: ${(err as Error).message}`;
      if (app.netKey() === key) {
        this.status.className = 'status error';
        this.status.textContent = message;
      }
      app.showMessage(message);
    } finally {
      clearInterval(this.ticker);
      this.pending = undefined;
      this.confirm.replaceChildren();
      this.syncButtons();
    }
  }

  private showProgress(): void {
    const p = this.lastProgress;
    const secs = Math.floor((performance.now() - this.started) / 1000);
    if (!p || !p.total) {
      this.progressLabel.textContent = `${this.progressLabel.textContent?.replace(/ · \d+ s$/, '') ?? ''} · ${secs} s`;
      return;
    }
    const pct = Math.min(100, (100 * p.done) / p.total);
    this.progressBar.style.width = `${pct}%`;
    this.progress.setAttribute('aria-valuenow', String(Math.round(pct)));
    this.progressLabel.textContent = `${p.label} · ${secs} s`;
  }

  /** The worker's question after a first pass: the rest would take long. */
  private ask(q: BenchEstimate, asked: { iterations: number; warmup: number }): void {
    const req = this.pending;
    if (!req) return;
    const per = q.firstPassMs;
    const passes = q.warmupLeft + q.iterations;
    // Fewer runs: as many as fit in ASK_ABOVE_MS, the warm-ups first dropped to none.
    const fit = Math.max(1, Math.floor(ASK_ABOVE_MS / Math.max(per, 1e-3)));
    const warmupLeft = Math.min(q.warmupLeft, Math.max(0, fit - 1));
    const runs = Math.max(1, Math.min(q.iterations, fit - warmupLeft));
    const text = h(
      'span',
      'text',
      `${backendName(q.backend)}: the first pass took ${duration(per)}, so the ${passes} passes left (${q.warmupLeft} warm-up${q.warmupLeft === 1 ? '' : 's'}, ${q.iterations} run${q.iterations === 1 ? '' : 's'}) would take about ${duration(q.estimateMs)}.`,
    );
    const done = () => {
      this.confirm.replaceChildren();
      this.confirm.hidden = true;
    };
    this.confirm.replaceChildren(
      text,
      ui.button(`Continue (≈ ${duration(q.estimateMs)})`, () => (done(), req.answer({ go: 'continue' })), { id: 'bench-continue' }),
      ui.button(`Fewer runs: ${runs} (≈ ${duration(per * (warmupLeft + runs))})`, () => (done(), req.answer({ go: 'fewer', warmupLeft, iterations: runs })), { appearance: 'secondary', id: 'bench-fewer' }),
      ui.button('Cancel', () => (done(), this.cancel()), { appearance: 'secondary', id: 'bench-stop' }),
    );
    this.confirm.dataset.estimateMs = String(Math.round(q.estimateMs));
    this.confirm.hidden = false;
    this.progressLabel.textContent = `${backendName(q.backend)}: waiting for your answer (asked for ${asked.iterations} runs after ${asked.warmup} warm-ups)`;
    this.lastProgress = undefined;
  }

  /** Per-layer rows: the WebGPU steps where there are (fused layers share one), the CPU steps summed into them. */
  private layerRows(results: BenchBackendResult[]): LayerRow[] {
    const n = this.app.net;
    if (!n) return [];
    const profiled = results.filter((r) => r.layers.length);
    const base = profiled.find((r) => r.backend === 'webgpu') ?? profiled[0];
    if (!base) return [];
    const rows: LayerRow[] = base.layers.map((l) => ({ label: layerName(n.graph.nodes[l.nodes[0]]), nodes: l.nodes, macs: l.nodes.reduce((s, id) => s + n.layers[id].macs, 0), ms: new Map() }));
    const rowOf = new Map<number, LayerRow>();
    rows.forEach((r) => r.nodes.forEach((id) => rowOf.set(id, r)));
    for (const r of profiled) {
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

  /** Draws the current network's last result, or nothing. */
  private draw(): void {
    const last = this.shown.get(this.app.netKey());
    if (!last || !this.app.net) {
      this.result.replaceChildren();
      ui.setDisabled(this.copyButton, true);
      return;
    }
    const { res, macs } = last;
    const table = h('table', 'bench');
    const head = table.createTHead().insertRow();
    for (const c of ['Backend', 'Adapter', 'Runs', 'Median', 'p90', 'GFLOP/s (median)', 'Per-layer times']) head.append(h('th', undefined, c));
    for (const r of res.results) {
      const tr = table.createTBody().insertRow();
      tr.dataset.backend = r.backend;
      const med = median(r.times);
      const resolution = r.layerPasses ? `${r.method}; resolution ${duration(r.clockMs / r.layerPasses)} (clock step ${duration(r.clockMs)})` : r.method;
      for (const s of [backendName(r.backend), r.adapter, `${r.times.length}${r.partial ? ' (cancelled)' : ''}`, duration(med), duration(quantile(r.times, 0.9)), gflops(macs, med).toFixed(2), resolution]) tr.insertCell().textContent = s;
    }
    const rows = this.layerRows(res.results);
    const timed = res.results.filter((r) => r.layers.length);
    const series: BarSeries[] = timed.map((r) => ({
      name: `${backendName(r.backend)} time`,
      cls: r.backend,
      values: rows.map((row) => row.ms.get(r.backend) ?? 0),
      // The achieved rate goes in each time bar's label.
      format: (v: number, i: number) => (rows[i].macs && v > 0 ? `${layerTime(v)} · ${gflops(rows[i].macs, v).toFixed(2)} GFLOP/s` : layerTime(v)),
    }));
    series.push({ name: 'MACs', cls: 'macs', values: rows.map((r) => r.macs), format: metric });
    const chart = rows.length
      ? barChart(
          `Time per layer (${timed.map((r) => `${backendName(r.backend)}: ${r.method}`).join('; ')}) next to MACs`,
          rows.map((r) => ({ label: r.label, nodes: r.nodes })),
          series,
          (r) => r.nodes.length && this.app.select(r.nodes[0]),
        )
      : h('p', 'note', 'No per-layer times: the benchmark was cancelled before its passes were done.');
    const note = h('p', 'note', `${last.network}, batch 1, ${grouped(macs)} MACs per forward; GFLOP/s = 2 × MACs / time. A forward's time runs from writing the input to reading the output back.`);
    this.result.replaceChildren(note, table, chart);
    ui.setDisabled(this.copyButton, false);
  }

  private markdown(): string {
    const last = this.shown.get(this.app.netKey());
    if (!last) return '';
    const { res, macs, network } = last;
    const lines = [`### ${network}: benchmark`, '', `Batch 1, ${grouped(macs)} MACs per forward.`, '', '| backend | adapter | runs | median ms | p90 ms | GFLOP/s |', '|---|---|---:|---:|---:|---:|'];
    for (const r of res.results) {
      const med = median(r.times);
      lines.push(`| ${backendName(r.backend)} | ${r.adapter} | ${r.times.length} | ${med.toFixed(2)} | ${quantile(r.times, 0.9).toFixed(2)} | ${gflops(macs, med).toFixed(2)} |`);
    }
    const timed = res.results.filter((r) => r.layers.length);
    const rows = this.layerRows(res.results);
    lines.push('', `| layer | MACs | ${timed.map((r) => `${backendName(r.backend)} ms | ${backendName(r.backend)} GFLOP/s`).join(' | ')} |`, `|---|---:|${timed.map(() => '---:|---:').join('|')}|`);
    for (const row of rows) {
      const cells = timed.map((r) => {
        const ms = row.ms.get(r.backend) ?? 0;
        return `${ms.toFixed(4)} | ${row.macs && ms ? gflops(row.macs, ms).toFixed(2) : '—'}`;
      });
      lines.push(`| ${row.label} | ${grouped(row.macs)} | ${cells.join(' | ')} |`);
    }
    return lines.join('\n') + '\n';
  }

  private copyMarkdown(): void {
    const text = this.markdown();
    this.app.post({ type: 'copy', text });
    void navigator.clipboard?.writeText(text).catch(() => undefined);
    this.app.showMessage('Benchmark copied as Markdown.', 'info');
  }
}
