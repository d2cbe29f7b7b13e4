/**
 * The race harness (scripts/race, `npm run bench:race`) on the trained Fashion-MNIST example,
 * one warm-up and two runs a side: the JSON's shape, and our engines' outputs against ONNX
 * Runtime Web's on the same exported model and weights (WebGPU: SwiftShader where no GPU is).
 * Behaviour only, no timing claims. Needs /usr/bin/chromium (or $CHROMIUM); skipped without it,
 * a failure under CI.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, formatTable, prepare, NETWORKS, race, stats, type RaceResult } from '../../scripts/race/harness';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const haveChromium = existsSync(DEFAULTS.chromium);
if (!haveChromium && CI) throw new Error(`the race test needs chromium at ${DEFAULTS.chromium} under CI`);

describe('race helpers', () => {
  it('median and p90 by nearest rank', () => {
    const s = stats([5, 1, 4, 2, 3, 10, 6, 7, 8, 9]);
    expect(s.medianMs).toBe(5.5);
    expect(s.p90Ms).toBe(9);
    expect(s.minMs).toBe(1);
    expect(s.runs).toBe(10);
    expect(stats([3, 1, 2]).medianMs).toBe(2);
  });

  it('prepares the same weights for ONNX and for our engine, at the asked size', () => {
    const r18 = prepare(NETWORKS.find((n) => n.key === 'resnet18')!, 32);
    expect(r18.inputShape).toEqual([1, 3, 32, 32]);
    expect([...r18.files.keys()].sort()).toEqual(['/m/resnet18-32.json', '/m/resnet18-32.onnx', '/m/resnet18-32.safetensors']);
    const fashion = prepare(NETWORKS.find((n) => n.key === 'fashion')!, 224);
    expect(fashion.inputShape).toEqual([1, 1, 28, 28]);
    expect(fashion.weights).toMatch(/fashion\.safetensors$/);
  });
});

describe.skipIf(!haveChromium)('the race on Fashion-MNIST', () => {
  let result: RaceResult;

  it('runs both sides and writes the result', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    result = await race({ gpuNetworks: ['fashion'], cpuNetworks: ['fashion'], runs: 2, warmup: 1 }, (l) => lines.push(l));
    expect(lines.some((l) => l.startsWith('Fashion-MNIST WebGPU'))).toBe(true);
    expect(lines.some((l) => /run 2\/2: ours .* ORT /.test(l))).toBe(true);

    expect(result.rows.map((r) => r.side)).toEqual(['gpu', 'cpu']);
    expect(result.ort.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(result.ort.threads).toBe(1);
    expect(result.ort.crossOriginIsolated).toBe(true);
    expect(result.cpuEngine).toMatch(/^create(Fast)?CpuSession$/);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.browser).toMatch(/chromium/i);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);

    for (const row of result.rows) {
      expect(row.error, `${row.side}: ${row.error}`).toBeUndefined();
      expect(row.ours.error, `${row.side} ours: ${row.ours.error}`).toBeUndefined();
      expect(row.ort.error, `${row.side} ORT: ${row.ort.error}`).toBeUndefined();
      expect(row.network).toBe('fashion');
      expect(row.size).toBe(28);
      expect(row.inputShape).toEqual([1, 1, 28, 28]);
      for (const e of [row.ours, row.ort]) {
        expect(e.stats!.runs).toBe(2);
        expect(e.stats!.timesMs).toHaveLength(2);
        expect(e.stats!.medianMs).toBeGreaterThan(0);
        expect(e.stats!.p90Ms).toBeGreaterThanOrEqual(e.stats!.medianMs);
      }
      expect(row.ratio).toBeCloseTo(row.ort.stats!.medianMs / row.ours.stats!.medianMs, 10);
      // The trained network's softmax outputs: the same model, the same input, the same answer.
      expect(row.maxAbsOutput).toBeGreaterThan(0.1);
      expect(row.maxAbsDiff).toBeLessThan(1e-4);
      expect(row.top1Agree).toBe(true);
    }
    const gpu = result.rows[0];
    expect(gpu.ours.engine).toBe('createWebGpuSession');
    expect(gpu.ort.provider).toBe('webgpu');
    expect(result.rows[1].ort.provider).toBe('wasm');
  });

  it('prints one table per side', () => {
    expect(result).toBeDefined();
    const table = formatTable(result);
    expect(table).toMatch(/^WebGPU: /m);
    expect(table).toMatch(/^CPU: /m);
    expect(table.match(/^Fashion-MNIST +28 /gm)).toHaveLength(2);
  });

  it('records a network that cannot run and goes on', { timeout: 120_000 }, async () => {
    // VGG-16's five pools take 16 pixels to nothing: the row carries the error, the next network runs.
    const r = await race({ cpuNetworks: ['vgg16', 'fashion'], sides: ['cpu'], cpuSize: 16, runs: 1, warmup: 0 });
    expect(r.rows.map((x) => x.network)).toEqual(['vgg16', 'fashion']);
    expect(r.rows[0].error).toMatch(/vgg16\.cnn at 16/);
    expect(r.rows[0].ratio).toBeNull();
    expect(r.rows[1].error).toBeUndefined();
    expect(r.rows[1].ours.stats?.runs).toBe(1);
    expect(r.rows[1].ort.stats?.runs).toBe(1);
    expect(formatTable(r)).toMatch(/^VGG-16 .*vgg16\.cnn at 16/m);
  });
});
