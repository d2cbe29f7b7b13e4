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
