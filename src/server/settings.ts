import type { DType } from '../analysis/types';

/** The `cnn.*` settings the client contributes (package.json), as the server sees them. */
export interface Settings {
  inlayHints: {
    shape: boolean;
    receptiveField: boolean;
    macs: boolean;
    params: boolean;
    memory: boolean;
    /**
     * The longest label, in characters: VS Code cuts a line's hints at
     * `editor.inlayHints.maximumLength` (43 by default); 0 for no limit.
     */
    maxLength: number;
  };
  /** `mac`: count multiply-accumulates (torchvision's "FLOPs"); `2xmac`: count multiplies and adds apart. */
  flops: 'mac' | '2xmac';
  memory: { dtype: DType };
  /** Milliseconds between the last edit and the re-analysis that publishes diagnostics. */
  debounceMs: number;
}

export const DEFAULT_SETTINGS: Settings = {
  inlayHints: { shape: true, receptiveField: false, macs: false, params: false, memory: false, maxLength: 43 },
  flops: 'mac',
  memory: { dtype: 'float32' },
  debounceMs: 150,
};

const DTYPES: DType[] = ['float32', 'float16', 'bfloat16', 'int8'];

function bool(v: unknown, d: boolean): boolean {
  return typeof v === 'boolean' ? v : d;
}

function count(v: unknown, d: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : d;
}

/** Accepts the nested form (`{inlayHints: {shape}}`) and dotted keys (`'inlayHints.shape'`). */
export function normalizeSettings(raw: unknown): Settings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, any>;
  const get = (path: string): unknown => {
    if (path in r) return r[path];
    let v: any = r;
    for (const p of path.split('.')) {
      if (!v || typeof v !== 'object') return undefined;
      v = v[p];
    }
    return v;
  };
  const d = DEFAULT_SETTINGS;
  const dtype = get('memory.dtype');
  const flops = get('flops');
  const debounce = get('debounceMs');
  return {
    inlayHints: {
      shape: bool(get('inlayHints.shape'), d.inlayHints.shape),
      receptiveField: bool(get('inlayHints.receptiveField'), d.inlayHints.receptiveField),
      macs: bool(get('inlayHints.macs'), d.inlayHints.macs),
      params: bool(get('inlayHints.params'), d.inlayHints.params),
      memory: bool(get('inlayHints.memory'), d.inlayHints.memory),
      maxLength: count(get('inlayHints.maxLength'), d.inlayHints.maxLength),
    },
    flops: flops === '2xmac' || flops === '2×mac' ? '2xmac' : 'mac',
    memory: { dtype: DTYPES.includes(dtype as DType) ? (dtype as DType) : d.memory.dtype },
    debounceMs: typeof debounce === 'number' && debounce >= 0 ? debounce : d.debounceMs,
  };
}
