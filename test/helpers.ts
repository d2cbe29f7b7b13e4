import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeText, type FileAnalysis, type NetworkAnalysis } from '../src/analysis';
import { runCli } from '../src/cli/main';
import type { Diagnostic } from '../src/language/diagnostics';

export const ROOT = join(__dirname, '..');

export function example(name: string): string {
  return readFileSync(join(ROOT, 'examples', name), 'utf8');
}

/** Analyses a network body written inside `network T { ... }` (plus optional blocks after it). */
export function net(body: string, blocks = ''): FileAnalysis {
  return analyzeText(`network T {\n${body}\n}\n${blocks}`);
}

export function only(a: FileAnalysis): NetworkAnalysis {
  if (a.networks.length !== 1) throw new Error(`expected one network, got ${a.networks.length}`);
  return a.networks[0];
}

/** The layer whose path is given; throws when there is none, so a test cannot pass vacuously. */
export function layer(n: NetworkAnalysis, path: string) {
  const node = n.graph.nodes.find((x) => x.path === path);
  if (!node) throw new Error(`no layer '${path}'; layers: ${n.graph.nodes.map((x) => x.path).join(', ')}`);
  return { node, info: n.layers[node.id] };
}

export function errors(a: FileAnalysis): Diagnostic[] {
  return a.diagnostics.filter((d) => d.severity === 'error');
}

/** `line:col` (1-based) and the text a diagnostic's range covers. */
export function where(text: string, d: Diagnostic): { at: string; text: string } {
  return { at: `${d.range.start.line + 1}:${d.range.start.character + 1}`, text: text.slice(d.range.start.offset, d.range.end.offset) };
}

/** Runs the `cnn` command in-process and collects what it prints. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
