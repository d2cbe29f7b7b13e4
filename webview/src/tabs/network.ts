/** The Network tab: summary, the file's errors, the graph, the layer table and the charts. */
import type { App, TabView } from '../app';
import { barChart, type BarRow, type BarSeries, lineChart } from '../charts';
import { h } from '../dom';
import { drawGraph, graphModel, TextMeasure } from '../graph-view';
import { bytes, formatShape, grouped, layerName, metric, stageOf } from '../model';
import { renderTable } from '../table-view';
import * as ui from '../ui/toolkit';

export class NetworkTab implements TabView {
  private readonly summary = h('div', 'summary');
  private readonly graphBox = h('div', 'graph-box');
  private readonly tableBox = h('div', 'table-box');
  private readonly chartBox = h('div', 'chart-box');
  private readonly diagBox = h('div', 'diagnostics');
  /** Counts graph requests: a layout that comes back after a newer request is dropped. */
  private graphGen = 0;
  /** The network whose graph the box shows (another network's is cleared at once, not left until the new layout arrives). */
  private graphOf = '';

  constructor(
    private readonly app: App,
    view: HTMLElement,
  ) {
    this.summary.id = 'summary';
    this.graphBox.id = 'graph';
    this.tableBox.id = 'table';
    this.chartBox.id = 'charts';
    const toolbar = h('div', 'toolbar');
    toolbar.append(
      ui.button('Expand all', () => this.setCollapsed(new Set()), { appearance: 'secondary', id: 'expand-all' }),
      ui.button('Collapse blocks', () => this.setCollapsed(new Set(app.blocks.filter((b) => b.depth === 0).map((b) => b.key))), { appearance: 'secondary', id: 'collapse-all' }),
      ui.dropdown(
        [
          { value: 'auto', label: 'Charts: auto' },
          { value: 'layer', label: 'Charts: per layer' },
          { value: 'stage', label: 'Charts: per stage' },
        ],
        app.state.chartMode ?? 'auto',
        (v) => {
          app.state.chartMode = v === 'auto' ? undefined : (v as 'layer' | 'stage');
          app.save();
          this.renderCharts();
        },
        { id: 'chart-mode' },
      ),
    );
    view.append(
      this.summary,
      this.diagBox,
      toolbar,
      h('h3', undefined, 'Graph'),
      this.graphBox,
      h('h3', undefined, 'Layers'),
      this.tableBox,
      h('h3', undefined, 'Compute and receptive field'),
      this.chartBox,
    );
  }

  private collapsedSet(): Set<string> {
    const { net, blocks, state } = this.app;
    if (!net) return new Set();
    const name = net.graph.network;
    if (!state.touched.includes(name)) {
      // Big networks start with their top-level blocks collapsed.
      return new Set(net.graph.nodes.length > 60 ? blocks.filter((b) => b.depth === 0).map((b) => b.key) : []);
    }
    return new Set(state.collapsed[name] ?? []);
  }

  private setCollapsed(keys: Set<string>): void {
    const { net, state } = this.app;
    if (!net) return;
    const name = net.graph.network;
    if (!state.touched.includes(name)) state.touched.push(name);
    state.collapsed[name] = [...keys];
    this.app.save();
    this.refresh();
  }

  refresh(): void {
    const app = this.app;
    const { net, analysis, state } = app;
    app.clearMarks();
    if (!net || !analysis) {
      this.summary.textContent = analysis ? 'This file defines no network.' : 'Waiting for a .cnn document…';
      this.graphGen++;
      this.graphOf = '';
      this.graphBox.replaceChildren();
      this.tableBox.replaceChildren();
      this.chartBox.replaceChildren();
      this.diagBox.replaceChildren();
      return;
    }
    const t = net.totals;
    this.summary.textContent = `${net.graph.network}: input ${formatShape(net.input)} → ${formatShape(net.output)} · ${grouped(t.params)} params · ${metric(t.macs)} MACs (${metric(2 * t.macs)} FLOPs) · activations ${bytes(t.activationBytes)}, peak ${bytes(t.peakActivationBytes)} · depth ${t.depth}`;
    const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
    this.diagBox.replaceChildren(
      ...errors.slice(0, 5).map((d) => {
        const p = h('div', 'diagnostic', `Line ${d.range.start.line + 1}: ${d.message}`);
        p.addEventListener('click', () => app.reveal(d.range));
        return p;
      }),
    );
    this.drawGraph();
    const table = renderTable(net, state.sort, {
      select: (id) => app.select(id),
      field: (id) => app.showField(id),
      sort: (key) => {
        state.sort = key === 'order' ? undefined : { key, dir: state.sort?.key === key ? ((-state.sort.dir) as 1 | -1) : 1 };
        app.save();
        this.refresh();
      },
    });
    this.tableBox.replaceChildren(table.table);
    app.addMark(table.mark);
    this.renderCharts();
    app.markAll(false);
  }

  /** Lays the graph out in the layout worker and draws it when the layout comes back (if still wanted). */
  private drawGraph(): void {
    const app = this.app;
    const net = app.net!;
    const gen = ++this.graphGen;
    const owner = `${app.state.uri}#${net.graph.network}`;
    if (owner !== this.graphOf) {
      this.graphOf = owner;
      this.graphBox.replaceChildren(h('p', 'note', 'Laying out the graph…'));
    }
    const fail = (e: unknown) => {
      if (gen === this.graphGen) this.graphBox.replaceChildren(h('p', 'error', `The graph could not be drawn: ${(e as Error).message}`));
    };
    try {
      const measure = new TextMeasure();
      const model = graphModel(net, app.blocks, this.collapsedSet(), measure);
      app.layout.layout(model.input).then((out) => {
        if (gen !== this.graphGen) return;
        try {
          const g = drawGraph(net, model, out, {
            selectNode: (id) => app.select(id),
            selectBlock: (b) => app.reveal(b.call),
            toggle: (key) => {
              const s = this.collapsedSet();
              if (s.has(key)) s.delete(key);
              else s.add(key);
              this.setCollapsed(s);
            },
          }, measure);
          this.graphBox.replaceChildren(g.svg);
          app.addMark(g.mark);
          app.markAll(false);
        } catch (e) {
          fail(e);
        }
      }, fail);
    } catch (e) {
      fail(e);
    }
  }

  private renderCharts(): void {
    const app = this.app;
    const n = app.net;
    if (!n) return;
    const heavy = n.graph.nodes.filter((x) => n.layers[x.id].macs > 0 || n.layers[x.id].params > 0);
    const mode = app.state.chartMode ?? (heavy.length > 40 ? 'stage' : 'layer');
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
    const bars = barChart(`MACs and parameters per ${mode}`, rows, series, (r) => r.nodes.length && app.select(r.nodes[0]));
    const spatial = n.graph.nodes.filter((x) => n.layers[x.id].rf && x.attrs.kind !== 'input');
    const rf = lineChart(
      'Receptive field through depth',
      spatial.map((x) => ({ label: layerName(x), value: n.layers[x.id].rf!.size[0], node: x.id })),
      { name: 'effective stride', values: spatial.map((x) => n.layers[x.id].rf!.stride[0]) },
      'RF (px)',
      (p) => app.select(p.node),
    );
    this.chartBox.replaceChildren(bars, rf);
  }
}
