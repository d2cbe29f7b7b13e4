/**
 * Messages between the extension (src/extension/panel.ts) and the webview (webview/src/main.ts).
 * Both sides import this module; it holds types and constants only, so it pulls nothing from
 * `vscode` or the DOM into either bundle.
 */
import type { Range } from '../../src/language/range';

export const VIEW_TYPE = 'cnn.network';

/** A bundled sample image, listed in media/samples/manifest.json. */
export interface SampleImage {
  id: string;
  /** Shown in the picker. */
  label: string;
  /** File name in media/samples/. */
  file: string;
  /** Expected class (Fashion-MNIST samples), for the caption. */
  label_hint?: string;
}

/** An image or weights file the user picked; `uri` is the webview URI (asWebviewUri). */
export interface PickedFile {
  uri: string;
  name: string;
}

export type Tab = 'network' | 'run' | 'benchmark';

// ---- extension → webview -------------------------------------------------------------------

export type ToWebview =
  /**
   * The active .cnn document, sent when the panel opens, when the editor changes, and (debounced)
   * on edits; with the class names and the weights found beside it (named after the file or one
   * of its networks), and for an example's untitled copy the example's path under examples/.
   */
  | { type: 'document'; uri: string; fileName: string; text: string; version: number; labels?: string[]; weights?: PickedFile[]; example?: string }
  /** The cursor moved in that document: highlight the layer there. */
  | { type: 'cursor'; uri: string; line: number; character: number }
  /** A picked image (after a `pickImage` request or the Run on Image command's picker): the panel runs on it. */
  | { type: 'image'; file: PickedFile; run?: boolean }
  /** Picked weights for the network named. */
  | { type: 'weights'; network: string; file: PickedFile }
  /** A command from the palette: switch to a tab and maybe start something. */
  | { type: 'command'; command: 'show' | 'run' | 'benchmark'; network?: string }
  | { type: 'notice'; message: string };

// ---- webview → extension -------------------------------------------------------------------

export type FromWebview =
  | { type: 'ready' }
  /** Reveal a range of the document in its editor. */
  | { type: 'reveal'; uri: string; range: Range }
  | { type: 'pickImage' }
  | { type: 'pickWeights'; network: string }
  /** Put text on the clipboard (the webview's own clipboard access is not guaranteed). */
  | { type: 'copy'; text: string }
  | { type: 'error'; message: string };

/** Where a benchmark runs: one backend or both, one after the other. */
export type BenchBackends = 'cpu' | 'webgpu' | 'both';

/** The image chosen for a network: a bundled sample or a file the user picked. */
export interface ImageChoice {
  sample?: string;
  file?: PickedFile;
}

/**
 * What the webview keeps with setState, and the serializer hands back after a reload. What
 * belongs to one network is kept per `uri#network` (App.netKey): a choice made for one network
 * never carries over to another.
 */
export interface PanelState {
  version: 1;
  uri?: string;
  fileName?: string;
  /** The last text seen, so that a restored panel draws before the extension answers. */
  text?: string;
  labels?: string[];
  /** Weights found beside the document (named after the file or a network in it). */
  beside?: PickedFile[];
  /** For an example's untitled copy: the example's path under examples/. */
  example?: string;
  network?: string;
  tab: Tab;
  /** Keys of collapsed block instances, per network. */
  collapsed: Record<string, string[]>;
  /** Networks whose collapse state the user has touched (else big networks start collapsed). */
  touched: string[];
  sort?: { key: string; dir: 1 | -1 };
  selected?: string;
  featureLayer?: string;
  /** Per network: the image to run on; unset: a sample that suits the input (Fashion-MNIST for 1×28×28). */
  images: Record<string, ImageChoice>;
  /** Per network: where Run runs; unset: WebGPU on a hardware adapter, else the CPU engine. */
  backends: Record<string, 'webgpu' | 'cpu'>;
  /** Per network: the last weights file picked. */
  weights: Record<string, PickedFile>;
  /** Per network: the weights chosen in the picker; unset: beside the file, else the last picked, else seeded. */
  weightsChoice: Record<string, 'beside' | 'picked' | 'seeded'>;
  /** Runs and warm-ups for every network; the backends per network (unset: where Run runs). */
  bench: { iterations: number; warmup: number; backends: Record<string, BenchBackends> };
  chartMode?: 'layer' | 'stage';
}

export function defaultState(): PanelState {
  return { version: 1, tab: 'network', collapsed: {}, touched: [], images: {}, backends: {}, weights: {}, weightsChoice: {}, bench: { iterations: 20, warmup: 3, backends: {} } };
}

/** A saved state over the defaults (older saves lack the per-network records). */
export function restoreState(saved: Partial<PanelState> | undefined): PanelState {
  const d = defaultState();
  const s = { ...d, ...(saved ?? {}) } as PanelState;
  for (const k of ['collapsed', 'images', 'backends', 'weights', 'weightsChoice'] as const) if (!s[k] || typeof s[k] !== 'object') (s as unknown as Record<string, unknown>)[k] = {};
  s.bench = { ...d.bench, ...(saved?.bench ?? {}) };
  if (!s.bench.backends || typeof s.bench.backends !== 'object') s.bench.backends = {};
  return s;
}
