/**
 * The PyTorch export run in PyTorch (Debian's python3-torch, or any python3 with torch and
 * numpy; $CNN_PYTHON chooses one): state_dict names, shapes and order equal `cnn params`, the
 * generated safetensors loader reads our files, num_batches_tracked entries are accepted, and
 * the forward pass on the same weights and input equals our CPU reference within 1e-4.
 * Under CI=true a missing torch is a failure (.ci/run installs python3-torch), else a skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine/input/npy';
import { loadSafetensorsWeights, saveSafetensorsWeights } from '../../src/engine/weights/load';
import { exportPytorch, pythonClassName } from '../../src/export/pytorch';
import { expectClose } from '../engine/helpers';
import { isCI, makeCase, networks, relativeError, ROOT, torchPython, ZOO, type Case } from './helpers';

const python = torchPython();
const missing = 'no python3 with torch and numpy: install Debian\'s python3-torch (apt-get install -y python3-torch) or set CNN_PYTHON';

interface Result {
  names: string[];
  shapes: number[][];
  outputs: number;
  sameWithCounter: boolean;
  grads: number;
  params: number;
  repr: string;
}

/** Exports each case, runs them all in one Python process (torch imports once), and returns what it reports. */
function runInTorch(cases: Case[]): { results: Result[]; outputs: Float32Array[][]; saved: Map<string, Float32Array>[] } {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-export-torch-'));
  const jobs = cases.map((c, i) => {
    const stem = join(dir, `net${i}`);
    writeFileSync(`${stem}.py`, exportPytorch(c.net, { source: 'test' }));
    writeFileSync(`${stem}.safetensors`, saveSafetensorsWeights(c.net.tensors, c.weights));
    writeFileSync(`${stem}-x.npy`, writeNpy(c.x.shape, c.x.data));
    return { module: `${stem}.py`, class: pythonClassName(c.net.graph.network), weights: `${stem}.safetensors`, input: `${stem}-x.npy`, out: `${stem}-y` };
  });
  const r = spawnSync(python!, [join(__dirname, 'torch_check.py')], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  const results = JSON.parse(r.stdout) as Result[];
  const outputs = results.map((res, i) => Array.from({ length: res.outputs }, (_, k) => readNpy(readFileSync(`${jobs[i].out}${k}.npy`)).data));
  const saved = jobs.map((j, i) => loadSafetensorsWeights(readFileSync(`${j.out}-saved.safetensors`), cases[i].net.tensors));
  return { results, outputs, saved };
}

if (!python) {
  it('PyTorch export: needs python3 with torch', () => {
    if (isCI) throw new Error(missing);
    console.warn(`skipping the PyTorch export tests: ${missing}`);
  });
}

describe.skipIf(!python)('PyTorch export in PyTorch against the CPU reference', () => {
  const cases: [string, Case][] = [
    ['ResNet-18 at 3x64x64', makeCase(networks(join(ROOT, 'examples/resnet18.cnn'), [3, 64, 64])[0])],
    ['GoogLeNet at 3x64x64', makeCase(networks(join(ROOT, 'examples/googlenet.cnn'), [3, 64, 64])[0])],
    ...networks(ZOO).map((n): [string, Case] => [`zoo: ${n.graph.network}`, makeCase(n, { seed: 11 })]),
  ];
  const FASHION = join(ROOT, 'examples/fashion-mnist');
  if (existsSync(join(FASHION, 'fashion.safetensors'))) {
    const [net] = networks(join(FASHION, 'fashion.cnn'));
    const weights = loadSafetensorsWeights(readFileSync(join(FASHION, 'fashion.safetensors')), net.tensors);
    cases.push(['Fashion-MNIST with its trained weights', makeCase(net, { batch: 4, weights, range: [0, 1] })]);
  }

  // One Python run for all cases, its failure reported by each test rather than retried.
  let run: { ok: ReturnType<typeof runInTorch> } | { error: Error } | undefined;
  const ran = () => {
    if (!run) {
      try {
        run = { ok: runInTorch(cases.map(([, c]) => c)) };
      } catch (e) {
        run = { error: e as Error };
      }
    }
    if ('error' in run) throw run.error;
    return run.ok;
  };

  cases.forEach(([what, c], i) => {
    it(what, () => {
      const { results, outputs, saved } = ran();
      const res = results[i];
      // state_dict: exactly our names, in definition order, with our shapes.
      expect(res.names).toEqual(c.net.tensors.map((t) => t.name));
      expect(res.shapes).toEqual(c.net.tensors.map((t) => t.shape));
      expect(res.repr.startsWith(`${pythonClassName(c.net.graph.network)}(`)).toBe(true);
      expect(res.sameWithCounter).toBe(true);
      expect(res.grads).toBe(res.params);
      // Main output, then the aux outputs.
      expect(outputs[i]).toHaveLength(c.expected.length);
      outputs[i].forEach((y, k) => {
        expectClose(y, c.expected[k], 1e-4, `${what} output ${k}`);
        expect(relativeError(y, c.expected[k]).rel).toBeLessThan(1e-4);
      });
      // save_weights writes what load_weights read.
      for (const t of c.net.tensors) expect(Buffer.compare(Buffer.from(saved[i].get(t.name)!.buffer), Buffer.from(c.weights.get(t.name)!.buffer)), t.name).toBe(0);
    });
  });
});
