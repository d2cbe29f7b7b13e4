/**
 * `CNN: Import ONNX Model…`: an ONNX model (picked, selected in the explorer, or the one open in
 * the ONNX editor below) imported beside itself through workspace.fs, so that the web extension
 * host can do it too, then the .cnn opened with its hints. Opening a .onnx file shows a small
 * read-only editor that says what the model is and offers the import. The import is src/import
 * (the same code as `cnn import`), the files' logic import-files.ts.
 */
import * as vscode from 'vscode';
import { decodeOnnx } from '../import/onnx-model';
import { importBeside, type ImportHost } from './import-files';
import { asUri } from './target';

export const IMPORT_COMMAND = 'cnn.importOnnx';
export const ONNX_EDITOR = 'cnn.onnxModel';

const fileName = (uri: vscode.Uri) => uri.path.split('/').pop() ?? uri.path;

function hostFor(dir: vscode.Uri): ImportHost {
  const at = (name: string) => vscode.Uri.joinPath(dir, name);
  return {
    exists: (name) =>
      Promise.resolve(vscode.workspace.fs.stat(at(name))).then(
        () => true,
        () => false,
      ),
    write: (name, data) => Promise.resolve(vscode.workspace.fs.writeFile(at(name), data)),
    remove: (name) => Promise.resolve(vscode.workspace.fs.delete(at(name))),
    confirmOverwrite: async (names) => {
      const replace = 'Replace';
      const answer = await vscode.window.showWarningMessage(
        `${names.join(', ')} ${names.length === 1 ? 'exists' : 'exist'} already. Replace ${names.length === 1 ? 'it' : 'them'}?`,
        { modal: true },
        replace,
      );
      return answer === replace;
    },
  };
}

/** The model: the argument (explorer, editor), the ONNX editor in front, or one picked now. */
async function modelUri(arg: unknown): Promise<vscode.Uri | undefined> {
  const given = asUri(arg);
  if (given) return given;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputCustom && tab.viewType === ONNX_EDITOR) return tab.uri;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Import', filters: { 'ONNX model': ['onnx'] }, title: 'Import an ONNX model as a .cnn network' });
  return picked?.[0];
}

/** Arguments (optional, for the explorer menu and tests): the model's URI. Returns the .cnn written. */
async function importCommand(arg: unknown): Promise<vscode.Uri | undefined> {
  const model = await modelUri(arg);
  if (!model) return undefined;
  const dir = vscode.Uri.joinPath(model, '..');
  const name = fileName(model);
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Importing ${name}…` }, async () => {
    // Let the notification paint before a large model blocks the host for a moment.
    await new Promise((r) => setTimeout(r, 0));
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(model);
    } catch (e) {
      return { t: 'failed' as const, message: `${name}: ${e instanceof Error ? e.message : String(e)}` };
    }
    return importBeside(hostFor(dir), name, bytes);
  });
  if (outcome.t === 'cancelled') return undefined;
  if (outcome.t === 'failed') {
    void vscode.window.showErrorMessage(`Import ONNX: ${outcome.message}`);
    return undefined;
  }
  const cnn = vscode.Uri.joinPath(dir, outcome.files[outcome.files.length - 1]);
  await vscode.window.showTextDocument(cnn, { preview: false });
  for (const w of outcome.result.warnings) void vscode.window.showWarningMessage(`Import ONNX: ${w}`);
  void vscode.window.showInformationMessage(`Imported ${name} as network ${outcome.network} (${outcome.summary}): wrote ${outcome.files.join(', ')}.`);
  return cnn;
}

/** A line on what the model is, or why it cannot be read. */
function describeModel(bytes: Uint8Array): string {
  try {
    const m = decodeOnnx(bytes);
    const ops = new Map<string, number>();
    for (const n of m.graph.nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
    const top = [...ops].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([op, n]) => `${op} ×${n}`).join(', ');
    return `${m.graph.nodes.length} nodes (${top}), ${m.graph.initializers.size} initializers, opset ${m.opset}`;
  } catch (e) {
    return `This file cannot be read as an ONNX model: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The ONNX editor: what the model holds, and a button that imports it. */
class OnnxEditor implements vscode.CustomReadonlyEditorProvider {
  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(doc: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    let about: string;
    try {
      const bytes = await vscode.workspace.fs.readFile(doc.uri);
      about = `${(bytes.byteLength / 1e6).toFixed(1)} MB: ${describeModel(bytes)}`;
    } catch (e) {
      about = `Cannot read the file: ${e instanceof Error ? e.message : String(e)}`;
    }
    const nonce = Array.from({ length: 16 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
    const name = escapeHtml(fileName(doc.uri));
    panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>body{font-family:var(--vscode-font-family);padding:1.5em;line-height:1.5}button{background:var(--vscode-button-background);color:var(--vscode-button-foreground);border:none;padding:.5em 1em;cursor:pointer}</style>
</head><body><h2>${name}</h2><p>${escapeHtml(about)}</p>
<p>Import it as a readable <code>.cnn</code> network with its weights beside it (<code>${escapeHtml(name.replace(/\.onnx$/i, ''))}.cnn</code>, <code>.safetensors</code>).</p>
<button id="import">Import as .cnn</button>
<script nonce="${nonce}">const vscode = acquireVsCodeApi(); document.getElementById('import').addEventListener('click', () => vscode.postMessage({ type: 'import' }));</script>
</body></html>`;
    panel.webview.onDidReceiveMessage((m: { type?: string }) => {
      if (m?.type === 'import') void vscode.commands.executeCommand(IMPORT_COMMAND, doc.uri);
    });
  }
}

export function registerImportCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(IMPORT_COMMAND, (arg: unknown) => importCommand(arg)),
    vscode.window.registerCustomEditorProvider(ONNX_EDITOR, new OnnxEditor(), { supportsMultipleEditorsPerDocument: true }),
  );
}
