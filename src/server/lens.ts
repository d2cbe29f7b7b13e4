import type { CodeLens } from 'vscode-languageserver';
import { bytes, compact, compute } from './format';
import type { DocModel } from './model';
import type { Settings } from './settings';

/** The commands the client implements (package.json `contributes.commands`). */
export const COMMANDS = {
  showAnalysis: 'cnn.showAnalysis',
  showNetwork: 'cnn.showNetwork',
  runOnImage: 'cnn.runOnImage',
  benchmark: 'cnn.benchmark',
} as const;

/** Above each network: params · MACs · peak memory · ▶ Run · ⏱ Benchmark · Show graph. */
export function codeLenses(model: DocModel, uri: string, settings: Settings): CodeLens[] {
  const out: CodeLens[] = [];
  for (const net of model.analysis.networks) {
    const range = { start: { line: net.graph.range.start.line, character: 0 }, end: { line: net.graph.range.start.line, character: 0 } };
    const args = [uri, net.graph.network];
    const t = net.totals;
    const c = compute(t.macs, settings);
    out.push(
      { range, command: { title: `${compact(t.params)} params · ${compact(c.value)} ${c.unit} · peak ${bytes(t.peakActivationBytes)}`, command: COMMANDS.showAnalysis, arguments: args } },
      { range, command: { title: '▶ Run', command: COMMANDS.runOnImage, arguments: args } },
      { range, command: { title: '⏱ Benchmark', command: COMMANDS.benchmark, arguments: args } },
      { range, command: { title: 'Show graph', command: COMMANDS.showNetwork, arguments: args } },
    );
  }
  return out;
}
