/**
 * `CNN: Export to PyTorch…` and `CNN: Export to ONNX…`: the network at the cursor, written where
 * the user says, through workspace.fs so that the web extension host can do it too. The export
 * itself is src/export (the same code as `cnn export`).
 */
import * as vscode from 'vscode';
import { analyzeText, type FileAnalysis, type NetworkAnalysis } from '../analysis';
import { ExportError } from '../export/common';
import { bytesText, EXPORT_EXTENSION, exportNetwork, networkAt, type ExportTarget, type WeightsChoice } from '../export/document';
import { PICKED_FILES_KEY } from './panel';
import { asUri, targetDocument } from './target';

const TITLE: Record<ExportTarget, string> = { pytorch: 'PyTorch', onnx: 'ONNX' };
const FILTERS: Record<ExportTarget, Record<string, string[]>> = { pytorch: { 'Python module': ['py'] }, onnx: { 'ONNX model': ['onnx'] } };

async function pickNetwork(doc: vscode.TextDocument, analysis: FileAnalysis, name: unknown): Promise<NetworkAnalysis | undefined> {
  if (typeof name === 'string') {
    const net = analysis.networks.find((n) => n.graph.network === name);
    if (!net) void vscode.window.showErrorMessage(`No network named '${name}' in ${doc.uri.path.split('/').pop()}.`);
    return net;
  }
  const editor = vscode.window.activeTextEditor;
  const at = editor?.document === doc ? networkAt(analysis, doc.offsetAt(editor.selection.active)) : analysis.networks.length === 1 ? analysis.networks[0] : undefined;
  if (at) return at;
  if (analysis.networks.length === 0) {
    void vscode.window.showErrorMessage("This file has no network to export (write 'network Name { ... }').");
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    analysis.networks.map((n) => ({ label: n.graph.network, net: n })),
    { placeHolder: 'The network to export' },
  );
  return picked?.net;
}

/** Seeded weights, a .safetensors file the panel already used, or one picked now. */
async function pickWeights(context: vscode.ExtensionContext): Promise<WeightsChoice | undefined> {
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri; browse?: boolean };
  const remembered = context.workspaceState
    .get<string[]>(PICKED_FILES_KEY, [])
    .filter((u) => u.endsWith('.safetensors'))
    .map((u) => vscode.Uri.parse(u));
  const items: Item[] = [
    { label: 'Seeded initialisation', description: 'seed 0', detail: 'He-initialised weights, batch norm as identity: the weights `cnn run` uses without --weights' },
    ...remembered.map((uri) => ({ label: uri.path.split('/').pop()!, description: vscode.workspace.asRelativePath(uri), uri })),
    { label: 'Choose a .safetensors file…', browse: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Weights to put in the ONNX model' });
  if (!picked) return undefined;
  let uri = picked.uri;
  if (picked.browse) {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use these weights', filters: { 'safetensors weights': ['safetensors'] } });
    uri = files?.[0];
    if (!uri) return undefined;
  }
  if (!uri) return { seed: 0 };
  return { file: { bytes: await vscode.workspace.fs.readFile(uri), name: uri.path.split('/').pop()! } };
}

function defaultTarget(doc: vscode.TextDocument, fileName: string): vscode.Uri | undefined {
  if (doc.uri.scheme !== 'untitled') return vscode.Uri.joinPath(doc.uri, '..', fileName);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder && vscode.Uri.joinPath(folder, fileName);
}

/**
 * Arguments (all optional, for code lenses and tests): the .cnn file, the network's name, the
 * output file (no save dialog then) and, for ONNX, a .safetensors file (no weights question).
 */
async function exportCommand(context: vscode.ExtensionContext, target: ExportTarget, args: unknown[]): Promise<vscode.Uri | undefined> {
  const [uriArg, nameArg, outArg, weightsArg] = args;
  const doc = await targetDocument(uriArg);
  if (!doc) {
    void vscode.window.showInformationMessage('Open a .cnn file first.');
    return undefined;
  }
  const analysis = analyzeText(doc.getText());
  const net = await pickNetwork(doc, analysis, nameArg);
  if (!net) return undefined;
  let weights: WeightsChoice | undefined = {};
  if (target === 'onnx') {
    const w = asUri(weightsArg);
    weights = w ? { file: { bytes: await vscode.workspace.fs.readFile(w), name: w.path.split('/').pop()! } } : outArg ? { seed: 0 } : await pickWeights(context);
    if (!weights) return undefined;
  }
  const fileName = `${net.graph.network}.${EXPORT_EXTENSION[target]}`;
  let out = asUri(outArg);
  out ??= await vscode.window.showSaveDialog({
    defaultUri: defaultTarget(doc, fileName),
    filters: FILTERS[target],
    saveLabel: `Export to ${TITLE[target]}`,
    title: `Export ${net.graph.network} to ${TITLE[target]}`,
  });
  if (!out) return undefined;
  const source = doc.uri.scheme === 'untitled' ? undefined : vscode.workspace.asRelativePath(doc.uri);
  try {
    const file = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Exporting ${net.graph.network} to ${TITLE[target]}…` },
      async () => {
        // Let the notification paint before a large model blocks the host for a moment.
        await new Promise((r) => setTimeout(r, 0));
        const f = exportNetwork(analysis, net, target, { ...weights, source: source ?? net.graph.network });
        await vscode.workspace.fs.writeFile(out!, f.data);
        return f;
      },
    );
    const name = out.path.split('/').pop();
    const action = target === 'pytorch' ? 'Open' : undefined;
    void vscode.window
      .showInformationMessage(`Wrote ${name} (${bytesText(file.data.byteLength)}): ${file.summary}`, ...(action ? [action] : []))
      .then((a) => (a === 'Open' ? vscode.window.showTextDocument(out!) : undefined));
    return out;
  } catch (e) {
    if (e instanceof ExportError) void vscode.window.showErrorMessage(`Export to ${TITLE[target]}: ${e.message}`);
    else void vscode.window.showErrorMessage(`Export to ${TITLE[target]} failed: ${(e as Error).message}`);
    return undefined;
  }
}

export function registerExportCommands(context: vscode.ExtensionContext): void {
  for (const target of ['pytorch', 'onnx'] as const) {
    const id = target === 'pytorch' ? 'cnn.exportPytorch' : 'cnn.exportOnnx';
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => exportCommand(context, target, args)));
  }
}
