/**
 * `cnn.openExample`: the bundled example networks (examples/ in the extension), opened as an
 * untitled copy so that editing never touches the installed extension. Used by the walkthrough;
 * works in desktop and web VS Code alike (workspace.fs only).
 */
import * as vscode from 'vscode';

async function listExamples(dir: vscode.Uri, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
    if (type === vscode.FileType.Directory) out.push(...(await listExamples(vscode.Uri.joinPath(dir, name), `${prefix}${name}/`)));
    else if (name.endsWith('.cnn')) out.push(prefix + name);
  }
  return out.sort();
}

export function registerExampleCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('cnn.openExample', async (name?: unknown) => {
      const dir = vscode.Uri.joinPath(context.extensionUri, 'examples');
      let pick = typeof name === 'string' ? name : undefined;
      if (!pick) {
        const names = await listExamples(dir);
        pick = await vscode.window.showQuickPick(names, { placeHolder: 'An example network to open (as an untitled copy)' });
      }
      if (!pick) return undefined;
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, pick)));
      const doc = await vscode.workspace.openTextDocument({ language: 'cnn', content: text });
      return vscode.window.showTextDocument(doc);
    }),
  );
}
