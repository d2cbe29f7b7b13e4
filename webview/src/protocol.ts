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

export type Tab = 'network' | 'run' | 'benchmark' | 'train';

// ---- extension → webview -------------------------------------------------------------------

export type ToWebview =
  /**
   * The active .cnn document, sent when the panel opens, when the editor changes, and (debounced)
   * on edits; with the class names and the weights found beside it (named after the file or one
   * of its networks), and for an example's untitled copy the example's path under examples/;
   * `trained`: weights the Train tab wrote beside it (FILE.trained.safetensors).
   */
  | { type: 'document'; uri: string; fileName: string; text: string; version: number; labels?: string[]; weights?: PickedFile[]; example?: string; trained?: PickedFile[] }
  /** The cursor moved in that document: highlight the layer there. */
  | { type: 'cursor'; uri: string; line: number; character: number }
  /** A picked image (after a `pickImage` request or the Run on Image command's picker): the panel runs on it. */
  | { type: 'image'; file: PickedFile; run?: boolean }
  /** Picked weights for the network named. */
  | { type: 'weights'; network: string; file: PickedFile }
  /** A command from the palette: switch to a tab and maybe start something. */
  | { type: 'command'; command: 'show' | 'run' | 'benchmark' | 'train'; network?: string }
  | { type: 'notice'; message: string }
  /** The answer to a `trainData` request: the samples, or why there are none (one line). */
  | { type: 'trainData'; id: number; data?: TrainData; error?: string }
  /** A dataset folder picked for training (after `pickTrainFolder`); `uri` is the folder's own URI (file:). */
  | { type: 'trainFolder'; uri: string; name: string }
  /** After `saveTrained`: where the weights went (Run then uses them), or why they did not. */
  | { type: 'trained'; uri: string; network: string; file?: PickedFile; path?: string; error?: string };

// ---- training data ---------------------------------------------------------------------------

/** Decompressed IDX files (MNIST's format), cut to the samples asked for. */
export interface IdxPair {
  images: Uint8Array;
  labels: Uint8Array;
}

/** One image file of an image folder, undecoded (the training worker decodes it as Run does), and its class. */
export interface ImageSample {
  name: string;
  label: number;
  bytes: Uint8Array;
}

/**
 * Samples read by the extension for the Train tab: IDX files (Fashion-MNIST's), or an image
 * folder in torchvision's ImageFolder layout (`train/CLASS/*.png|jpg`, `val/` or `test/`); the
 * test split may be missing. `source` says where they came from, for the status line.
 */
export type TrainData =
  | { kind: 'idx'; source: string; train: IdxPair; test?: IdxPair }
  | { kind: 'images'; source: string; classes: string[]; train: ImageSample[]; test?: ImageSample[] };

/** Debian's dataset-fashion-mnist (`dpkg -L dataset-fashion-mnist`). */
export const FASHION_MNIST_FOLDER = '/usr/share/datasets/fashion-mnist';

// ---- webview → extension -------------------------------------------------------------------

export type FromWebview =
  | { type: 'ready' }
  /** Reveal a range of the document in its editor. */
  | { type: 'reveal'; uri: string; range: Range }
  | { type: 'pickImage' }
  | { type: 'pickWeights'; network: string }
  /** Put text on the clipboard (the webview's own clipboard access is not guaranteed). */
  | { type: 'copy'; text: string }
  | { type: 'error'; message: string }
  /** Training samples: from `folder` (a file: URI: IDX files or an image folder) or, without it, Debian's Fashion-MNIST; at most `limit` of each split. */
  | { type: 'trainData'; id: number; folder?: string; limit: number }
  | { type: 'pickTrainFolder' }
  /**
   * Trained weights (a safetensors file) for the document's network: the extension writes them
   * beside the file as FILE.trained.safetensors (as `cnn train` names them; never the shipped
   * FILE.safetensors), asking where for an untitled document.
   */
  | { type: 'saveTrained'; uri: string; network: string; bytes: Uint8Array; epochs: number };

/** Where Run's weights come from. */
export type WeightsSource = 'beside' | 'trained' | 'picked' | 'seeded';

export type TrainOptimizer = 'sgd' | 'adam' | 'adamw';
/**
 * Where training runs: 'auto' is WebGPU on a hardware adapter, else the CPU engine's training
 * path; 'webgpu' takes any adapter, a software one (SwiftShader) too, which is slow.
 */
export type TrainBackend = 'auto' | 'cpu' | 'webgpu';

export interface TrainSettings {
  /** '' : Debian's Fashion-MNIST; else a picked folder's URI. */
  folder: string;
  folderName?: string;
  epochs: number;
  batch: number;
  optimizer: TrainOptimizer;
  lr: number;
  /** Training samples (and at most as many test samples) per epoch; 0: all. */
  limit: number;
  seed: number;
  /** Start from the seeded initialisation or from the weights Run uses. */
  start: 'seeded' | 'current';
  backend: TrainBackend;
}

/** One point of a curve: x is the training step (batches so far, over all epochs). */
export interface CurvePoint {
  x: number;
  y: number;
}

/** What a run showed, kept so that a reloaded panel shows it again. */
export interface TrainRecord {
  stepLoss: CurvePoint[];
  stepAccuracy: CurvePoint[];
  epochs: { epoch: number; step: number; loss: number; trainAccuracy: number; testAccuracy: number | null; samplesPerSecond: number; seconds: number }[];
  status: string;
  /** Which engine trained: "WebGPU (adapter)" or "the CPU engine…" with why. */
  engine?: string;
}

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
  /** Per network: the weights chosen in the picker; unset: beside the file, else trained here, else the last picked, else seeded. */
  weightsChoice: Record<string, WeightsSource>;
  /** Weights trained in the Train tab found beside the document (FILE.trained.safetensors, NETWORK.trained.safetensors). */
  besideTrained?: PickedFile[];
  /** The Train tab's settings (for every network), and per network its last run's curves. */
  train?: TrainSettings;
  trainRuns?: Record<string, TrainRecord>;
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
