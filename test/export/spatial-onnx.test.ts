/**
 * The ONNX forms of upsample and convtranspose pass onnx.checker and ONNX's strict shape
 * inference, which agrees with the value_info of their temporaries: Resize by scales and by
 * sizes (from the input's Shape), the two Gathers of nearest to a size, and a ConvTranspose
 * followed by its Pad and bias where the output padding reaches the stride.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { initWeights } from '../../src/engine/weights/init';
import { exportOnnx } from '../../src/export/onnx';
import { isCI } from './helpers';

const NETWORKS = [
  'upsample 2\nupsample 2x3 mode=bilinear\nupsample 1x2 mode=bilinear align_corners=true',
  'upsample size=16x24\nrelu\nupsample size=9x40 mode=bilinear\nupsample size=5x5 mode=bilinear align_corners=true',
  'convtranspose 4 k=3 s=2 p=1 op=1\nconvtranspose 6 k=3 s=2 d=3 p=2x1 op=2 g=2\nconvtranspose 2 k=3 s=2 d=3 op=2 bias=false',
];

it('onnx.checker and strict shape inference accept the exports of upsample and convtranspose', () => {
  const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0);
  if (!python) {
    if (isCI) throw new Error("no python3 with onnx: .ci/run installs Debian's python3-onnx");
    console.warn('skipping onnx.checker: no python3 with onnx');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cnn-onnx-spatial-'));
  const jobs = NETWORKS.map((body, i) => {
    const text = `network S${i} {\n  input 4x7x9\n  ${body.split('\n').join('\n  ')}\n}\n`;
    const a = analyzeText(text);
    expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const net = a.networks[0];
    const path = join(dir, `s${i}.onnx`);
    writeFileSync(path, exportOnnx(net, initWeights(net.tensors, i), { source: `s${i}.cnn`, text }));
    return { path, layers: net.graph.nodes.length - 2 };
  });
  const r = spawnSync(python, [join(__dirname, 'onnx_check.py')], { input: JSON.stringify(jobs.map((j) => j.path)), encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const results = JSON.parse(r.stdout) as { ok: boolean; error?: string; valueInfo: number; mismatch: string[]; missing: string[] }[];
  results.forEach((res, i) => {
    expect(res.error, NETWORKS[i]).toBeUndefined();
    expect(res.valueInfo).toBeGreaterThanOrEqual(jobs[i].layers);
    expect(res.mismatch, NETWORKS[i]).toEqual([]);
  });
  // The float temporaries of the decompositions are declared too.
  expect(results[1].valueInfo).toBeGreaterThan(jobs[1].layers);
  expect(results[2].valueInfo).toBeGreaterThan(jobs[2].layers);
}, 120_000);
