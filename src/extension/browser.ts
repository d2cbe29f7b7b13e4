/** Web entry (vscode.dev, code-server's web extension host): starts the language server in a web worker. */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/browser';
import { clientOptions, registerCommands } from './commands';
import { registerNetworkPanel } from './panel';

let client: LanguageClient | undefined;

/**
 * The server's worker, from a blob of its bundle. `new Worker(uri.toString(true))` works where the
 * extension is served over https (vscode.dev), but a remote host (code-server, Codespaces) gives
 * the extension a `vscode-remote:` URI, and the web extension host refuses workers from those
 * ("Creating workers from remote extensions is currently not supported"). Its `fetch` does map
 * `vscode-remote:` and `file:` URIs to the browser's URL of the resource (and an https URI is
 * fetched as is), so fetching the bundle and starting the worker from a blob works in both.
 */
async function startServerWorker(extensionUri: vscode.Uri): Promise<{ worker: Worker; url: string }> {
  const main = vscode.Uri.joinPath(extensionUri, 'dist/server-browser.js');
  const res = await fetch(main.toString(true));
  if (!res.ok) throw new Error(`CNN: cannot load the language server (${main.toString(true)}: HTTP ${res.status})`);
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/javascript' }));
  return { worker: new Worker(url, { name: 'CNN Language Server' }), url };
}

export async function activate(context: vscode.ExtensionContext): Promise<{ client: LanguageClient }> {
  const { worker, url } = await startServerWorker(context.extensionUri);
  client = new LanguageClient('cnn', 'CNN Language Server', worker, clientOptions());
  registerCommands(context, client);
  registerNetworkPanel(context);
  await client.start();
  context.subscriptions.push({ dispose: () => void client?.stop() }, { dispose: () => URL.revokeObjectURL(url) });
  return { client };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
