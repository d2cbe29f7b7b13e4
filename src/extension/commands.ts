/**
 * Commands and client options shared by the desktop and the web client. The network panel's
 * commands (show graph, run, benchmark) are registered by panel.ts.
 */
import * as vscode from 'vscode';
import type { BaseLanguageClient, LanguageClientOptions } from 'vscode-languageclient';
import { registerExampleCommands } from './examples';
import { registerExportCommands } from './export';
import { registerImportCommands } from './import';
import { AnalysisTableRequest, VSCODE_CLIENT_COMMANDS, type AnalysisTableResult, type InitializationOptions } from '../protocol/lsp-ext';
import { targetDocument } from './target';

/**
 * The `cnn.*` settings as plain JSON. A WorkspaceConfiguration also carries its methods (get,
 * update, inspect): Node's IPC drops them silently, but a web worker's postMessage cannot clone
 * a function and throws, which stopped the web extension from activating. Its values are its
 * own enumerable properties, so a JSON round trip keeps exactly them.
 */
export function settingsSnapshot(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('cnn'))) as Record<string, unknown>;
}

export function clientOptions(): LanguageClientOptions {
  // clientCommands: the server puts these commands in code lenses and completions only for a
  // client that lists them (other editors get commands the server runs itself).
  const initializationOptions: InitializationOptions = { settings: settingsSnapshot(), clientCommands: [...VSCODE_CLIENT_COMMANDS] };
  return {
    documentSelector: [{ language: 'cnn' }],
    synchronize: { configurationSection: 'cnn' },
    initializationOptions,
  };
}

async function showTable(client: BaseLanguageClient, uri: unknown, network: unknown, note?: string): Promise<vscode.TextDocument | undefined> {
  // Opened: the server answers for open documents only.
  const doc = await targetDocument(uri);
  if (!doc) {
    void vscode.window.showInformationMessage('Open a .cnn file first.');
    return undefined;
  }
  let table: AnalysisTableResult;
  try {
    table = await client.sendRequest(AnalysisTableRequest, { uri: doc.uri.toString(), network: typeof network === 'string' ? network : undefined });
  } catch (e) {
    void vscode.window.showWarningMessage(`No analysis for this file: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  const content = note ? `> ${note}\n\n${table.markdown}` : table.markdown;
  const shown = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(shown, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  return shown;
}

export function registerCommands(context: vscode.ExtensionContext, client: BaseLanguageClient): void {
  const reg = (id: string, f: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, f));
  reg('cnn.showAnalysis', (uri, network) => showTable(client, uri, network));
  registerExampleCommands(context);
  registerExportCommands(context);
  registerImportCommands(context);
}
