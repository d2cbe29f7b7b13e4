/**
 * The receptive field the Run tab draws on the input (webview/src/rf-view.ts), checked against
 * PyTorch: with all-ones weights and a positive input, the input pixels with a nonzero gradient
 * of one output unit are exactly that unit's field inside the image. Every unit of every layer of
 * a small stack with padding, a pool and a strided conv (fields that start in the padding, run
 * past the far border, and grow by the effective stride).
 *
 * Then the "effective" toggle in headless chromium (test/webview/harness.ts; needs `npm run
 * build`): the effective receptive field's heat map arrives from the engine worker, its pixels are
 * the colours of the map the engine computes in Node with the same weights and inputs, its bright
 * area lies inside the theoretical rectangle drawn over it, and the caption names the weights
 * (trained, then seeded) and the inputs averaged.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { effectiveReceptiveField, noiseInputs, type ErfResult } from '../../src/engine/train/erf';
import { runErf } from '../../webview/src/engine/erf-job';
import type { Progress } from '../../webview/src/engine/messages';
import { initWeights } from '../../src/engine/weights/init';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { brightBox, fieldGeometry, fmt, fmtValue, heatColour } from '../../webview/src/rf-view';
import { isCI, torchPython } from '../export/helpers';
import { choose, example, type Harness, launch, openDocument, openPanel, problems, ROOT, serve, takeOpened } from './harness';

const python = torchPython();

const NET = `network Fields {
  input 1x20x19
  conv 1 k=3 p=1 bias=false
  avgpool k=2
  conv 1 k=3 s=2 p=1 bias=false
  conv 1 k=5 p=2 bias=false
}`;

/** The same stack in PyTorch; per layer, per unit: the bounding box [y0, y1, x0, x1) of the input gradient. */
const TORCH = `
import json, torch
from torch import nn
layers = [nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False), nn.Conv2d(1, 1, 5, padding=2, bias=False)]
for l in layers:
    if hasattr(l, 'weight'): nn.init.ones_(l.weight)
out = []
for depth in range(1, len(layers) + 1):
    boxes = []
    x = torch.ones(1, 1, 20, 19, requires_grad=True)
    y = nn.Sequential(*layers[:depth])(x)
    H, W = y.shape[2], y.shape[3]
    for i in range(H):
        for j in range(W):
            g, = torch.autograd.grad(y[0, 0, i, j], x, retain_graph=True)
            nz = (g[0, 0] != 0).nonzero()
            boxes.append([int(nz[:, 0].min()), int(nz[:, 0].max()) + 1, int(nz[:, 1].min()), int(nz[:, 1].max()) + 1])
    out.append({'shape': [H, W], 'boxes': boxes})
print(json.dumps(out))
`;

describe('the receptive field drawn on the input', () => {
  it.skipIf(!python && !isCI)('is, for every unit of every layer, the input region whose gradient PyTorch finds nonzero, clipped at the borders', () => {
    const r = spawnSync(python ?? 'python3', ['-c', TORCH], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const torch = JSON.parse(r.stdout) as { shape: [number, number]; boxes: number[][] }[];
    const net = analyzeText(NET).networks[0];
    expect(net.input).toEqual([1, 20, 19]);
    const layers = net.graph.nodes.filter((n) => n.attrs.kind !== 'input');
    expect(layers.length).toBe(torch.length);
    layers.forEach((n, k) => {
      const info = net.layers[n.id];
      const [, Ho, Wo] = info.shape!;
      expect([Ho, Wo]).toEqual(torch[k].shape);
      let padded = 0;
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const g = fieldGeometry(info.rf!, [20, 19], [Ho, Wo], i, j);
          expect([g.inside.y0, g.inside.y1, g.inside.x0, g.inside.x1], `${n.path} unit (${i}, ${j})`).toEqual(torch[k].boxes[i * Wo + j]);
          // The whole field is the size the analysis gives; what is outside the image is the padded share.
          expect([g.y1 - g.y0, g.x1 - g.x0]).toEqual(info.rf!.size);
          const kept = (g.inside.y1 - g.inside.y0) * (g.inside.x1 - g.inside.x0);
          expect(g.paddedFraction).toBeCloseTo(1 - kept / (info.rf!.size[0] * info.rf!.size[1]), 12);
          if (g.paddedFraction > 0) padded++;
          // The view's margin holds every unit's field of this layer.
          expect(Math.max(-g.x0, -g.y0, g.x1 - 19, g.y1 - 20)).toBeLessThanOrEqual(g.reach);
        }
      // The border units' fields reach into the padding.
      expect(padded).toBeGreaterThan(0);
    });
  }, 60_000);

  it('writes fractional figures (upsampling strides) to two decimals, integers as they are', () => {
    expect([fmt(4), fmt(-3), fmt(0.5), fmt(1 / 3), fmt(2.25)]).toEqual(['4', '-3', '0.5', '0.33', '2.25']);
  });
});

describe('the heat map scale', () => {
  it('runs dark to bright through the stops, clamped outside [0, 1], brighter with every step', () => {
    expect(heatColour(0)).toEqual([0, 0, 4]);
    expect(heatColour(1)).toEqual([252, 255, 164]);
    expect(heatColour(-3)).toEqual(heatColour(0));
    expect(heatColour(7)).toEqual(heatColour(1));
    expect(heatColour(NaN)).toEqual(heatColour(0));
    const sum = (t: number) => heatColour(t).reduce((a, b) => a + b, 0);
    for (let i = 1; i <= 100; i++) expect(sum(i / 100), `t = ${i / 100}`).toBeGreaterThanOrEqual(sum((i - 1) / 100));
  });

  it('writes the largest value with three digits, exponent form below 0.01', () => {
    expect([fmtValue(0), fmtValue(0.5), fmtValue(1.23456), fmtValue(0.0012345), fmtValue(123456)]).toEqual(['0', '0.5', '1.23', '1.23e-3', '1.23e+5']);
  });

  it('finds the bright box: the pixels at or above a fraction of the largest value', () => {
    const m = new Float32Array(4 * 5);
    m[1 * 5 + 2] = 1;
    m[2 * 5 + 3] = 0.5;
    m[3 * 5 + 0] = 0.05;
    expect(brightBox(m, 4, 5, 0.1)).toEqual({ y0: 1, y1: 3, x0: 2, x1: 4 });
    expect(brightBox(m, 4, 5, 0.01)).toEqual({ y0: 1, y1: 4, x0: 0, x1: 4 });
    expect(brightBox(new Float32Array(20), 4, 5, 0.1)).toBeNull();
  });
});

describe("the engine worker's effective receptive field job", () => {
  const net = analyzeText('network J {\n  input 2x9x8\n  c1: conv 3 k=3 p=1\n  relu\n  c2: conv 2 k=3 s=2\n  flatten\n  fc: linear 3\n}\n').networks[0];
  const model = { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors, weights: initWeights(net.tensors, 0) };
  const c2 = net.graph.nodes.find((n) => n.path === 'c2')!.id;
  const hooks = (cancelAfter = Infinity) => {
    const seen: Progress[] = [];
    return { seen, progress: (p: Progress) => seen.push(p), cancelled: () => seen.length > cancelAfter };
  };

  it("averages over seeded noise, one input at a time with progress: the engine's map", async () => {
    const h = hooks();
    const r = await runErf(model, 'k1', undefined, { op: 'erf', node: c2, source: 'noise', count: 3, seed: 5 }, h);
    const want = effectiveReceptiveField(net.graph, model.weights, net.tensors, c2, { inputs: noiseInputs([2, 9, 8], 3, 5) });
    expect(Array.from(r.map)).toEqual(Array.from(want.map));
    expect([r.key, r.inputs, r.source, r.channel, r.centre]).toEqual(['k1', 3, 'noise', 'all', [1, 1]]);
    expect(h.seen.map((p) => `${p.done}/${p.total}`)).toEqual(['0/3', '1/3', '2/3', '3/3']);
  });

  it("takes the run's input for 'image'; says what is missing, or out of range, in one line; stops when cancelled", async () => {
    const x = noiseInputs([2, 9, 8], 1, 8).data;
    const r = await runErf(model, 'k', x, { op: 'erf', node: c2, source: 'image', count: 16, channel: 1 }, hooks());
    const want = effectiveReceptiveField(net.graph, model.weights, net.tensors, c2, { inputs: noiseInputs([2, 9, 8], 1, 8), channel: 1 });
    expect(Array.from(r.map)).toEqual(Array.from(want.map));
    expect([r.inputs, r.channel]).toEqual([1, 1]);
    await expect(runErf(model, 'k', undefined, { op: 'erf', node: c2, source: 'image', count: 1 }, hooks())).rejects.toThrow(/^run the network on an image first/);
    await expect(runErf(model, 'k', undefined, { op: 'erf', node: c2, source: 'noise', count: 65 }, hooks())).rejects.toThrow(/^the number of noise inputs must be 1…64, not 65$/);
    const fc = net.graph.nodes.find((n) => n.path === 'fc')!.id;
    await expect(runErf(model, 'k', undefined, { op: 'erf', node: fc, source: 'noise', count: 1 }, hooks())).rejects.toThrow(/no spatial centre/);
    await expect(runErf(model, 'k', undefined, { op: 'erf', node: c2, source: 'noise', count: 8 }, hooks(2))).rejects.toThrow(/^cancelled$/);
  });
});

describe('the effective receptive field in the panel', () => {
  const FASHION = 'fashion-mnist/fashion.cnn';
  const LABELS = readFileSync(join(ROOT, 'examples/fashion-mnist/labels.txt'), 'utf8').trim().split('\n');
  const net = analyzeText(example(FASHION)).networks[0];
  const trained = loadSafetensorsWeights(new Uint8Array(readFileSync(join(ROOT, 'examples/fashion-mnist/fashion.safetensors'))), net.tensors);
  const seeded = initWeights(net.tensors, 0);
  let server: Harness;
  let browser: Browser;

  beforeAll(async () => {
    server = await serve();
    browser = await launch(false);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  afterEach(() => {
    for (const page of takeOpened()) expect(problems(page), 'console errors and CSP violations in the panel').toEqual([]);
  });

  /** The figure as drawn: its data, caption, legend, the heat image's pixels (RGBA), and the outlined field's part inside the image. */
  async function drawn(page: Page) {
    return page.evaluate(async () => {
      const fig = document.getElementById('erf')!;
      const image = fig.querySelector<SVGImageElement>('svg image.erf-heat')!;
      const img = new Image();
      img.src = image.getAttribute('href')!;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const inside = fig.querySelector('svg rect.rf-inside')!;
      const { node, inputs, unit, max } = fig.dataset;
      return {
        node,
        inputs,
        unit,
        max,
        caption: fig.querySelector('figcaption')!.textContent!,
        legend: fig.querySelector('.erf-max')!.textContent!,
        width: c.width,
        height: c.height,
        pixels: Array.from(ctx.getImageData(0, 0, c.width, c.height).data),
        inside: ['x', 'y', 'width', 'height'].map((a) => Number(inside.getAttribute(a))),
      };
    });
  }

  /** The drawn figure is the engine's map of `path` with `weights` over 4 noise inputs of seed 0: colour by colour, bright area inside the field. */
  async function expectMap(page: Page, path: string, weights: Map<string, Float32Array>): Promise<ErfResult> {
    const d = await drawn(page);
    const want = effectiveReceptiveField(net.graph, weights, net.tensors, path, { inputs: noiseInputs(net.input!, 4, 0) });
    expect(d.node).toBe(String(want.node));
    expect(d.inputs).toBe('4');
    expect(d.unit).toBe(want.centre.join(','));
    expect(Math.abs(Number(d.max) - want.max) / want.max).toBeLessThanOrEqual(1e-6);
    expect(d.legend).toBe(`${fmtValue(Number(d.max))} (max |∂y/∂x|)`);
    expect([d.height, d.width]).toEqual([28, 28]);
    let bright = 0;
    const threshold = heatColour(0.1).reduce((a, b) => a + b, 0);
    for (let i = 0; i < 28 * 28; i++) {
      const got = d.pixels.slice(4 * i, 4 * i + 3);
      const colour = heatColour(want.map[i] / want.max);
      for (let k = 0; k < 3; k++) expect(Math.abs(got[k] - colour[k]), `pixel ${i}`).toBeLessThanOrEqual(1);
      if (got[0] + got[1] + got[2] < threshold) continue;
      // A bright pixel lies inside the part of the theoretical field within the image.
      const [y, x] = [Math.floor(i / 28), i % 28];
      const [rx, ry, rw, rh] = d.inside;
      expect(x >= rx && x < rx + rw && y >= ry && y < ry + rh, `bright pixel (${y}, ${x}) outside the field [${d.inside}]`).toBe(true);
      bright++;
    }
    expect(bright).toBeGreaterThan(0);
    // The outline is the theoretical field of the same unit, from the analysis.
    const g = fieldGeometry(net.layers[want.node].rf!, [28, 28], net.layers[want.node].shape!.slice(1) as [number, number], ...want.centre);
    expect(d.inside).toEqual([g.inside.x0, g.inside.y0, g.inside.x1 - g.inside.x0, g.inside.y1 - g.inside.y0]);
    return want;
  }

  it('draws the map of the feature layer from the worker, with the trained weights then the seeded ones; a flat layer says it has no centre', async () => {
    const page = await openPanel(browser, server.url, 'dark', { width: 1200, height: 1000 });
    await openDocument(page, FASHION, LABELS, { weights: [{ uri: `${server.url}/examples/fashion-mnist/fashion.safetensors`, name: 'fashion.safetensors' }] });
    await page.click('#tab-run');
    await page.waitForSelector('#view-run', { state: 'visible' });
    const path = 'stage2.1.conv';
    expect(net.graph.nodes.some((n) => n.path === path)).toBe(true);
    await choose(page, 'feature-picker', path);
    expect(await page.locator('#erf').isHidden()).toBe(true);
    await page.check('#erf-toggle');
    await page.waitForSelector('#erf[data-weights="beside"] svg image.erf-heat', { timeout: 60_000 });
    const after = await expectMap(page, path, trained);
    expect(await page.locator('#erf-caption').textContent()).toMatch(
      /^Effective receptive field of stage2\.1\.conv, centre unit \(6, 6\), the sum of its 32 channels: mean \|∂y\/∂x\| over 4 standard-normal noise inputs \(seed 0\) and the 1 input channel, with weights fashion\.safetensors \(beside the file\)\. Outlined: the theoretical field of that unit, 14×14\.$/,
    );
    // Before training: the seeded weights, picked in the Weights drop-down.
    await choose(page, 'weights-picker', 'seeded');
    await page.waitForSelector('#erf[data-weights="seeded"] svg image.erf-heat', { timeout: 60_000 });
    const before = await expectMap(page, path, seeded);
    expect(await page.locator('#erf-caption').textContent()).toContain('with seeded weights (He normal, seed 0: the network before training)');
    expect(before.max).not.toBeCloseTo(after.max, 3);
    // A flat layer: no spatial centre, said in one line.
    await choose(page, 'feature-picker', 'fc');
    await page.waitForFunction(() => /no spatial centre/.test(document.querySelector('#erf .note')?.textContent ?? ''));
    expect(await page.locator('#erf svg').count()).toBe(0);
    await page.close();
  }, 120_000);
});
