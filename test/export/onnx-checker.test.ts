/**
 * Every exported example passes onnx.checker (Debian's python3-onnx, full check) and ONNX's strict
 * shape inference agrees with the value_info the export writes for each intermediate tensor;
 * every node names the source line it comes from. Under CI=true a missing onnx is a failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { initWeights } from '../../src/engine/weights/init';
import { exportOnnx } from '../../src/export/onnx';
import { isCI, ROOT } from './helpers';

/** Every example and the export zoo. */
const FILES = execFileSync('git', ['ls-files', 'examples/*.cnn', 'examples/**/*.cnn', 'test/export/zoo.cnn'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f.endsWith('.cnn'));

/** Zeros: the checker reads shapes, not values, and VGG-16 alone has 138 million. */
function zeros(net: { tensors: readonly { name: string; shape: number[] }[] }): Map<string, Float32Array> {
  return new Map(net.tensors.map((t) => [t.name, new Float32Array(t.shape.reduce((a, d) => a * d, 1))]));
}

function onnxPython(): string | null {
  for (const py of [process.env.CNN_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0) return py;
  }
  return null;
}

const python = onnxPython();

describe('onnx.checker on every exported example', () => {
  it('runs', () => {
    if (!python) {
      if (isCI) throw new Error("no python3 with onnx: .ci/run installs Debian's python3-onnx");
      console.warn('skipping onnx.checker: no python3 with onnx');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'cnn-onnx-check-'));
    const jobs = FILES.map((file, i) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const net = analyzeText(text).networks[0];
      const path = join(dir, `m${i}.onnx`);
      writeFileSync(path, exportOnnx(net, zeros(net), { source: file, text }));
      const layers = net.graph.nodes.filter((n) => n.attrs.kind !== 'input' && ![net.graph.output, ...net.graph.auxOutputs].includes(n.id)).length;
      return { file, path, layers };
    });
    const r = spawnSync(python, [join(__dirname, 'onnx_check.py')], { input: JSON.stringify(jobs.map((j) => j.path)), encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { ok: boolean; error?: string; valueInfo: number; mismatch: string[]; docs: number }[];
    results.forEach((res, i) => {
      expect(res.error, jobs[i].file).toBeUndefined();
      expect(res.ok).toBe(true);
      expect(res.valueInfo, `${jobs[i].file}: a value_info per intermediate layer output`).toBeGreaterThanOrEqual(jobs[i].layers);
      expect(res.mismatch, `${jobs[i].file}: value_info disagrees with ONNX's shape inference`).toEqual([]);
      expect(res.docs).toBeGreaterThan(0);
    });
  }, 600_000);

  it('quotes the statement and the block call in each node doc_string', async () => {
    const text = readFileSync(join(ROOT, 'examples/resnet18.cnn'), 'utf8');
    const net = analyzeText(text).networks[0];
    const bytes = exportOnnx(net, initWeights(net.tensors, 0), { source: 'resnet18.cnn', text });
    const s = Buffer.from(bytes).toString('latin1');
    const conv1 = net.graph.nodes.find((n) => n.path === 'layer1.0.conv1')!;
    const line = conv1.range.start.line + 1;
    const call = conv1.calls[conv1.calls.length - 1];
    expect(s).toContain(`resnet18.cnn:${line}: conv1: conv c k=3 s=s p=1 bias=false (in ${call.block}, called at line ${call.range.start.line + 1})`);
  });
});
