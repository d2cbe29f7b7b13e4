/**
 * The network panel's extension side: one WebviewPanel that follows the active .cnn editor,
 * built from webview/src/html.ts under a strict CSP (scripts by nonce only), with its resources
 * limited to the extension's webview bundle and media plus the files the user picked; restored
 * after a reload by a WebviewPanelSerializer. Works in desktop and web VS Code alike (no Node APIs).
 */
import * as vscode from 'vscode';
import { makeNonce, panelHtml } from '../../webview/src/html';
import { FASHION_MNIST_FOLDER, type FromWebview, type PanelState, type PickedFile, type ToWebview, VIEW_TYPE } from '../../webview/src/protocol';
import { exampleSource } from './examples';
import { targetDocument } from './target';
import { readIdxFolder, readTrainFolder, TrainDataError } from './train-data';

export const PICKED_FILES_KEY = 'cnn.panel.pickedFiles';
const EDIT_DEBOUNCE_MS = 300;

/** The bundle, the media, and the examples (whose weights an example's untitled copy uses). */
function baseRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'webview', 'media'), vscode.Uri.joinPath(extensionUri, 'examples')];
}

const NETWORK_NAMES = /^\s*network\s+([A-Za-z_]\w*)/gm;

class NetworkPanel {
  static current: NetworkPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private queue: ToWebview[] = [];
  private doc: vscode.TextDocument | undefined;
  private editTimer: ReturnType<typeof setTimeout> | undefined;
  private cursorTimer: ReturnType<typeof setTimeout> | undefined;
  /** The picked files' folders now in localResourceRoots; undefined before the first setOptions. */
  private roots: string[] | undefined;
  /** The document's latest send (see postAfterDocument). */
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly panel: vscode.WebviewPanel,
    state?: PanelState,
  ) {
    NetworkPanel.current = this;
    this.setOptions();
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'webview', 'media', 'icon.svg');
    panel.webview.html = this.html();
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((m: FromWebview) => void this.receive(m), null, this.disposables);
    vscode.window.onDidChangeActiveTextEditor((e) => e && this.follow(e.document), null, this.disposables);
    vscode.workspace.onDidChangeTextDocument(
      (e) => {
        if (e.document !== this.doc) return;
        clearTimeout(this.editTimer);
        this.editTimer = setTimeout(() => this.resend(), EDIT_DEBOUNCE_MS);
      },
      null,
      this.disposables,
    );
    vscode.window.onDidChangeTextEditorSelection(
      (e) => {
        if (e.textEditor.document !== this.doc) return;
        clearTimeout(this.cursorTimer);
        const p = e.selections[0].active;
        this.cursorTimer = setTimeout(() => this.post({ type: 'cursor', uri: this.doc!.uri.toString(), line: p.line, character: p.character }), 50);
      },
      null,
      this.disposables,
    );
    const active = vscode.window.activeTextEditor?.document;
    if (active?.languageId === 'cnn') this.doc = active;
    else if (state?.uri) {
      void vscode.workspace.openTextDocument(vscode.Uri.parse(state.uri)).then(
        (d) => this.follow(d),
        () => undefined,
      );
    }
  }

  /**
   * Scripts on; resources from the bundle, the media and the folder of each file the user
   * picked: VS Code matches a resource root as a folder (it appends '/'), so a file root never
   * matches and the image would be refused. New roots make VS Code reload the page (it sends the
   * content again), and a message posted meanwhile is lost: so until the reloaded page says
   * 'ready', messages wait in the queue. Unchanged roots are not set again, since then no reload
   * (and no 'ready') comes.
   */
  private setOptions(): void {
    const folders = this.context.workspaceState.get<string[]>(PICKED_FILES_KEY, []).map((u) => vscode.Uri.joinPath(vscode.Uri.parse(u), '..').toString());
    const roots = [...new Set(folders)];
    if (this.roots && roots.length === this.roots.length && roots.every((r, i) => r === this.roots![i])) return;
    if (this.roots) this.ready = false;
    this.roots = roots;
    this.panel.webview.options = { enableScripts: true, localResourceRoots: [...baseRoots(this.context.extensionUri), ...roots.map((r) => vscode.Uri.parse(r))] };
  }

  private html(): string {
    const w = this.panel.webview;
    const uri = (...p: string[]) => w.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, ...p)).toString();
    return panelHtml({
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: uri('dist', 'webview', 'main.js'),
      workerUri: uri('dist', 'webview', 'worker.js'),
      layoutUri: uri('dist', 'webview', 'layout.js'),
      styleUri: uri('webview', 'media', 'main.css'),
      mediaUri: uri('webview', 'media'),
    });
  }

  /**
   * Posts after the document being sent (sendDocument reads what lies beside the file first): a
   * command for a document just followed must reach the page after that document, not run on
   * the one before.
   */
  postAfterDocument(m: ToWebview): void {
    void this.sending.then(() => this.post(m));
  }

  post(m: ToWebview): void {
    if (!this.ready) {
      this.queue.push(m);
      return;
    }
    void this.panel.webview.postMessage(m);
  }

  follow(doc: vscode.TextDocument): void {
    if (doc.languageId !== 'cnn' || doc === this.doc) return;
    this.doc = doc;
    this.resend();
  }

  /** Sends the document; `sending` settles when it is posted (or failed, said in the panel). */
  private resend(): void {
    this.sending = this.sendDocument().catch((e: unknown) => this.post({ type: 'notice', message: `Could not read what lies beside the file: ${(e as Error).message}` }));
  }

  /**
   * What lies beside the file (beside the bundled example, for an example's untitled copy): a
   * labels.txt or NAME.labels.txt naming the output classes, and the weights named after the file
   * or one of its networks (`fashion.safetensors`, `FashionNet.safetensors`), which the panel
   * uses by default. Weights beside a file on disk join the resource roots as picked files do.
   */
  private async beside(doc: vscode.TextDocument): Promise<{ labels?: string[]; weights: PickedFile[]; trained: PickedFile[] }> {
    const example = exampleSource(this.context, doc.uri);
    const source = example ?? (doc.uri.scheme === 'untitled' ? undefined : doc.uri);
    if (!source) return { weights: [], trained: [] };
    const dir = vscode.Uri.joinPath(source, '..');
    const base = source.path.split('/').pop()!.replace(/\.cnn$/, '');
    let labels: string[] | undefined;
    for (const name of [`${base}.labels.txt`, 'labels.txt']) {
      try {
        const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, name));
        const lines = new TextDecoder().decode(bytes).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        if (lines.length) {
          labels = lines;
          break;
        }
      } catch {
        // none there
      }
    }
    const names = [base, ...Array.from(doc.getText().matchAll(NETWORK_NAMES), (m) => m[1])].map((n) => n.toLowerCase());
    const wanted = new Set(names.map((n) => `${n}.safetensors`));
    // What the Train tab (or `cnn train`) wrote: never in the bundled examples' folder.
    const wantedTrained = new Set(example ? [] : names.map((n) => `${n}.trained.safetensors`));
    let entries: [string, vscode.FileType][] = [];
    try {
      entries = await vscode.workspace.fs.readDirectory(dir);
    } catch {
      // an unreadable folder has nothing beside the file
    }
    const weights: PickedFile[] = [];
    const trained: PickedFile[] = [];
    for (const [name, type] of entries) {
      const lower = name.toLowerCase();
      if (type !== vscode.FileType.File || !(wanted.has(lower) || wantedTrained.has(lower))) continue;
      const file = vscode.Uri.joinPath(dir, name);
      // The examples are a resource root already; a folder on disk becomes one (the page reloads once).
      (wanted.has(lower) ? weights : trained).push(example ? { uri: this.panel.webview.asWebviewUri(file).toString(), name } : await this.remember(file));
    }
    return { labels, weights, trained };
  }

  async sendDocument(): Promise<void> {
    const doc = this.doc;
    if (!doc) return;
    const { labels, weights, trained } = await this.beside(doc);
    const example = exampleSource(this.context, doc.uri);
    this.post({
      type: 'document',
      uri: doc.uri.toString(),
      fileName: doc.fileName,
      text: doc.getText(),
      version: doc.version,
      labels,
      weights,
      example: example ? example.path.split('/examples/').pop() : undefined,
      trained,
    });
    this.panel.title = `Network: ${doc.uri.path.split('/').pop()}`;
  }

  private async remember(file: vscode.Uri): Promise<PickedFile> {
    const files = this.context.workspaceState.get<string[]>(PICKED_FILES_KEY, []);
    if (!files.includes(file.toString())) {
      await this.context.workspaceState.update(PICKED_FILES_KEY, [...files, file.toString()].slice(-50));
      this.setOptions();
    }
    return { uri: this.panel.webview.asWebviewUri(file).toString(), name: file.path.split('/').pop() ?? file.toString() };
  }

  async pickImage(run: boolean): Promise<boolean> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Run on this image',
      filters: { Images: ['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp'] },
    });
    if (!picked?.[0]) return false;
    this.postAfterDocument({ type: 'image', file: await this.remember(picked[0]), run });
    return true;
  }

  private async pickWeights(network: string): Promise<void> {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: `Use for ${network}`, filters: { 'safetensors weights': ['safetensors'] } });
    if (!picked?.[0]) return;
    this.post({ type: 'weights', network, file: await this.remember(picked[0]) });
  }

  private async reveal(uri: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }): Promise<void> {
    const target = vscode.Uri.parse(uri);
    const r = new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === target.toString());
    const editor = await vscode.window.showTextDocument(visible?.document ?? (await vscode.workspace.openTextDocument(target)), {
      viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
      preserveFocus: false,
    });
    editor.selection = new vscode.Selection(r.start, r.start);
    editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private async receive(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (!this.queue.some((q) => q.type === 'document')) this.resend();
        for (const q of this.queue.splice(0)) void this.panel.webview.postMessage(q);
        break;
      case 'reveal':
        await this.reveal(m.uri, m.range);
        break;
      case 'pickImage':
        await this.pickImage(false);
        break;
      case 'pickWeights':
        await this.pickWeights(m.network);
        break;
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        break;
      case 'error':
        void vscode.window.showErrorMessage(m.message);
        break;
      case 'trainData':
        await this.sendTrainData(m.id, m.folder, m.limit);
        break;
      case 'pickTrainFolder': {
        const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Train on this folder' });
        if (picked?.[0]) this.post({ type: 'trainFolder', uri: picked[0].toString(), name: picked[0].path.split('/').filter(Boolean).pop() ?? picked[0].toString() });
        break;
      }
      case 'saveTrained':
        await this.saveTrained(m.uri, m.network, m.bytes);
        break;
    }
  }

  /** The Train tab's samples: a picked folder (IDX files or an image folder), else Debian's Fashion-MNIST; one line on failure. */
  private async sendTrainData(id: number, folder: string | undefined, limit: number): Promise<void> {
    const dir = folder ? vscode.Uri.parse(folder) : vscode.Uri.file(FASHION_MNIST_FOLDER);
    const where = folder ? dir.path : FASHION_MNIST_FOLDER;
    const read = async (name: string) => {
      try {
        return await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, name));
      } catch (e) {
        if (e instanceof vscode.FileSystemError && e.code !== 'FileNotFound' && e.code !== 'EntryNotFound') throw new TrainDataError(`${where}/${name}: ${e.message}`);
        return undefined;
      }
    };
    const list = async (name: string) => {
      try {
        const entries = await vscode.workspace.fs.readDirectory(name ? vscode.Uri.joinPath(dir, name) : dir);
        return entries.map(([n, t]) => ({ name: n, dir: (t & vscode.FileType.Directory) !== 0 }));
      } catch {
        return undefined;
      }
    };
    try {
      this.post({ type: 'trainData', id, data: folder ? await readTrainFolder(read, list, where, limit) : await readIdxFolder(read, where, limit) });
    } catch (e) {
      const why = e instanceof TrainDataError ? e.message : `${where}: ${(e as Error).message}`;
      const hint = folder ? '' : "; install Debian's dataset-fashion-mnist, or pick a folder of its IDX files";
      this.post({ type: 'trainData', id, error: `${why.split('\n')[0]}${hint}` });
    }
  }

  /**
   * Writes trained weights beside the document as FILE.trained.safetensors (`cnn train`'s name,
   * so the shipped FILE.safetensors is never replaced), through a temporary file and a rename so
   * that nothing half-written is left; an untitled document asks where. Run then uses them.
   */
  private async saveTrained(uri: string, network: string, bytes: unknown): Promise<void> {
    const doc = vscode.Uri.parse(uri);
    const stem = doc.path.split('/').pop()!.replace(/\.cnn$/, '');
    let target: vscode.Uri | undefined;
    if (doc.scheme === 'untitled' || exampleSource(this.context, doc)) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      target = await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, `${stem}.trained.safetensors`) : undefined,
        filters: { 'safetensors weights': ['safetensors'] },
        saveLabel: `Save ${network}'s trained weights`,
      });
      if (!target) {
        this.post({ type: 'trained', uri, network, error: 'not saved: no file chosen' });
        return;
      }
    } else {
      target = vscode.Uri.joinPath(doc, '..', `${stem}.trained.safetensors`);
    }
    const data = asBytes(bytes);
    const name = target.path.split('/').pop()!;
    if (name.toLowerCase() === `${stem.toLowerCase()}.safetensors` || name.toLowerCase() === `${network.toLowerCase()}.safetensors`) {
      this.post({ type: 'trained', uri, network, error: `not saved: ${name} holds the shipped weights; give another name` });
      return;
    }
    const partial = target.with({ path: `${target.path}.partial` });
    try {
      await vscode.workspace.fs.writeFile(partial, data);
      await vscode.workspace.fs.rename(partial, target, { overwrite: true });
    } catch (e) {
      await vscode.workspace.fs.delete(partial).then(undefined, () => undefined);
      this.post({ type: 'trained', uri, network, error: `cannot write ${name}: ${(e as Error).message.split('\n')[0]}` });
      return;
    }
    const file = await this.remember(target);
    this.post({ type: 'trained', uri, network, file, path: target.scheme === 'file' ? target.fsPath : target.toString() });
    this.resend();
  }

  dispose(): void {
    if (NetworkPanel.current === this) NetworkPanel.current = undefined;
    clearTimeout(this.editTimer);
    clearTimeout(this.cursorTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A message's bytes: a Uint8Array where VS Code keeps typed arrays, else what structured cloning or JSON made of one. */
function asBytes(b: unknown): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b && typeof b === 'object') return Uint8Array.from(Object.values(b as Record<string, number>));
  throw new Error('no weights in the message');
}

/** Opens (or reveals) the panel beside the editor, following `doc`. */
function show(context: vscode.ExtensionContext, doc: vscode.TextDocument | undefined): NetworkPanel {
  let p = NetworkPanel.current;
  if (p) p.panel.reveal(vscode.ViewColumn.Beside, true);
  else {
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Network', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: baseRoots(context.extensionUri),
    });
    p = new NetworkPanel(context, panel);
  }
  if (doc) p.follow(doc);
  return p;
}

export function registerNetworkPanel(context: vscode.ExtensionContext): void {
  const reg = (id: string, f: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, f));
  const needDoc = (doc: vscode.TextDocument | undefined) => {
    if (!doc) void vscode.window.showInformationMessage('Open a .cnn file first.');
    return doc;
  };
  const net = (n: unknown) => (typeof n === 'string' ? n : undefined);
  // Code lenses pass the file and the network.
  reg('cnn.showNetwork', async (uri, network) => {
    const doc = needDoc(await targetDocument(uri));
    if (doc) show(context, doc).postAfterDocument({ type: 'command', command: 'show', network: net(network) });
  });
  reg('cnn.runOnImage', async (uri) => {
    const doc = needDoc(await targetDocument(uri));
    if (doc) await show(context, doc).pickImage(true);
  });
  reg('cnn.train', async (uri, network) => {
    const doc = needDoc(await targetDocument(uri));
    if (doc) show(context, doc).postAfterDocument({ type: 'command', command: 'train', network: net(network) });
  });
  reg('cnn.benchmark', async (uri, network) => {
    const doc = needDoc(await targetDocument(uri));
    if (doc) show(context, doc).postAfterDocument({ type: 'command', command: 'benchmark', network: net(network) });
  });
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        new NetworkPanel(context, panel, state as PanelState | undefined);
      },
    }),
    { dispose: () => NetworkPanel.current?.panel.dispose() },
  );
}
