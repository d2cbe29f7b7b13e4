import type { Range } from './range';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/** A text change that a quick fix applies. */
export interface TextEdit {
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface RelatedInfo {
  range: Range;
  message: string;
}

/**
 * Diagnostics stay plain data so that the CLI prints them, the language server turns them
 * into LSP diagnostics and their fixes into code actions, and tests compare them.
 */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  range: Range;
  message: string;
  fixes?: Fix[];
  related?: RelatedInfo[];
}

export type DiagnosticCode =
  | 'lex'
  | 'syntax'
  | 'unknown-layer'
  | 'unknown-argument'
  | 'duplicate-argument'
  | 'missing-argument'
  | 'too-many-arguments'
  | 'argument-type'
  | 'argument-value'
  | 'division'
  | 'unknown-name'
  | 'duplicate-definition'
  | 'duplicate-label'
  | 'label'
  | 'recursion'
  | 'expansion-limit'
  | 'too-large'
  | 'input'
  | 'channel-mismatch'
  | 'shape-mismatch'
  | 'spatial-mismatch'
  | 'needs-flat'
  | 'needs-spatial'
  | 'output-too-small'
  | 'stride-drops'
  | 'groups'
  | 'same-even-kernel'
  | 'empty-network'
  | 'unused-block';

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.range.start.offset - b.range.start.offset || a.range.end.offset - b.range.end.offset;
}
