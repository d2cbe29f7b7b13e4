/** What `cnn analyze` prints: the torchinfo-style table, Markdown, CSV or the `--json` contract. */
import type { FileAnalysis, NetworkAnalysis } from '../analysis';
import { bytes, grouped, humanReport, layerTable, markdownTable, networkTitle, summaryLines, table, type Column } from '../analysis/format';
import { formatShape } from '../analysis/layer-math';
import type { Diagnostic } from '../language/diagnostics';
import { depthRows, type DepthRow } from './rows';

// Moved below the server and the webview (src/analysis/format.ts); re-exported for the old imports.
export { diagnosticLine, humanReport } from '../analysis/format';

export const FORMATS = ['table', 'md', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

function line(d: Diagnostic): { line: number; column: number } {
  return { line: d.range.start.line + 1, column: d.range.start.character + 1 };
}

/** A diagnostic as `check --json` and `analyze --json` list it: 1-based, with its end and code. */
export function jsonDiagnostic(d: Diagnostic): { line: number; column: number; endLine: number; endColumn: number; severity: string; code: string | undefined; message: string } {
  return { ...line(d), severity: d.severity, message: d.message, code: d.code, endLine: d.range.end.line + 1, endColumn: d.range.end.character + 1 };
}

/** The `--json` contract of CLI.md, with extra fields added, none renamed; `depth` adds `depthRows`. */
export function jsonReport(file: string, analysis: FileAnalysis, nets: NetworkAnalysis[], depth?: number): unknown {
  return {
    file,
    networks: nets.map((net) => ({
      name: net.graph.network,
      input: net.input,
      output: net.output,
      dtype: net.dtype,
      totals: {
        params: net.totals.params,
        macs: net.totals.macs,
        activationBytes: net.totals.activationBytes,
        peakActivationBytes: net.totals.peakActivationBytes,
        depth: net.totals.depth,
        buffers: net.totals.buffers,
        flops: 2 * net.totals.macs,
        elementwiseOps: net.totals.ops,
        auxMacs: net.totals.auxMacs,
      },
      layers: net.layers.map((l) => {
        const node = net.graph.nodes[l.node];
        return {
          path: node.path,
          kind: node.attrs.kind,
          ...line({ range: node.range } as Diagnostic),
          output: l.shape,
          params: l.params,
          macs: l.macs,
          activationBytes: l.activationBytes,
          rf: l.rf,
          buffers: l.buffers,
          elementwiseOps: l.ops,
          ownField: l.ownField,
          inputs: node.inputs.map((i) => net.graph.nodes[i].path),
          calls: node.calls.map((c) => ({ block: c.block, line: c.range.start.line + 1 })),
          aux: node.aux || undefined,
        };
      }),
      ...(depth === undefined ? {} : { depthRows: depthRows(net, depth) }),
    })),
    diagnostics: analysis.diagnostics.map(jsonDiagnostic),
  };
}

const DEPTH_COLUMNS: Column[] = [
  { header: 'Layer (path)', align: 'left' },
  { header: 'Kind', align: 'left' },
  { header: 'Output', align: 'left' },
  { header: 'Params', align: 'right' },
  { header: 'MACs', align: 'right' },
  { header: 'Memory', align: 'right' },
  { header: 'Layers', align: 'right' },
];

function depthCells(r: DepthRow): string[] {
  return [r.path, r.kind, formatShape(r.output), r.params ? grouped(r.params) : '—', r.macs ? grouped(r.macs) : '—', r.output ? bytes(r.activationBytes) : '?', String(r.layers)];
}

/** The columns, rows and totals row of one network, per layer or (with a depth) per block. */
function tableOf(net: NetworkAnalysis, depth: number | undefined): { columns: Column[]; rows: string[][]; footer: string[] } {
  if (depth === undefined) return layerTable(net);
  const t = net.totals;
  return {
    columns: DEPTH_COLUMNS,
    rows: depthRows(net, depth).map(depthCells),
    footer: ['Total', '', formatShape(net.output), grouped(t.params), grouped(t.macs), bytes(t.activationBytes), String(net.layers.length)],
  };
}

/** The human report: the default table, or its Markdown twin with the totals as a list. */
export function textReport(net: NetworkAnalysis, file: string, format: 'table' | 'md', depth?: number): string {
  if (format === 'table' && depth === undefined) return humanReport(net, file);
  const { columns, rows, footer } = tableOf(net, depth);
  const summary = summaryLines(net);
  if (format === 'table') {
    const w = Math.max(...summary.map(([k]) => k.length));
    return [`${networkTitle(net)}  (${file})`, table(columns, rows, footer), ...summary.map(([k, v]) => `${k.padEnd(w)}  ${v}`)].join('\n');
  }
  return [`## ${networkTitle(net)}`, '', `\`${file}\``, '', markdownTable(columns, rows, footer), '', ...summary.map(([k, v]) => `- **${k}**: ${v}`)].join('\n');
}

/** RFC 4180: quoted where a comma, a quote or a line break needs it. */
function csvCell(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One CSV header and a row per layer (or per block with a depth) of every network, numbers
 * exact and unformatted, shapes as `64x56x56`, for spreadsheets and scripts.
 */
export function csvReport(nets: NetworkAnalysis[], depth?: number): string {
  const header = ['network', 'path', 'kind', 'line', 'output', 'params', 'buffers', 'macs', 'elementwise_ops', 'activation_bytes', ...(depth === undefined ? ['rf_size', 'rf_stride'] : ['layers'])];
  const out = [header.join(',')];
  const shape = (s: number[] | null) => (s ? s.join('x') : '');
  const pair = (p: [number, number] | undefined) => (p ? (p[0] === p[1] ? String(p[0]) : `${p[0]}x${p[1]}`) : '');
  for (const net of nets) {
    if (depth !== undefined) {
      for (const r of depthRows(net, depth)) out.push([net.graph.network, r.path, r.kind, r.line, shape(r.output), r.params, r.buffers, r.macs, r.elementwiseOps, r.activationBytes, r.layers].map(csvCell).join(','));
      continue;
    }
    for (const l of net.layers) {
      const node = net.graph.nodes[l.node];
      out.push([net.graph.network, node.path, node.attrs.kind, node.range.start.line + 1, shape(l.shape), l.params, l.buffers, l.macs, l.ops, l.activationBytes, pair(l.rf?.size), pair(l.rf?.stride)].map(csvCell).join(','));
    }
  }
  return out.join('\n');
}
