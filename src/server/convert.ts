import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { Diagnostic } from '../language/diagnostics';
import type { Range } from '../language/range';

/** An LSP range: the analysis ranges also carry offsets, which stay on this side. */
export function lspRange(r: Range): { start: { line: number; character: number }; end: { line: number; character: number } } {
  return { start: { line: r.start.line, character: r.start.character }, end: { line: r.end.line, character: r.end.character } };
}

const SEVERITY: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** Ranges are already zero-based LSP positions (UTF-16 columns: JavaScript strings). */
export function toLspDiagnostic(d: Diagnostic, uri: string): LspDiagnostic {
  return {
    range: lspRange(d.range),
    severity: SEVERITY[d.severity],
    code: d.code,
    source: 'cnn',
    message: d.message,
    relatedInformation: d.related?.map((r) => ({ location: { uri, range: lspRange(r.range) }, message: r.message })),
  };
}

/**
 * The most diagnostics the server publishes for one file. Random bytes give thousands, which
 * no one reads and which slow every editor down; `cnn check FILE` prints them all.
 */
export const MAX_DIAGNOSTICS = 100;

const RANK: Record<Diagnostic['severity'], number> = { error: 0, warning: 1, info: 2, hint: 3 };

/**
 * What the server publishes: all the diagnostics when there are at most `MAX_DIAGNOSTICS`,
 * else the most severe `MAX_DIAGNOSTICS` (errors first, then in document order) and one more
 * that says how many of each severity are left out, where the first of them is.
 */
export function publishedDiagnostics(ds: readonly Diagnostic[], uri: string): LspDiagnostic[] {
  if (ds.length <= MAX_DIAGNOSTICS) return ds.map((d) => toLspDiagnostic(d, uri));
  const order = ds.map((_, i) => i);
  // A stable sort by severity keeps document order within one (the analysis sorts by position).
  order.sort((a, b) => RANK[ds[a].severity] - RANK[ds[b].severity] || a - b);
  const kept = order.slice(0, MAX_DIAGNOSTICS).sort((a, b) => a - b);
  const left = order.slice(MAX_DIAGNOSTICS).sort((a, b) => a - b);
  const counts = new Map<Diagnostic['severity'], number>();
  for (const i of left) counts.set(ds[i].severity, (counts.get(ds[i].severity) ?? 0) + 1);
  const worst = ds[left.reduce((w, i) => (RANK[ds[i].severity] < RANK[ds[w].severity] ? i : w), left[0])].severity;
  const names: Record<Diagnostic['severity'], string> = { error: 'error', warning: 'warning', info: 'note', hint: 'hint' };
  const parts = (['error', 'warning', 'info', 'hint'] as const)
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)!.toLocaleString('en-US')} ${names[s]}${counts.get(s) === 1 ? '' : 's'}`);
  const out = kept.map((i) => toLspDiagnostic(ds[i], uri));
  out.push({
    range: lspRange(ds[left[0]].range),
    severity: SEVERITY[worst],
    code: 'too-many-diagnostics',
    source: 'cnn',
    message: `${left.length.toLocaleString('en-US')} more problems not shown here (${parts.join(', ')}), the first of them here: the editor gets at most ${MAX_DIAGNOSTICS} per file; \`cnn check\` lists them all`,
  });
  return out;
}
