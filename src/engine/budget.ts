/**
 * The memory a run, a benchmark or an export would need, worked out from the analysis before
 * anything is allocated, and checked against a budget. Without it, `linear 20000` six times
 * seeds 9.6 GB of weights before an engine refuses, and `conv 1000000000` dies inside a typed
 * array constructor. Plain TypeScript: the caller supplies the limit (the CLI takes a share of
 * os.totalmem(); a browser would take its own).
 */
import type { NetworkAnalysis } from '../analysis';

/** The engines compute in float32 whatever `--dtype` says about the analysis figures. */
const F32 = 4;
const GiB = 2 ** 30;

/** WebAssembly memory is addressed with 32 bits: the CPU engine's weights, activations and scratch share 4 GiB. */
export const WASM_MEMORY_LIMIT = 4 * GiB;

/** The default share of the machine's memory that one command may plan to use. */
export const DEFAULT_BUDGET_FRACTION = 0.75;

export type MemoryPurpose = 'run' | 'bench' | 'export';

export interface MemoryNeeds {
  purpose: MemoryPurpose;
  batch: number;
  /** Every parameter and buffer value as float32, as the command holds them (seeded or loaded). */
  weights: number;
  /** The second copy: the engine's packed weights for run and bench, the serialised model for an export. */
  weightCopies: number;
  /** Activations alive at once over one pass, for the whole batch. */
  activations: number;
  /** Input and output arrays on our side, and staging of the largest tensor. */
  workspace: number;
  total: number;
  /** Per image: what grows with the batch (for the largest batch that fits). */
  perImage: number;
  largestWeight?: { name: string; shape: number[]; bytes: number };
  largestActivation?: { path: string; kind: string; shape: number[]; bytes: number; isInput: boolean };
  /** The network's input, per image. */
  input?: { shape: number[]; bytes: number };
}

const numel = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);

/**
 * Peak bytes of activations alive at once per image, in execution order: each output lives
 * from its layer to its last reader (the graph's outputs to the end), as the engines free them.
 */
export function peakLiveActivationBytes(net: NetworkAnalysis): number {
  const nodes = net.graph.nodes;
  const last = nodes.map((n) => n.id);
  for (const n of nodes) for (const i of n.inputs) last[i] = Math.max(last[i], n.id);
  for (const o of [net.graph.output, ...net.graph.auxOutputs]) last[o] = nodes.length;
  const size = (id: number) => F32 * numel(net.layers[id]?.shape ?? []);
  let live = 0;
  let peak = 0;
  for (const n of nodes) {
    live += size(n.id);
    peak = Math.max(peak, live);
    for (const i of new Set(n.inputs)) if (last[i] === n.id) live -= size(i);
  }
  return peak;
}

export function memoryNeeds(net: NetworkAnalysis, purpose: MemoryPurpose, batch = 1): MemoryNeeds {
  let weights = 0;
  let largestWeight: MemoryNeeds['largestWeight'];
  for (const t of net.tensors) {
    const b = F32 * numel(t.shape);
    weights += b;
    if (!largestWeight || b > largestWeight.bytes) largestWeight = { name: t.name, shape: t.shape, bytes: b };
  }
  const weightCopies = purpose === 'export' ? 2 * weights : weights;
  let largestActivation: MemoryNeeds['largestActivation'];
  for (const l of net.layers) {
    if (!l.shape) continue;
    const b = F32 * numel(l.shape);
    const node = net.graph.nodes[l.node];
    if (!largestActivation || b > largestActivation.bytes) largestActivation = { path: node.path, kind: node.attrs.kind, shape: l.shape, bytes: b, isInput: node.attrs.kind === 'input' };
  }
  const input = net.input ? { shape: net.input, bytes: F32 * numel(net.input) } : undefined;
  const perImagePass = purpose === 'export' ? 0 : peakLiveActivationBytes(net);
  const io = purpose === 'export' ? 0 : F32 * (numel(net.input ?? []) + numel(net.output ?? []));
  const perImage = perImagePass + io;
  const activations = batch * perImagePass;
  const workspace = batch * io + (largestWeight?.bytes ?? 0);
  const total = weights + weightCopies + activations + workspace;
  return { purpose, batch, weights, weightCopies, activations, workspace, total, perImage, largestWeight, largestActivation, input };
}

/** 1.5 GiB, 640 MiB: one decimal where it helps. */
export function sizeText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${v >= 100 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

const shapeText = (s: readonly number[]) => s.join('×');

/** A problem that the budget foresees: one line, with what is needed and what is allowed. */
export class BudgetError extends Error {}

export interface Budget {
  bytes: number;
  /** Where the figure comes from, for the message: "75% of this machine's 23.5 GiB; --memory-limit or CNN_MEMORY_LIMIT sets it". */
  source: string;
}

/** The largest batch whose needs fit in `limit`, or 0 when not even one image fits. */
export function largestBatchWithin(n: MemoryNeeds, limit: number): number {
  const fixed = n.total - n.batch * n.perImage;
  if (n.perImage <= 0) return fixed <= limit ? Number.MAX_SAFE_INTEGER : 0;
  return Math.max(0, Math.floor((limit - fixed) / n.perImage));
}

/** What dominates the needs, said so that the network's own size is blamed, not the input file. */
function culprit(n: MemoryNeeds): string {
  const a = n.largestActivation;
  const i = n.input;
  const w = n.largestWeight;
  if (a && n.activations >= n.weights + n.weightCopies) {
    const input = i ? `the network's input ${shapeText(i.shape)} is ${sizeText(i.bytes)} per image` : '';
    if (a.isInput || !i) return input || `the largest activation, ${a.path} (${a.kind}) ${shapeText(a.shape)}, is ${sizeText(a.bytes)} per image`;
    return `${input}, the largest activation, ${a.path} (${a.kind}) ${shapeText(a.shape)}, ${sizeText(a.bytes)}`;
  }
  return w ? `the largest tensor, ${w.name} [${w.shape.join(', ')}], is ${sizeText(w.bytes)}` : '';
}

function breakdown(n: MemoryNeeds, copies = true): string {
  const parts = [`weights ${sizeText(n.weights)}${copies ? (n.purpose === 'export' ? ' three times (ours, the serialised tensors, the file)' : " twice (ours and the engine's copy)") : ''}`];
  if (n.activations) parts.push(`activations ${sizeText(n.activations)}`);
  const arrays = n.workspace - (n.largestWeight?.bytes ?? 0);
  if (copies && arrays > 0) parts.push(`input and output arrays ${sizeText(arrays)}`);
  const why = culprit(n);
  return `${parts.join(', ')}${why ? `; ${why}` : ''}`;
}

const VERB: Record<MemoryPurpose, string> = { run: 'to run', bench: 'to benchmark', export: 'to export' };

/**
 * Refuses, before anything is allocated, what would not fit in the budget. The message says
 * the need, its biggest part and the budget; a smaller batch is suggested only when one fits.
 */
export function checkMemoryBudget(n: MemoryNeeds, budget: Budget): void {
  if (n.total <= budget.bytes) return;
  const fits = n.batch > 1 ? Math.min(largestBatchWithin(n, budget.bytes), n.batch - 1) : 0;
  const hint = fits >= 1 ? `; a batch of ${fits} fits` : '';
  throw new BudgetError(
    `the network needs about ${sizeText(n.total)} of memory ${VERB[n.purpose]}${n.purpose === 'export' ? '' : ` at batch ${n.batch}`} (${breakdown(n)}), more than the memory budget of ${sizeText(budget.bytes)} (${budget.source})${hint}`,
  );
}

/** The CPU engine's WebAssembly memory: packed weights, activations and scratch under 4 GiB. */
export function checkWasmLimit(n: MemoryNeeds): void {
  const wasm = (batch: number) => n.weights + batch * n.perImage + (n.largestWeight?.bytes ?? 0);
  if (wasm(n.batch) <= WASM_MEMORY_LIMIT) return;
  let fits = 0;
  if (n.batch > 1 && n.perImage > 0) fits = Math.min(n.batch - 1, Math.max(0, Math.floor((WASM_MEMORY_LIMIT - wasm(0)) / n.perImage)));
  const hint = fits >= 1 ? `; a batch of ${fits} fits` : n.weights + (n.largestWeight?.bytes ?? 0) > WASM_MEMORY_LIMIT ? '; the weights alone do not fit' : '';
  throw new BudgetError(
    `the CPU engine (WebAssembly) addresses at most 4 GiB, and the network needs about ${sizeText(wasm(n.batch))} there at batch ${n.batch} (${breakdown(n, false)})${hint}`,
  );
}

/** An image's decoding and preprocessing: RGBA pixels, the inflated rows, float planes per channel. */
export function imageDecodeBytes(width: number, height: number, channels: number): number {
  return width * height * (4 + 8 + F32 * channels);
}

/**
 * A size as people write it: `8G`, `512M`, `1.5GiB`, `2000000000` (bytes), or a share of
 * `total` such as `50%`. Returns null for anything else.
 */
export function parseByteSize(text: string, total?: number): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%|[kmgtp]?i?b?)?\s*$/i.exec(text);
  if (!m) return null;
  const v = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '%') return total === undefined || v <= 0 || v > 100 ? null : Math.floor((v / 100) * total);
  const power = 'bkmgtp'.indexOf(unit[0] ?? 'b');
  if (power < 0 || (unit.length > 0 && unit !== 'b' && !/^[kmgtp](i?b)?$/.test(unit))) return null;
  const bytes = Math.floor(v * 1024 ** (unit === 'b' || unit === '' ? 0 : power));
  return bytes > 0 ? bytes : null;
}
