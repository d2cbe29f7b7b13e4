/**
 * The panel's one state object: what is saved with the webview state API (`state`), what is
 * derived from the document (the analysis, the chosen network, its block instances), the link to
 * the engine worker, and the actions every tab shares (select a layer, reveal it in the editor,
 * show a message). Tabs hold their own elements and read and change state only through here.
 */
import { analyzeText, type FileAnalysis, type NetworkAnalysis } from '../../src/analysis';
import type { Range } from '../../src/language/range';
import { layerDef } from '../../src/layers';
import { h } from './dom';
import { EngineLink } from './engine-link';
import { LayoutClient } from './layout/client';
import { type BlockInstance, blockInstances, nameNodes } from './model';
import { type FromWebview, type PanelState, type PickedFile, restoreState, type WeightsSource } from './protocol';
import * as ui from './ui/toolkit';

export interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): unknown;
  setState(s: unknown): void;
}

/** Highlights the selected and the cursor's layers in one view; returns the first highlighted element. */
export type Mark = (highlight: ReadonlySet<number>, selected: number | undefined) => Element | undefined;

/** What a tab does when the document, the network or the selection changes. */
export interface TabView {
  /** The document or the network changed: redraw. */
  refresh(): void;
  /** A layer was selected in any view. */
  selected?(id: number): void;
  /** A different file is shown: forget what belonged to the old one. */
  reset?(): void;
}

export class App {
  state: PanelState;
  analysis: FileAnalysis | undefined;
  net: NetworkAnalysis | undefined;
  blocks: BlockInstance[] = [];
  /** Layers under the editor's cursor. */
  highlight = new Set<number>();
  readonly engine: EngineLink;
  readonly layout: LayoutClient;
  readonly messages = h('div', 'messages');
  private marks: Mark[] = [];
  private readonly views: TabView[] = [];

  constructor(
    private readonly vscode: VsCodeApi,
    readonly media: string,
    worker: string,
    layoutWorker: string,
    private readonly onProbe: () => void,
  ) {
    this.state = restoreState(vscode.getState() as Partial<PanelState> | undefined);
    this.messages.id = 'messages';
    this.messages.setAttribute('role', 'alert');
    this.engine = new EngineLink(worker, (m) => this.showMessage(m), () => this.onProbe());
    this.layout = new LayoutClient(layoutWorker);
  }

  save(): void {
    this.vscode.setState(this.state);
  }

  post(m: FromWebview): void {
    this.vscode.postMessage(m);
  }

  addView(v: TabView): void {
    this.views.push(v);
  }

  /** An error or notice in the panel; stays until dismissed, at most five kept. */
  showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
    const m = h('div', `message ${kind}`);
    m.append(h('span', 'text', text), ui.button('Dismiss', () => m.remove(), { appearance: 'secondary', className: 'dismiss' }));
    this.messages.prepend(m);
    while (this.messages.children.length > 5) this.messages.lastElementChild?.remove();
  }

  /** Re-analyses the saved text and picks the network (the saved one where it still exists). */
  analyze(): void {
    const s = this.state;
    if (s.text === undefined) return;
    try {
      this.analysis = analyzeText(s.text);
    } catch (e) {
      this.showMessage(`The analysis failed: ${(e as Error).message}`);
      return;
    }
    const names = this.networkNames();
    if (!s.network || !names.includes(s.network)) s.network = names[0];
    this.net = this.analysis.networks.find((n) => n.graph.network === s.network);
    this.blocks = this.net ? blockInstances(this.net.graph.nodes) : [];
    if (this.net) nameNodes(this.net.graph.nodes);
  }

  networkNames(): string[] {
    return this.analysis?.networks.map((n) => n.graph.network) ?? [];
  }

  /** Analyses and redraws every tab. */
  refresh(): void {
    this.analyze();
    for (const v of this.views) v.refresh();
    this.save();
  }

  /** A different file: each tab drops what belonged to the old one. */
  reset(): void {
    this.highlight = new Set();
    for (const v of this.views) v.reset?.();
  }

  nodeByPath(path: string | undefined): number | undefined {
    if (!this.net || path === undefined) return undefined;
    return this.net.graph.nodes.find((n) => n.path === path)?.id;
  }

  reveal(range: Range): void {
    if (this.state.uri) this.post({ type: 'reveal', uri: this.state.uri, range });
  }

  /** Selects a layer in every view and shows it in the editor. */
  select(id: number): void {
    const net = this.net;
    if (!net) return;
    const n = net.graph.nodes[id];
    this.state.selected = n.path;
    if (n.attrs.kind !== 'input' && net.layers[id].shape) this.state.featureLayer = n.path;
    this.save();
    // A merge shows its composition's keyword, not the whole block it closes.
    this.reveal(layerDef(n.attrs).merge ? n.nameRange : n.range);
    this.markAll(false);
    for (const v of this.views) v.selected?.(id);
  }

  clearMarks(): void {
    this.marks = [];
  }

  addMark(m: Mark): void {
    this.marks.push(m);
  }

  markAll(scroll: boolean): void {
    const sel = this.nodeByPath(this.state.selected);
    for (const m of this.marks) {
      const first = m(this.highlight, sel);
      if (scroll && first && this.state.tab === 'network') first.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  }

  /** The key of what belongs to the current network: its file and name. */
  netKey(): string {
    return `${this.state.uri}#${this.net?.graph.network}`;
  }

  /** The weights file beside the document for the current network (named after it, else after the file). */
  besideWeights(): PickedFile | undefined {
    return this.namedFor(this.state.beside ?? [], '');
  }

  /** Weights the Train tab wrote beside the document for the current network (NETWORK.trained or FILE.trained). */
  trainedWeights(): PickedFile | undefined {
    return this.namedFor(this.state.besideTrained ?? [], '.trained');
  }

  private namedFor(files: PickedFile[], suffix: string): PickedFile | undefined {
    const stem = (f: PickedFile) => f.name.replace(/\.safetensors$/i, '').toLowerCase();
    const file = (this.state.example ?? this.state.fileName ?? '').split(/[\\/]/).pop()!.replace(/\.cnn$/, '').toLowerCase();
    const net = this.net?.graph.network.toLowerCase();
    return files.find((f) => stem(f) === `${net}${suffix}`) ?? files.find((f) => stem(f) === `${file}${suffix}`);
  }

  /**
   * The weights Run and Benchmark use for the current network: the user's choice in the picker
   * where it still exists (training here chooses what it wrote); else the file beside the
   * document, else the one trained here, else the one last picked, else seeded.
   */
  weightsChoice(): { source: WeightsSource; file?: PickedFile } {
    const key = this.netKey();
    const beside = this.besideWeights();
    const trained = this.trainedWeights();
    const picked = this.state.weights[key];
    const chosen = this.state.weightsChoice[key];
    if (chosen === 'seeded') return { source: 'seeded' };
    if (chosen === 'beside' && beside) return { source: 'beside', file: beside };
    if (chosen === 'trained' && trained) return { source: 'trained', file: trained };
    if (chosen === 'picked' && picked) return { source: 'picked', file: picked };
    if (beside) return { source: 'beside', file: beside };
    if (trained) return { source: 'trained', file: trained };
    if (picked) return { source: 'picked', file: picked };
    return { source: 'seeded' };
  }

  /** The weights file in use for the current network, if any (else seeded). */
  weights(): PickedFile | undefined {
    return this.weightsChoice().file;
  }

  /** Where Run runs for the current network: the user's choice, else WebGPU on a hardware adapter, else the CPU engine. */
  backend(): 'webgpu' | 'cpu' {
    const chosen = this.state.backends[this.netKey()];
    if (chosen === 'webgpu' && this.engine.gpuUsable()) return 'webgpu';
    if (chosen === 'cpu') return 'cpu';
    return this.engine.probe?.status === 'ok' ? 'webgpu' : 'cpu';
  }

  /** Shows a layer's receptive field on the input (the Run tab's field view); main.ts wires it. */
  showField: (id: number) => void = () => {};

  /** Makes the current network the engine's. */
  loadEngine() {
    return this.engine.load(this.analysis, this.net, this.state.text ?? '', this.weights());
  }
}
