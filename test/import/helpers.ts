import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { createFastCpuSession, type Model } from '../../src/engine/session';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { torchPython } from '../export/helpers';

export interface TorchJob {
  id: string;
  model: string;
  kwargs?: Record<string, unknown>;
  size: number;
  opset?: number;
  batch?: number;
  randomize_bn?: boolean;
  seed?: number;
}

export interface TorchExport {
  onnx: Uint8Array;
  input: Float32Array;
  output: Float32Array;
  macs: number;
  params: number;
  outputShape: number[];
  /** The model's state_dict keys, in order. */
  keys: string[];
  batch: number;
}

function floats(path: string): Float32Array {
  const b = readFileSync(path);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** One Python process exports every job (torch's import alone takes seconds). */
export function exportTorchvision(jobs: TorchJob[]): Map<string, TorchExport> {
  const py = torchPython();
  if (!py) throw new Error('no python3 with torch');
  const dir = mkdtempSync(join(tmpdir(), 'cnn-import-'));
  const r = spawnSync(py, [join(__dirname, 'torchvision_onnx.py')], {
    input: JSON.stringify(jobs.map((j) => ({ ...j, dir }))),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`torchvision_onnx.py failed: ${r.stderr.split('\n').slice(-5).join('\n')}`);
  const out = new Map<string, TorchExport>();
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const res = JSON.parse(line) as { id: string; macs: number; params: number; output_shape: number[]; keys: string[] };
    const job = jobs.find((j) => j.id === res.id)!;
    const base = join(dir, res.id);
    out.set(res.id, {
      onnx: readFileSync(`${base}.onnx`),
      input: floats(`${base}.input.bin`),
      output: floats(`${base}.output.bin`),
      macs: res.macs,
      params: res.params,
      outputShape: res.output_shape,
      keys: res.keys,
      batch: job.batch ?? 2,
    });
  }
  return out;
}

/** The network of an imported text, with no errors. */
export function analysed(text: string, inputShape?: number[]): NetworkAnalysis {
  const a = analyzeText(text, { inputShape });
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`the imported text has errors: ${errors.map((e) => `${e.range.start.line + 1}: ${e.message}`).join('; ')}`);
  return a.networks[0];
}

export function modelOf(net: NetworkAnalysis, weights: ReadonlyMap<string, Float32Array>): Model {
  return { graph: net.graph, shapes: net.layers.map((l) => l.shape as number[]), tensors: net.tensors, weights };
}

/** One forward pass on the fast CPU engine. */
export async function forward(net: NetworkAnalysis, weights: ReadonlyMap<string, Float32Array>, input: Float32Array, batch: number): Promise<Float32Array> {
  const s = await createFastCpuSession(modelOf(net, weights), batch);
  try {
    return await s.run(input);
  } finally {
    s.destroy();
  }
}

export function weightsOf(net: NetworkAnalysis, safetensors: Uint8Array): Map<string, Float32Array> {
  return loadSafetensorsWeights(safetensors, net.tensors);
}

/** Lines that are neither blank nor comments: how long the text reads. */
export function codeLines(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
}
