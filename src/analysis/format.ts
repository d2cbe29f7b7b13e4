/**
 * Text formatting of analysis results shared by the CLI, the language server and the webview:
 * numbers, byte sizes, plain-text and Markdown tables, diagnostic lines and the torchinfo-style
 * report. Plain TypeScript (no Node, no DOM), so that every consumer sits above it.
 */
import type { Diagnostic } from '../language/diagnostics';
import type { NetworkAnalysis } from './analyze';
import { ratioText } from '../layers/ratio';
import { formatShape } from './layer-math';

export function grouped(n: number): string {
  // toLocaleString('en-US') written out for safe integers: the locale call costs a microsecond
  // or more, and the server's whole-file hints for 10,000 layers make 40,000 of them.
  const r = Math.round(n);
  if (!Number.isSafeInteger(r)) return r.toLocaleString('en-US');
  if (r === 0) return Object.is(r, -0) ? '-0' : '0';
  const digits = String(r < 0 ? -r : r);
  let i = digits.length % 3 || 3;
  let out = digits.slice(0, i);
  for (; i < digits.length; i += 3) out += ',' + digits.slice(i, i + 3);
  return r < 0 ? `-${out}` : out;
}

/** 1.43 G, 61.1 M, 23.3 K: for the headline figures next to the exact ones. */
export function metric(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)} ${u}`;
  return String(n);
}

/** Binary units, as the lecture's "784 KB" for 802,816 bytes (shown as KiB to be exact). */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${n} B`;
  const text = Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(1) : v.toFixed(2);
  return `${text} ${units[i]}`;
}

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align: Align;
}

/** A plain-text table with a rule under the header and before an optional footer row. */
export function table(columns: Column[], rows: string[][], footer?: string[]): string {
  const all = footer ? [...rows, footer] : rows;
  const widths = columns.map((c, i) => Math.max(c.header.length, ...all.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, w) => a + w, 0) + 2 * (widths.length - 1));
  const out = [rule, line(columns.map((c) => c.header)), rule, ...rows.map(line)];
  if (footer) out.push(rule, line(footer));
  out.push(rule);
  return out.join('\n');
}

/** A cell of a Markdown table: pipes escaped, line breaks flattened, so that one row stays one row. */
export function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub-flavoured Markdown table; the footer, if any, becomes a last row in bold. */
export function markdownTable(columns: Column[], rows: string[][], footer?: string[]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => markdownCell(c)).join(' | ')} |`;
  const out = [line(columns.map((c) => c.header)), `|${columns.map((c) => (c.align === 'right' ? '---:' : ':---')).join('|')}|`, ...rows.map(line)];
  if (footer) out.push(line(footer.map((c) => (c ? `**${c}**` : ''))));
  return out.join('\n');
}

/** `file:line:col: severity: message`, 1-based, as `cnn check` prints it. */
export function diagnosticLine(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message}`;
}

function rfText(a: NetworkAnalysis['layers'][number]['rf']): string {
  if (!a) return '—';
  const sq = (p: [number, number]) => (p[0] === p[1] ? ratioText(p[0]) : `${ratioText(p[0])}×${ratioText(p[1])}`);
  return `${sq(a.size)} / ${sq(a.stride)}`;
}

/** The per-layer table's columns, one row per layer, and the totals row. */
export function layerTable(net: NetworkAnalysis): { columns: Column[]; rows: string[][]; footer: string[] } {
  const rows = net.layers.map((l) => {
    const node = net.graph.nodes[l.node];
    return [
      node.path,
      node.attrs.kind,
      formatShape(l.shape),
      l.params ? grouped(l.params) : '—',
      l.macs ? grouped(l.macs) : '—',
      l.shape ? bytes(l.activationBytes) : '?',
      rfText(l.rf),
    ];
  });
  const t = net.totals;
  return {
    columns: [
      { header: 'Layer (path)', align: 'left' },
      { header: 'Kind', align: 'left' },
      { header: 'Output', align: 'left' },
      { header: 'Params', align: 'right' },
      { header: 'MACs', align: 'right' },
      { header: 'Memory', align: 'right' },
      { header: 'RF size / stride', align: 'right' },
    ],
    rows,
    footer: ['Total', '', formatShape(net.output), grouped(t.params), grouped(t.macs), bytes(t.activationBytes), ''],
  };
}

/** The totals under the table, as label and value pairs. */
export function summaryLines(net: NetworkAnalysis): [string, string][] {
  const t = net.totals;
  const dtypeBytes = net.dtype === 'float32' ? 4 : net.dtype === 'int8' ? 1 : 2;
  return [
    ['Input', `${formatShape(net.input)}  (batch 1, ${net.dtype})`],
    ['Output', formatShape(net.output)],
    ['Parameters', `${grouped(t.params)}  (${metric(t.params)}, ${bytes(t.params * dtypeBytes)} as ${net.dtype})`],
    ['Buffers (bn running stats)', grouped(t.buffers)],
    ['MACs (multiply-accumulates)', `${grouped(t.macs)}  (${metric(t.macs)})`],
    ['FLOPs (= 2 × MACs)', `${grouped(2 * t.macs)}  (${metric(2 * t.macs)})`],
    ...(t.auxMacs ? [['MACs of the aux heads (apart)', `${grouped(t.auxMacs)}  (${metric(t.auxMacs)})`] as [string, string]] : []),
    ['Element-wise ops (apart)', `${grouped(t.ops)}  (${metric(t.ops)})`],
    ['Activation memory, sum', bytes(t.activationBytes)],
    ['Activation memory, peak live', bytes(t.peakActivationBytes)],
    ['Depth (conv + linear, longest path)', String(t.depth)],
  ];
}

/** The per-layer table and the totals, torchinfo-style, with MACs and FLOPs labelled apart. */
export function humanReport(net: NetworkAnalysis, file: string): string {
  const { columns, rows, footer } = layerTable(net);
  const summary = summaryLines(net);
  const w = Math.max(...summary.map(([k]) => k.length));
  return [`${networkTitle(net)}  (${file})`, table(columns, rows, footer), ...summary.map(([k, v]) => `${k.padEnd(w)}  ${v}`)].join('\n');
}

/** The network's name for a heading; a network whose name is missing (a parse error says so) still gets a readable one. */
export function networkTitle(net: NetworkAnalysis): string {
  return net.graph.network || '(unnamed network)';
}
