/**
 * `cnn.openExample`: the bundled example networks (examples/ in the extension), opened as an
 * untitled copy so that editing never touches the installed extension. Used by the walkthrough;
 * works in desktop and web VS Code alike (workspace.fs only).
 *
 * The copy remembers where it came from (`exampleSource`), so that the panel finds what lies
 * beside the example, as it would beside a file on disk: its trained weights
 * (examples/fashion-mnist/fashion.safetensors) and its labels.txt.
 */
import * as vscode from 'vscode';

/** workspaceState key: untitled document URI → the example's path under examples/. */
const SOURCES_KEY = 'cnn.examples.sources';

async function listExamples(dir: vscode.Uri, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const [name, type] of await vscode.workspace.fs.readDirectory(dir)) {
    if (type === vscode.FileType.Directory) out.push(...(await listExamples(vscode.Uri.joinPath(dir, name), `${prefix}${name}/`)));
    else if (name.endsWith('.cnn')) out.push(prefix + name);
  }
  return out.sort();
}

/**
 * The bundled example a document is an untitled copy of (kept in the workspace state, so a copy
 * that VS Code restores after a reload still knows it).
 */
export function exampleSource(context: vscode.ExtensionContext, doc: vscode.Uri): vscode.Uri | undefined {
  if (doc.scheme !== 'untitled') return undefined;
  const name = context.workspaceState.get<Record<string, string>>(SOURCES_KEY, {})[doc.toString()];
  return name ? vscode.Uri.joinPath(context.extensionUri, 'examples', ...name.split('/')) : undefined;
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
      const sources = context.workspaceState.get<Record<string, string>>(SOURCES_KEY, {});
      // Untitled-N names are reused after a copy is closed: the last copy's source wins. At most 50 kept.
      const next = Object.fromEntries([...Object.entries(sources).filter(([k]) => k !== doc.uri.toString()), [doc.uri.toString(), pick]].slice(-50));
      await context.workspaceState.update(SOURCES_KEY, next);
      return vscode.window.showTextDocument(doc);
    }),
  );
}
