/** The Benchmark tab: timed forward passes per backend, per layer, with GFLOP/s and a Markdown copy. */
import type { App, TabView } from '../app';
import { barChart, type BarSeries } from '../charts';
import { h } from '../dom';
import type { BackendKind, BenchBackendResult, BenchResult } from '../engine/messages';
import { grouped, layerName, metric } from '../model';
import * as ui from '../ui/toolkit';

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

export class BenchTab implements TabView {
  private readonly benchButton: HTMLElement;
  private readonly cancelButton: HTMLElement;
  private readonly copyButton: HTMLElement;
  private readonly progress = h('div', 'progress');
  private readonly progressBar = h('div', 'fill');
  private readonly progressLabel = h('span', 'plabel');
  private readonly result = h('div', 'bench-result');
  private pending: { cancel(): void } | undefined;
  private last: { res: BenchResult; network: string; macs: number } | undefined;

  constructor(
    private readonly app: App,
    view: HTMLElement,
  ) {
    const state = app.state;
    this.benchButton = ui.button('Run benchmark', () => void this.bench(), { id: 'bench-button' });
    this.cancelButton = ui.button('Cancel', () => this.pending?.cancel(), { appearance: 'secondary', id: 'bench-cancel' });
    ui.setDisabled(this.cancelButton, true);
    this.copyButton = ui.button('Copy as Markdown', () => this.copyMarkdown(), { appearance: 'secondary', id: 'bench-copy' });
    ui.setDisabled(this.copyButton, true);
    const controls = h('div', 'toolbar');
    controls.append(
      ui.numberField('Runs', state.bench.iterations, (v) => ((app.state.bench.iterations = Math.max(1, Math.round(v))), app.save()), { id: 'bench-iterations', min: 1, max: 1000 }),
      ui.numberField('Warm-up', state.bench.warmup, (v) => ((app.state.bench.warmup = Math.max(0, Math.round(v))), app.save()), { id: 'bench-warmup', min: 0, max: 100 }),
      ui.checkbox('Compare with the CPU engine', state.bench.compareCpu, (v) => ((app.state.bench.compareCpu = v), app.save()), { id: 'bench-compare' }),
      this.benchButton,
      this.cancelButton,
      this.copyButton,
    );
    this.progress.id = 'bench-progress';
    this.progress.setAttribute('role', 'progressbar');
    this.progress.hidden = true;
    this.progress.append(this.progressBar, this.progressLabel);
    this.result.id = 'bench-result';
    view.append(controls, this.progress, this.result);
  }

  refresh(): void {}

  async bench(): Promise<void> {
    if (this.pending) return;
    const app = this.app;
    ui.setDisabled(this.benchButton, true);
    ui.setDisabled(this.cancelButton, false);
    this.progress.hidden = false;
    this.progressBar.style.width = '0%';
    this.progressLabel.textContent = 'Preparing…';
    try {
      const e = await app.loadEngine();
      const { state } = app;
      const primary = state.backend ?? 'cpu';
      const backends: BackendKind[] = [primary];
      if (state.bench.compareCpu && primary !== 'cpu') backends.push('cpu');
      if (primary === 'cpu' && state.bench.compareCpu && app.engine.gpuUsable()) backends.unshift('webgpu');
      const req = e.request<BenchResult>({ op: 'bench', backends, iterations: state.bench.iterations, warmup: state.bench.warmup }, (p) => {
        this.progressBar.style.width = `${(100 * p.done) / p.total}%`;
        this.progress.setAttribute('aria-valuenow', String(Math.round((100 * p.done) / p.total)));
        this.progressLabel.textContent = p.label;
      });
      this.pending = req;
      const res = await req.promise;
      this.last = { res, network: app.net!.graph.network, macs: app.net!.totals.macs };
      this.draw();
      if (res.cancelled) app.showMessage('Benchmark cancelled; the results so far are shown.', 'info');
    } catch (err) {
      app.showMessage(`Benchmark failed: ${(err as Error).message}`);
    } finally {
      this.pending = undefined;
      this.progress.hidden = true;
      ui.setDisabled(this.benchButton, false);
      ui.setDisabled(this.cancelButton, true);
    }
  }

  /** Per-layer rows: the WebGPU steps where there are (fused layers share one), the CPU layers summed into them. */
  private layerRows(results: BenchBackendResult[]): LayerRow[] {
    const n = this.app.net;
    if (!n) return [];
    const gpu = results.find((r) => r.backend === 'webgpu');
    const base = gpu ?? results[0];
    if (!base) return [];
    const rows: LayerRow[] = base.layers.map((l) => ({ label: layerName(n.graph.nodes[l.nodes[0]]), nodes: l.nodes, macs: l.nodes.reduce((s, id) => s + n.layers[id].macs, 0), ms: new Map() }));
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

  private draw(): void {
    if (!this.last || !this.app.net) return;
    const { res, macs } = this.last;
    const table = h('table', 'bench');
    const head = table.createTHead().insertRow();
    for (const c of ['Backend', 'Adapter', 'Runs', 'Median', 'p90', 'GFLOP/s (median)']) head.append(h('th', undefined, c));
    for (const r of res.results) {
      const tr = table.createTBody().insertRow();
      tr.dataset.backend = r.backend;
      const med = median(r.times);
      for (const s of [backendName(r.backend), r.adapter, String(r.times.length), `${med.toFixed(2)} ms`, `${quantile(r.times, 0.9).toFixed(2)} ms`, gflops(macs, med).toFixed(2)]) tr.insertCell().textContent = s;
    }
    const rows = this.layerRows(res.results);
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
    const chart = barChart(
      `Time per layer (${res.results.map((r) => `${backendName(r.backend)}: ${r.method}`).join('; ')}) next to MACs`,
      rows.map((r) => ({ label: r.label, nodes: r.nodes })),
      series,
      (r) => r.nodes.length && this.app.select(r.nodes[0]),
    );
    const note = h('p', 'note', `${this.last.network}, batch 1, ${grouped(macs)} MACs per forward; GFLOP/s = 2 × MACs / time. A forward's time runs from writing the input to reading the output back.`);
    this.result.replaceChildren(note, table, chart);
    ui.setDisabled(this.copyButton, false);
  }

  private markdown(): string {
    if (!this.last) return '';
    const { res, macs, network } = this.last;
    const lines = [`### ${network}: benchmark`, '', `Batch 1, ${grouped(macs)} MACs per forward.`, '', '| backend | adapter | runs | median ms | p90 ms | GFLOP/s |', '|---|---|---:|---:|---:|---:|'];
    for (const r of res.results) {
      const med = median(r.times);
      lines.push(`| ${backendName(r.backend)} | ${r.adapter} | ${r.times.length} | ${med.toFixed(2)} | ${quantile(r.times, 0.9).toFixed(2)} | ${gflops(macs, med).toFixed(2)} |`);
    }
    const rows = this.layerRows(res.results);
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

  private copyMarkdown(): void {
    const text = this.markdown();
    this.app.post({ type: 'copy', text });
    void navigator.clipboard?.writeText(text).catch(() => undefined);
    this.app.showMessage('Benchmark copied as Markdown.', 'info');
  }
}
