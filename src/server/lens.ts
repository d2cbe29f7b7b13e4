import type { CodeLens } from 'vscode-languageserver';
import { ExtensionCommands, ServerCommands } from '../protocol/lsp-ext';
import { bytes, compact, compute } from './format';
import type { DocModel } from './model';
import { doubtOf } from './problems';
import type { Settings } from './settings';

/**
 * Above each network: params · MACs · peak memory, then ▶ Run, ⏱ Benchmark and Show graph.
 * A lens's command runs in the client, so each is offered only to a client that said it can
 * run it (`clientCommands`: the VS Code extension); any other editor gets the totals lens with
 * the server's own command (the analysis table through `workspace/executeCommand`) and no
 * Run, Benchmark or graph, which need the extension's panel.
 */
export function codeLenses(model: DocModel, uri: string, settings: Settings, clientCommands: ReadonlySet<string>): CodeLens[] {
  const out: CodeLens[] = [];
  const table = clientCommands.has(ExtensionCommands.showAnalysis) ? ExtensionCommands.showAnalysis : ServerCommands.analysisTable;
  const panel = (
    [
      ['▶ Run', ExtensionCommands.runOnImage],
      ['⏱ Benchmark', ExtensionCommands.benchmark],
      ['Show graph', ExtensionCommands.showNetwork],
    ] as const
  ).filter(([, command]) => clientCommands.has(command));
  model.analysis.networks.forEach((net, i) => {
    const range = { start: { line: net.graph.range.start.line, character: 0 }, end: { line: net.graph.range.start.line, character: 0 } };
    const args = [uri, net.graph.network];
    const t = net.totals;
    const doubt = doubtOf(model, i);
    let title: string;
    if (doubt.first) {
      // A total past an error would be a guess: what the layers that do not depend on it hold.
      let params = 0;
      let macs = 0;
      net.layers.forEach((l, id) => {
        if (doubt.cause[id]) return;
        params += l.params;
        macs += l.macs;
      });
      const c = compute(macs, settings);
      title = `⚠ no totals: error on line ${doubt.first.range.start.line + 1} · before it ${compact(params)} params · ${compact(c.value)} ${c.unit}`;
    } else {
      const c = compute(t.macs, settings);
      title = `${compact(t.params)} params · ${compact(c.value)} ${c.unit} · peak ${bytes(t.peakActivationBytes)}`;
    }
    out.push({ range, command: { title, command: table, arguments: args } });
    for (const [title, command] of panel) out.push({ range, command: { title, command, arguments: args } });
  });
  return out;
}
