import type { ParamTensor } from '../../analysis/types';
import { type NamedTensor, parseSafetensors, toFloat32, WeightsError, writeSafetensors } from './safetensors';

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** PyTorch's batch norms keep a step counter that inference never reads; state_dicts carry it. */
const IGNORED_SUFFIX = '.num_batches_tracked';

/**
 * Values a forward pass cannot use, refused by name: a NaN or infinity anywhere (an F64 beyond
 * float32's range becomes one), or a negative batch-norm variance, whose square root is NaN.
 */
function checkValues(p: ParamTensor, values: Float32Array, dtype: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      const what = Number.isNaN(v) ? 'NaN' : `${v > 0 ? '' : '-'}infinity${dtype === 'F64' ? ' (as float32)' : ''}`;
      throw new WeightsError(`tensor '${p.name}' holds ${what} at index ${i}; weights must be finite`);
    }
    if (p.role === 'running_var' && v < 0) throw new WeightsError(`tensor '${p.name}' holds the negative variance ${v} at index ${i}`);
  }
}

/**
 * The network's tensors from a safetensors file, by the names `cnn params` lists. Every
 * tensor must be present, float and of the declared shape, and the file must hold no other
 * (besides PyTorch's `num_batches_tracked` counters of this network's batch norms).
 */
export function loadSafetensorsWeights(file: Uint8Array, declared: readonly ParamTensor[]): Map<string, Float32Array> {
  const { tensors } = parseSafetensors(file);
  // The first problem in definition order is the one reported.
  const missing = declared.filter((p) => !tensors.has(p.name));
  const out = new Map<string, Float32Array>();
  for (const p of declared) {
    const e = tensors.get(p.name);
    if (!e) {
      const more = missing.length > 1 ? ` (and ${missing.length - 1} more missing)` : '';
      throw new WeightsError(`missing tensor '${p.name}' ${fmt(p.shape)}${more}`);
    }
    if (e.shape.length !== p.shape.length || e.shape.some((d, i) => d !== p.shape[i])) {
      throw new WeightsError(`tensor '${p.name}' has shape ${fmt(e.shape)}, the network needs ${fmt(p.shape)}`);
    }
    const values = toFloat32(e);
    checkValues(p, values, e.dtype);
    out.set(p.name, values);
  }
  const names = new Set(declared.map((p) => p.name));
  const bnPrefixes = new Set(declared.filter((p) => p.role === 'running_mean').map((p) => p.name.slice(0, -'running_mean'.length)));
  const extra = [...tensors.keys()].filter((n) => !names.has(n) && !(n.endsWith(IGNORED_SUFFIX) && bnPrefixes.has(n.slice(0, -IGNORED_SUFFIX.length + 1))));
  if (extra.length) {
    const more = extra.length > 1 ? ` (and ${extra.length - 1} more)` : '';
    throw new WeightsError(`unexpected tensor '${extra[0]}': the network has no parameter of that name${more}`);
  }
  return out;
}

/** The weights as a safetensors file in definition order, for `cnn run`'s tests and for exporting seeded weights. */
export function saveSafetensorsWeights(declared: readonly ParamTensor[], weights: ReadonlyMap<string, Float32Array>, metadata?: Record<string, string>): Uint8Array {
  const list: NamedTensor[] = declared.map((p) => {
    const data = weights.get(p.name);
    if (!data) throw new WeightsError(`missing tensor '${p.name}' ${fmt(p.shape)}`);
    return { name: p.name, shape: p.shape, data };
  });
  return writeSafetensors(list, metadata);
}
