import type { FileAnalysis, NetworkAnalysis } from '../analysis';
import { formatShape } from '../analysis/layer-math';
import { ratioText } from '../layers/ratio';
import type { Diagnostic } from '../language/diagnostics';
import { bytes, grouped, metric, table } from './format';

/** `file:line:col: severity: message`, 1-based, as `cnn check` prints it. */
export function diagnosticLine(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message}`;
}

function rfText(a: NetworkAnalysis['layers'][number]['rf']): string {
  if (!a) return '—';
  const sq = (p: [number, number]) => (p[0] === p[1] ? ratioText(p[0]) : `${ratioText(p[0])}×${ratioText(p[1])}`);
  return `${sq(a.size)} / ${sq(a.stride)}`;
}

/** The per-layer table and the totals, torchinfo-style, with MACs and FLOPs labelled apart. */
export function humanReport(net: NetworkAnalysis, file: string): string {
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
  const tbl = table(
    [
      { header: 'Layer (path)', align: 'left' },
      { header: 'Kind', align: 'left' },
      { header: 'Output', align: 'left' },
      { header: 'Params', align: 'right' },
      { header: 'MACs', align: 'right' },
      { header: 'Memory', align: 'right' },
      { header: 'RF size / stride', align: 'right' },
    ],
    rows,
    ['Total', '', formatShape(net.output), grouped(t.params), grouped(t.macs), bytes(t.activationBytes), ''],
  );
  const dtypeBytes = net.dtype === 'float32' ? 4 : net.dtype === 'int8' ? 1 : 2;
  const summary: [string, string][] = [
    ['Input', `${formatShape(net.input)}  (batch 1, ${net.dtype})`],
    ['Output', formatShape(net.output)],
    ['Parameters', `${grouped(t.params)}  (${metric(t.params)}, ${bytes(t.params * dtypeBytes)} as ${net.dtype})`],
    ['Buffers (bn running stats)', grouped(t.buffers)],
    ['MACs (multiply-accumulates)', `${grouped(t.macs)}  (${metric(t.macs)})`],
    ['FLOPs (= 2 × MACs)', `${grouped(2 * t.macs)}  (${metric(2 * t.macs)})`],
    ['Element-wise ops (apart)', `${grouped(t.ops)}  (${metric(t.ops)})`],
    ['Activation memory, sum', bytes(t.activationBytes)],
    ['Activation memory, peak live', bytes(t.peakActivationBytes)],
    ['Depth (conv + linear, longest path)', String(t.depth)],
  ];
  const w = Math.max(...summary.map(([k]) => k.length));
  return [
    `${net.graph.network}  (${file})`,
    tbl,
    ...summary.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
  ].join('\n');
}

function line(d: Diagnostic): { line: number; column: number } {
  return { line: d.range.start.line + 1, column: d.range.start.character + 1 };
}

/** The `--json` contract of CLI.md, with extra fields added, none renamed. */
export function jsonReport(file: string, analysis: FileAnalysis, nets: NetworkAnalysis[]): unknown {
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
    })),
    diagnostics: analysis.diagnostics.map((d) => ({
      ...line(d),
      severity: d.severity,
      message: d.message,
      code: d.code,
      endLine: d.range.end.line + 1,
      endColumn: d.range.end.character + 1,
    })),
  };
}
