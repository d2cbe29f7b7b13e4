/** The per-layer table, as the lecture's AlexNet table: output, memory, params, MACs, receptive field; sortable, with totals. */
import type { LayerInfo, NetworkAnalysis } from '../../src/analysis';
import type { GraphNode } from '../../src/graph/types';
import { bytes, describe, formatShape, grouped, layerName, metric, rfText } from './model';

export interface Column {
  key: string;
  label: string;
  numeric: boolean;
  title?: string;
  value(n: GraphNode, l: LayerInfo): number | string;
  show(n: GraphNode, l: LayerInfo): string;
}

const numelOf = (s: number[] | null) => (s ? s.reduce((a, d) => a * d, 1) : -1);

export const COLUMNS: Column[] = [
  { key: 'order', label: '#', numeric: true, value: (n) => n.id, show: (n) => String(n.id) },
  { key: 'name', label: 'Layer', numeric: false, value: (n) => layerName(n), show: (n) => layerName(n) },
  { key: 'kind', label: 'Kind', numeric: false, value: (n) => describe(n.attrs), show: (n) => describe(n.attrs) },
  { key: 'output', label: 'Output', numeric: true, value: (_, l) => numelOf(l.shape), show: (_, l) => formatShape(l.shape) },
  { key: 'memory', label: 'Memory', numeric: true, title: "The output's activation memory", value: (_, l) => l.activationBytes, show: (_, l) => bytes(l.activationBytes) },
  { key: 'params', label: 'Params', numeric: true, value: (_, l) => l.params, show: (_, l) => (l.params ? grouped(l.params) : '—') },
  { key: 'macs', label: 'MACs', numeric: true, title: 'Multiply-accumulates (FLOPs = 2 × MACs)', value: (_, l) => l.macs, show: (_, l) => (l.macs ? grouped(l.macs) : '—') },
  { key: 'rf', label: 'RF / stride', numeric: true, title: 'Receptive field in the input, and effective stride', value: (_, l) => l.rf?.size[0] ?? -1, show: (_, l) => rfText(l) },
];

export interface TableHandlers {
  select(id: number): void;
  sort(key: string): void;
  /** The RF cell was clicked: draw that layer's receptive field on the input. */
  field?(id: number): void;
}

export interface TableView {
  table: HTMLTableElement;
  mark(highlight: ReadonlySet<number>, selected: number | undefined): Element | undefined;
}

export function renderTable(net: NetworkAnalysis, sort: { key: string; dir: 1 | -1 } | undefined, h: TableHandlers): TableView {
  const table = document.createElement('table');
  table.className = 'layers';
  const head = table.createTHead().insertRow();
  for (const c of COLUMNS) {
    const th = document.createElement('th');
    th.textContent = c.label + (sort?.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : '');
    th.className = c.numeric ? 'num sortable' : 'sortable';
    th.dataset.key = c.key;
    th.tabIndex = 0;
    th.setAttribute('aria-sort', sort?.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none');
    if (c.title) th.title = c.title;
    th.addEventListener('click', () => h.sort(c.key));
    th.addEventListener('keydown', (e) => e.key === 'Enter' && h.sort(c.key));
    head.append(th);
  }
  const rows = net.graph.nodes.map((n) => ({ n, l: net.layers[n.id] }));
  const col = COLUMNS.find((c) => c.key === sort?.key);
  if (col && sort) {
    rows.sort((a, b) => {
      const x = col.value(a.n, a.l);
      const y = col.value(b.n, b.l);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return c * sort.dir || a.n.id - b.n.id;
    });
  }
  const body = table.createTBody();
  const byNode = new Map<number, HTMLTableRowElement>();
  for (const { n, l } of rows) {
    const tr = body.insertRow();
    tr.dataset.node = String(n.id);
    tr.tabIndex = 0;
    if (n.aux) tr.classList.add('aux');
    for (const c of COLUMNS) {
      const td = tr.insertCell();
      td.textContent = c.show(n, l);
      if (c.numeric) td.className = 'num';
      if (c.key === 'rf' && l.rf && l.shape?.length === 3 && h.field) {
        td.classList.add('rf-cell');
        td.title = 'Click: this receptive field drawn on the input (Run tab)';
        td.addEventListener('click', (e) => {
          e.stopPropagation();
          h.field!(n.id);
        });
      }
    }
    tr.addEventListener('click', () => h.select(n.id));
    tr.addEventListener('keydown', (e) => e.key === 'Enter' && h.select(n.id));
    byNode.set(n.id, tr);
  }
  const t = net.totals;
  const foot = table.createTFoot().insertRow();
  const cells = ['', 'Total', `depth ${t.depth}`, '', `${bytes(t.activationBytes)} (peak ${bytes(t.peakActivationBytes)})`, grouped(t.params), grouped(t.macs), ''];
  cells.forEach((s, i) => {
    const td = foot.insertCell();
    td.textContent = s;
    if (COLUMNS[i].numeric) td.className = 'num';
  });
  foot.cells[6].title = `${metric(t.macs)} MACs = ${metric(2 * t.macs)} FLOPs`;
  return {
    table,
    mark(highlight, selected) {
      let first: Element | undefined;
      for (const [id, tr] of byNode) {
        tr.classList.toggle('highlight', highlight.has(id));
        tr.classList.toggle('selected', id === selected);
        if (highlight.has(id) && !first) first = tr;
      }
      return first;
    },
  };
}
