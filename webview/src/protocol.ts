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
  /** The active .cnn document, sent when the panel opens, when the editor changes, and (debounced) on edits. */
  | { type: 'document'; uri: string; fileName: string; text: string; version: number; labels?: string[] }
  /** The cursor moved in that document: highlight the layer there. */
  | { type: 'cursor'; uri: string; line: number; character: number }
  /** A picked image (after a `pickImage` request or the Run on Image command's picker). */
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

/** What the webview keeps with setState, and the serializer hands back after a reload. */
export interface PanelState {
  version: 1;
  uri?: string;
  fileName?: string;
  /** The last text seen, so that a restored panel draws before the extension answers. */
  text?: string;
  labels?: string[];
  network?: string;
  tab: Tab;
  /** Keys of collapsed block instances, per network. */
  collapsed: Record<string, string[]>;
  /** Networks whose collapse state the user has touched (else big networks start collapsed). */
  touched: string[];
  sort?: { key: string; dir: 1 | -1 };
  selected?: string;
  featureLayer?: string;
  sample?: string;
  image?: PickedFile;
  backend?: 'webgpu' | 'cpu';
  /** Weights per `uri#network`; absent: the seeded default. */
  weights: Record<string, PickedFile>;
  bench: { iterations: number; warmup: number; compareCpu: boolean };
  chartMode?: 'layer' | 'stage';
}

export function defaultState(): PanelState {
  return { version: 1, tab: 'network', collapsed: {}, touched: [], weights: {}, bench: { iterations: 20, warmup: 3, compareCpu: true } };
}
