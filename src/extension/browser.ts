/** Web entry (vscode.dev): starts the language server in a web worker. */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/browser';
import { clientOptions, registerCommands } from './commands';
import { registerNetworkPanel } from './panel';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ client: LanguageClient }> {
  const main = vscode.Uri.joinPath(context.extensionUri, 'dist/server-browser.js');
  const worker = new Worker(main.toString(true));
  client = new LanguageClient('cnn', 'CNN Language Server', worker, clientOptions());
  registerCommands(context, client);
  registerNetworkPanel(context);
  await client.start();
  context.subscriptions.push({ dispose: () => void client?.stop() });
  return { client };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
