/** What a command works on: the file a code lens or a test passes, else the active .cnn editor's. */
import * as vscode from 'vscode';

/** A command argument that names a file: a URI string or a Uri. */
export function asUri(arg: unknown): vscode.Uri | undefined {
  return typeof arg === 'string' ? vscode.Uri.parse(arg) : arg instanceof vscode.Uri ? arg : undefined;
}

export async function targetDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
  const uri = asUri(arg);
  if (uri) return vscode.workspace.openTextDocument(uri);
  const doc = vscode.window.activeTextEditor?.document;
  return doc?.languageId === 'cnn' ? doc : undefined;
}
