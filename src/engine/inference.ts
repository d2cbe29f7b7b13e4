/** What every engine offers: a model ready to run, and a session that runs it at one batch size. */
import type { ParamTensor } from '../analysis/types';
import type { Graph } from '../graph/types';

export type BackendKind = 'cpu' | 'webgpu';

/** A network ready to run: its graph, every node's shape (without batch), its tensors' names and values. */
export interface Model {
  graph: Graph;
  shapes: readonly number[][];
  tensors: readonly ParamTensor[];
  weights: ReadonlyMap<string, Float32Array>;
}

export interface LayerTime {
  /** The layer's path; on WebGPU the head of a fused step (conv + bn + relu report as the conv). */
  path: string;
  nodes: number[];
  ms: number;
}

export interface InferenceSession {
  readonly backend: BackendKind;
  /** What runs it: the GPU adapter's name, or the CPU's. */
  readonly adapter: string;
  readonly batch: number;
  /** One forward pass of `batch` inputs, `[batch, ...input shape]` flattened; returns `[batch, ...output shape]` flattened. */
  run(input: Float32Array): Promise<Float32Array>;
  /** One forward pass timed per layer. */
  profile(input: Float32Array): Promise<LayerTime[]>;
  destroy(): void;
}

