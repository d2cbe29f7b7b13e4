/**
 * The webview bundle in a real browser: headless Debian chromium (WebGPU on SwiftShader) through
 * playwright-core, the page served from 127.0.0.1 by the harness under the panel's CSP. Needs
 * `npm run build` first (dist/webview/). Screenshots go to docs/screenshots/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { blockInstances } from '../../webview/src/model';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { decodeImage } from '../../src/engine/input/decode-node';
import { preprocessImage } from '../../src/engine/input/preprocess';
import { tensor } from '../../src/engine/tensor';
import { initWeights } from '../../src/engine/weights/init';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import type { FromWebview, PickedFile } from '../../webview/src/protocol';
import { choose, example, type Harness, launch, openDocument, openPanel, posted, problems, ROOT, send, serve, setTheme, takeOpened } from './harness';

const SHOTS = join(ROOT, 'docs/screenshots');
const FASHION = 'fashion-mnist/fashion.cnn';
const FASHION_LABELS = readFileSync(join(ROOT, 'examples/fashion-mnist/labels.txt'), 'utf8').trim().split('\n');

let server: Harness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await serve();
  browser = await launch(true);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// Every page a test opened: no console error, uncaught exception or CSP violation.
afterEach(() => {
  for (const page of takeOpened()) expect(problems(page), 'console errors and CSP violations in the panel').toEqual([]);
});

/** Whether the segment p–q passes through the inside of rectangle r (Liang–Barsky clipping). */
function segmentHitsRect(p: [number, number], q: [number, number], r: { x: number; y: number; w: number; h: number }): boolean {
  const [dx, dy] = [q[0] - p[0], q[1] - p[1]];
  let t0 = 0;
  let t1 = 1;
  for (const [a, b] of [
    [-dx, p[0] - r.x],
    [dx, r.x + r.w - p[0]],
    [-dy, p[1] - r.y],
    [dy, r.y + r.h - p[1]],
  ]) {
    if (a === 0) {
      if (b < 0) return false;
      continue;
    }
    const t = b / a;
    if (a < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 > t1) return false;
  }
  return t0 < t1;
}

async function shot(page: Page, selector: string, name: string): Promise<void> {
  await page.locator(selector).screenshot({ path: join(SHOTS, `${name}.png`), animations: 'disabled' });
}

async function tab(page: Page, id: 'network' | 'run' | 'benchmark'): Promise<void> {
  await page.click(`#tab-${id}`);
  await page.waitForSelector(`#view-${id}`, { state: 'visible' });
}

/** Top-1 of the CPU reference engine in Node, the way `cnn run` computes it. */
function cpuTop1(file: string, image: string, weights?: string): number {
  const a = analyzeText(example(file)).networks[0];
  const w = weights ? loadSafetensorsWeights(new Uint8Array(readFileSync(join(ROOT, weights))), a.tensors) : initWeights(a.tensors, 0);
  const [C, H, W] = a.input!;
  const input = preprocessImage(decodeImage(new Uint8Array(readFileSync(join(ROOT, image)))), { channels: C, height: H, width: W });
  const out = forwardCpu(a.graph, w, a.tensors, tensor([1, C, H, W], input)).output.data;
  let best = 0;
  for (let i = 1; i < out.length; i++) if (out[i] > out[best]) best = i;
  return best;
}

/** The trained weights beside the Fashion-MNIST example, as the extension hands them to the page. */
function fashionWeights(): PickedFile {
  return { uri: `${server.url}/examples/fashion-mnist/fashion.safetensors`, name: 'fashion.safetensors' };
}

async function runAndTop1(page: Page, backend: 'cpu' | 'webgpu'): Promise<number> {
  await choose(page, 'backend-picker', backend);
  await page.evaluate(() => (document.getElementById('run-status')!.textContent = ''));
  await page.click('#run-button');
  await page.waitForFunction((b) => document.getElementById('run-status')?.dataset.backend === b && /forward pass/.test(document.getElementById('run-status')!.textContent ?? ''), backend, { timeout: 30_000 });
  await page.waitForSelector('#predictions li');
  return Number(await page.locator('#predictions li').first().getAttribute('data-index'));
}

describe('network panel in chromium', () => {
  it('renders every example: graph nodes, one table row per layer, charts, no page errors', async () => {
    const page = await openPanel(browser, server.url);
    for (const file of ['cifar.cnn', 'alexnet.cnn', 'resnet18.cnn', 'googlenet.cnn', 'vgg16.cnn', 'resnext50_32x4d.cnn', FASHION]) {
      await openDocument(page, file);
      const net = analyzeText(example(file)).networks[0];
      await expect.poll(() => page.locator('#table tbody tr').count()).toBe(net.graph.nodes.length);
      expect(await page.locator('#graph svg .node').count()).toBeGreaterThan(0);
      expect(await page.locator('#charts svg.chart').count()).toBe(2);
      expect(await page.locator('#summary').textContent()).toContain(net.graph.network);
      expect(await page.locator('#table tfoot').textContent()).toContain(net.totals.params.toLocaleString('en-US'));
    }
    expect(problems(page)).toEqual([]);
    expect(await page.locator('#messages .message.error').count()).toBe(0);
    await page.close();
  });

  it('draws branches and merges: ResNet-18 residual adds as merge nodes, collapsible blocks', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, 'resnet18.cnn');
    // More than 60 layers: the blocks start collapsed.
    expect(await page.locator('#graph svg .node.block').count()).toBe(8);
    await page.click('#expand-all');
    await expect.poll(() => page.locator('#graph svg .node.merge').count()).toBe(8);
    expect(await page.locator('#graph svg .edge.skip').count()).toBeGreaterThan(0);
    const before = await page.locator('#graph svg .node').count();
    await page.click('#collapse-all');
    await expect.poll(() => page.locator('#graph svg .node.block').count()).toBeGreaterThan(0);
    expect(await page.locator('#graph svg .node').count()).toBeLessThan(before);
    await page.click('#expand-all');
    await expect.poll(() => page.locator('#graph svg .node').count()).toBe(before);
    await page.close();
  });

  it('lays out GoogLeNet expanded, ResNeXt-50 and DenseNet-121: no box overlaps another, no edge crosses a box, every label fits its box', async () => {
    const page = await openPanel(browser, server.url, 'dark', { width: 1200, height: 900 });
    const nets: [string, string][] = [
      ['googlenet.cnn', example('googlenet.cnn')],
      ['resnext50_32x4d.cnn', example('resnext50_32x4d.cnn')],
      ['densenet121.cnn', readFileSync(join(ROOT, 'test/webview/networks/densenet121.cnn'), 'utf8')],
    ];
    for (const [file, text] of nets) {
      const net = analyzeText(text).networks[0];
      await send(page, { type: 'document', uri: `file:///work/examples/${file}`, fileName: `/work/examples/${file}`, text, version: 1 });
      await page.waitForSelector('#graph svg .node');
      await page.click('#expand-all');
      await expect.poll(() => page.locator('#graph svg .node').count(), { timeout: 120_000 }).toBe(net.graph.nodes.length);
      const g = await page.evaluate(() => {
        const svg = document.querySelector('#graph svg') as SVGSVGElement;
        const boxes = Array.from(svg.querySelectorAll<SVGGElement>('.node')).map((n) => {
          const t = /translate\(([-\d.]+),([-\d.]+)\)/.exec(n.getAttribute('transform')!)!;
          const r = n.querySelector('rect.box')!;
          const w = Number(r.getAttribute('width'));
          // Each text's extent inside its box (getBBox is in the box's own coordinates).
          const texts = Array.from(n.querySelectorAll('text')).map((x) => ({ x0: x.getBBox().x, x1: x.getBBox().x + x.getBBox().width, s: x.textContent }));
          return { unit: n.dataset.unit!, node: n.dataset.node, x: Number(t[1]), y: Number(t[2]), w, h: Number(r.getAttribute('height')), texts };
        });
        const frames = Array.from(svg.querySelectorAll('.frame-group')).map((f) => {
          const r = f.querySelector('rect.frame')!;
          const t = f.querySelector('text')!.getBBox();
          return { x: Number(r.getAttribute('x')), w: Number(r.getAttribute('width')), t0: t.x, t1: t.x + t.width };
        });
        const edges = Array.from(svg.querySelectorAll('polyline.edge')).map((e) => ({
          from: e.getAttribute('data-from')!,
          to: e.getAttribute('data-to')!,
          points: e.getAttribute('points')!.split(' ').map((p) => p.split(',').map(Number) as [number, number]),
        }));
        return { boxes, frames, edges, width: Number(svg.getAttribute('width')), ms: Number(svg.dataset.layoutMs) };
      });
      console.log(`${file}: ${g.boxes.length} boxes, ${g.edges.length} edges, ${g.frames.length} frames, ${g.width} px wide, laid out in ${g.ms} ms (layout worker)`);
      expect(g.edges.length).toBeGreaterThanOrEqual(net.graph.nodes.length - 1);
      // No two boxes overlap.
      const overlaps: string[] = [];
      for (let i = 0; i < g.boxes.length; i++)
        for (let j = i + 1; j < g.boxes.length; j++) {
          const a = g.boxes[i];
          const b = g.boxes[j];
          if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push(`${a.unit} / ${b.unit}`);
        }
      expect(overlaps, file).toEqual([]);
      // No edge's polyline passes through a box other than its two ends (1 px of slack at the borders).
      const through: string[] = [];
      for (const e of g.edges) {
        expect(e.points.length, `${e.from}>${e.to}`).toBeGreaterThanOrEqual(2);
        for (const b of g.boxes) {
          if (b.unit === e.from || b.unit === e.to) continue;
          for (let k = 0; k + 1 < e.points.length; k++)
            if (segmentHitsRect(e.points[k], e.points[k + 1], { x: b.x + 1, y: b.y + 1, w: b.w - 2, h: b.h - 2 })) {
              through.push(`${e.from}>${e.to} through ${b.unit}`);
              break;
            }
        }
      }
      expect(through, file).toEqual([]);
      // Every label inside its box (truncated with a tooltip where it would not fit), every frame's tag inside its frame.
      for (const b of g.boxes) for (const t of b.texts) expect(t.x0 >= -0.5 && t.x1 <= b.w + 0.5, `${file} ${b.unit}: "${t.s}" spans ${t.x0.toFixed(1)}..${t.x1.toFixed(1)} in a box ${b.w} wide`).toBe(true);
      for (const f of g.frames) expect(f.t0 >= f.x && f.t1 <= f.x + f.w, `${file}: a frame's tag spans ${f.t0}..${f.t1} in ${f.x}..${f.x + f.w}`).toBe(true);
      if (file === 'googlenet.cnn') {
        // A branch width: the widest extent, left to right, of one Inception block's four branches
        // side by side. The whole graph is at most three of them wide (the aux-free GoogLeNet is a
        // column of such fan-outs: a layout that drifts sideways from block to block is not).
        const at = new Map(g.boxes.filter((b) => b.node !== undefined).map((b) => [Number(b.node), b]));
        const inception = blockInstances(net.graph.nodes).filter((b) => b.block === 'Inception');
        expect(inception.length).toBe(9);
        const branchWidth = Math.max(
          ...inception.map((b) => {
            const bs = b.nodes.filter((id) => net.graph.nodes[id].attrs.kind !== 'concat').map((id) => at.get(id)!);
            return Math.max(...bs.map((x) => x.x + x.w)) - Math.min(...bs.map((x) => x.x));
          }),
        );
        const left = Math.min(...g.boxes.map((b) => b.x));
        const right = Math.max(...g.boxes.map((b) => b.x + b.w));
        console.log(`googlenet.cnn: branch width ${branchWidth.toFixed(0)} px, graph ${(right - left).toFixed(0)} px = ${((right - left) / branchWidth).toFixed(2)} branch widths`);
        expect(right - left).toBeLessThanOrEqual(3 * branchWidth);
      }
    }
    await page.close();
  }, 400_000);

  it('names unlabelled layers by kind and place in their parent: table, graph, feature-map picker grouped by block', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, 'alexnet.cnn');
    const alex = analyzeText(example('alexnet.cnn')).networks[0];
    // torchvision's numbering: the second relu is statement 4 of `features`.
    const relu2 = alex.graph.nodes.find((n) => n.path === 'features.4')!;
    expect(await page.locator(`#table tr[data-node="${relu2.id}"] td`).nth(1).textContent()).toBe('features › relu 2');
    expect(await page.locator(`#graph svg .node[data-node="${relu2.id}"] > title`).textContent()).toMatch(/^features › relu 2 \(features\.4\): relu →/);
    await openDocument(page, 'resnet18.cnn');
    const res = analyzeText(example('resnet18.cnn')).networks[0];
    await tab(page, 'run');
    const groups = await page.locator('#feature-picker optgroup').evaluateAll((gs) => gs.map((g) => (g as HTMLOptGroupElement).label));
    expect(groups.slice(0, 2)).toEqual(['layer1.0 (Basic)', 'layer1.1 (Basic)']);
    // The block's layers sit in its group; the stem (outside any block) is not grouped.
    const inGroup = await page.locator('#feature-picker optgroup').first().locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(inGroup).toEqual(res.graph.nodes.filter((n) => n.path.startsWith('layer1.0.')).map((n) => n.path));
    expect(await page.locator('#feature-picker > option').first().textContent()).toMatch(/^conv1 \(conv 64 k7 s2 p3\)/);
    await page.close();
  });

  it('clicking a node or a row posts reveal with its range; the cursor highlights the layer', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, 'cifar.cnn');
    const net = analyzeText(example('cifar.cnn')).networks[0];
    const pool = net.graph.nodes.find((n) => n.attrs.kind === 'maxpool')!;
    await page.click(`#graph svg .node[data-node="${pool.id}"]`);
    let reveal = (await posted(page)).filter((m): m is Extract<FromWebview, { type: 'reveal' }> => m.type === 'reveal').pop();
    expect(reveal).toEqual({ type: 'reveal', uri: 'file:///work/examples/cifar.cnn', range: pool.range });
    expect(await page.locator(`#table tr[data-node="${pool.id}"]`).getAttribute('class')).toContain('selected');

    const fc = net.graph.nodes.find((n) => n.attrs.kind === 'linear')!;
    await page.click(`#table tr[data-node="${fc.id}"]`);
    reveal = (await posted(page)).filter((m): m is Extract<FromWebview, { type: 'reveal' }> => m.type === 'reveal').pop();
    expect(reveal?.range).toEqual(fc.range);

    await send(page, { type: 'cursor', uri: 'file:///work/examples/cifar.cnn', line: pool.range.start.line, character: pool.range.start.character + 1 });
    await expect.poll(() => page.locator(`#graph svg .node[data-node="${pool.id}"]`).getAttribute('class')).toContain('highlight');
    expect(await page.locator(`#table tr[data-node="${pool.id}"]`).getAttribute('class')).toContain('highlight');
    await page.close();
  });

  it('sorts the table and keeps choices across a reload (state restored without the extension)', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, 'alexnet.cnn');
    await page.click('#table th[data-key="macs"]');
    await page.click('#table th[data-key="macs"]');
    const first = await page.locator('#table tbody tr').first().getAttribute('data-node');
    const net = analyzeText(example('alexnet.cnn')).networks[0];
    const most = [...net.layers].sort((a, b) => b.macs - a.macs)[0].node;
    expect(Number(first)).toBe(most);
    await page.reload();
    await page.waitForSelector('#graph svg .node');
    expect(await page.locator('#table tbody tr').first().getAttribute('data-node')).toBe(first);
    expect(await page.locator('#summary').textContent()).toContain('AlexNet');
    await page.close();
  });

  it('runs Fashion-MNIST with the trained weights beside the file on WebGPU and CPU: same top-1 as the CPU engine in Node', async () => {
    const page = await openPanel(browser, server.url, 'dark');
    await openDocument(page, FASHION, FASHION_LABELS, { weights: [fashionWeights()] });
    await tab(page, 'run');
    for (const image of ['9-ankle-boot', '6-shirt']) {
      await choose(page, 'image-picker', `fashion-${image}`);
      const want = cpuTop1(FASHION, `examples/fashion-mnist/images/${image}.png`, 'examples/fashion-mnist/fashion.safetensors');
      expect(await runAndTop1(page, 'webgpu')).toBe(want);
      expect(await runAndTop1(page, 'cpu')).toBe(want);
      // The fast engine: its WebAssembly compiles under the panel's CSP, in the worker.
      expect(await page.locator('#run-status').textContent()).toContain('WebAssembly SIMD');
    }
    expect(await page.locator('#predictions li').first().textContent()).toContain(FASHION_LABELS[cpuTop1(FASHION, 'examples/fashion-mnist/images/6-shirt.png', 'examples/fashion-mnist/fashion.safetensors')]);
    expect(await page.locator('#features canvas.fmap').count()).toBeGreaterThan(0);
    expect(problems(page)).toEqual([]);
    await page.close();
  });

  it('runs CIFAR with seeded weights on a photo: WebGPU and CPU agree with Node; feature maps of a picked layer', async () => {
    const page = await openPanel(browser, server.url, 'dark');
    await openDocument(page, 'cifar.cnn');
    await tab(page, 'run');
    await choose(page, 'image-picker', 'chelsea');
    const want = cpuTop1('cifar.cnn', 'webview/media/samples/chelsea.png');
    expect(await runAndTop1(page, 'webgpu')).toBe(want);
    expect(await runAndTop1(page, 'cpu')).toBe(want);
    const net = analyzeText(example('cifar.cnn')).networks[0];
    const stage2 = net.graph.nodes.find((n) => n.path === 'stage2.conv')!;
    await choose(page, 'feature-picker', stage2.path);
    await page.waitForSelector(`#features .fgrid[data-layer="${stage2.path}"]`);
    expect(await page.locator('#features canvas.fmap').count()).toBe(64);
    await page.close();
  });

  it('benchmarks WebGPU against the CPU: median, p90, GFLOP/s, per-layer bars, Markdown copy; cancel stops it', async () => {
    const page = await openPanel(browser, server.url, 'dark', { width: 1300, height: 900 });
    await openDocument(page, FASHION);
    await tab(page, 'benchmark');
    await choose(page, 'bench-backend', 'both');
    await page.evaluate(() => {
      const set = (id: string, v: string) => {
        const f = document.getElementById(id) as HTMLElement & { value: string };
        f.value = v;
        f.dispatchEvent(new Event('change'));
      };
      set('bench-iterations', '3');
      set('bench-warmup', '1');
    });
    await page.click('#bench-button');
    await page.waitForSelector('#bench-result table.bench tbody tr', { timeout: 60_000 });
    const rows = await page.locator('#bench-result table.bench tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(rows.map((r) => r[0])).toEqual(['WebGPU', 'CPU']);
    for (const r of rows) {
      expect(r[2]).toBe('3');
      expect(r[3]).toMatch(/\d (ms|µs|s)$/);
      expect(Number(r[5])).toBeGreaterThan(0);
    }
    expect(rows[0][1]).toMatch(/swiftshader|google/i);
    expect(await page.locator('#bench-result svg.chart .row').count()).toBeGreaterThan(3);
    await page.click('#bench-copy');
    const copy = (await posted(page)).filter((m): m is Extract<FromWebview, { type: 'copy' }> => m.type === 'copy').pop();
    expect(copy?.text).toContain('| backend | adapter | runs | median ms | p90 ms | GFLOP/s |');
    expect(copy?.text).toMatch(/\| stage1\.0\.conv \|/);

    // Cancel: a long CPU-only run stops early and says so.
    await choose(page, 'bench-backend', 'cpu');
    await choose(page, 'bench-iterations', '500');
    await page.click('#bench-button');
    await page.waitForSelector('#bench-progress:not([hidden])');
    await page.click('#bench-cancel');
    await page.waitForSelector('#bench-progress', { state: 'hidden', timeout: 30_000 });
    expect(await page.locator('#messages').textContent()).toContain('cancelled');
    await page.close();
  });

  it('screenshots the graph, table, charts, a run with feature maps and a benchmark, light and dark', async () => {
    const page = await openPanel(browser, server.url, 'light', { width: 1100, height: 820 });
    await openDocument(page, 'googlenet.cnn');
    await page.click('#expand-all');
    await page.waitForSelector('#graph svg .node.merge');
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      // The first inception block: four branches and their concatenation.
      await page.evaluate(() => document.querySelector('#graph svg .node.merge')!.scrollIntoView({ block: 'end' }));
      await shot(page, '#graph', `graph-${theme}`);
    }
    await openDocument(page, 'alexnet.cnn');
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      await shot(page, '#table', `table-${theme}`);
      await shot(page, '#charts', `charts-${theme}`);
    }
    await openDocument(page, FASHION, FASHION_LABELS, { weights: [fashionWeights()] });
    await tab(page, 'run');
    await choose(page, 'image-picker', 'fashion-9-ankle-boot');
    await runAndTop1(page, 'cpu');
    await choose(page, 'feature-picker', 'stage1.0.conv');
    await page.waitForSelector('#features .fgrid[data-layer="stage1.0.conv"]');
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      await shot(page, '#view-run', `run-${theme}`);
    }
    await tab(page, 'benchmark');
    await choose(page, 'bench-backend', 'both');
    await page.evaluate(() => {
      for (const [id, v] of [['bench-iterations', '2'], ['bench-warmup', '1']]) {
        const f = document.getElementById(id) as HTMLElement & { value: string };
        f.value = v;
        f.dispatchEvent(new Event('change'));
      }
    });
    await page.click('#bench-button');
    await page.waitForSelector('#bench-result table.bench tbody tr', { timeout: 60_000 });
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      await shot(page, '#view-benchmark', `benchmark-${theme}`);
    }
    expect(problems(page)).toEqual([]);
    await page.close();
  });

  it('says when the adapter is software (SwiftShader) and defaults to the CPU engine', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, 'cifar.cnn');
    await page.waitForSelector('#gpu-banner:not([hidden])');
    expect(await page.locator('#gpu-banner').textContent()).toMatch(/software adapter/);
    expect(await page.locator('#backend-picker').evaluate((d) => (d as HTMLElement & { value: string }).value)).toBe('cpu');
    expect(await page.locator('#backend-picker option').count()).toBe(2);
    // Benchmark defaults to where Run runs: the CPU engine, and says why.
    expect(await page.locator('#bench-backend').evaluate((d) => (d as HTMLSelectElement).value)).toBe('cpu');
    expect(await page.locator('#bench-backend-note').textContent()).toMatch(/CPU engine by default: WebGPU runs on a software adapter/);
    await page.close();
  });

  it('shows engine errors in the panel: bad weights', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, 'cifar.cnn');
    await send(page, { type: 'weights', network: 'CifarNet', file: { uri: `${server.url}/examples/fashion-mnist/fashion.safetensors`, name: 'fashion.safetensors' } });
    await tab(page, 'run');
    await page.click('#run-button');
    await page.waitForSelector('#messages .message.error');
    expect(await page.locator('#messages').textContent()).toMatch(/Run failed: (missing |unexpected )?tensor '[\w.]+'/);
    expect(await page.locator('#graph svg .node').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('uses the weights a user means: beside the file, beside the example of an untitled copy, a picked file (which re-runs), seeded said plainly', async () => {
    const page = await openPanel(browser, server.url);
    const boot = cpuTop1(FASHION, 'examples/fashion-mnist/images/9-ankle-boot.png', 'examples/fashion-mnist/fashion.safetensors');
    expect(FASHION_LABELS[boot]).toMatch(/ankle boot/i);
    // An untitled copy from "Open Example…": the extension finds the example's weights and labels.
    await openDocument(page, FASHION, FASHION_LABELS, { weights: [fashionWeights()], untitled: 'Untitled-1' });
    await tab(page, 'run');
    expect(await page.locator('#weights-picker').evaluate((d) => (d as HTMLSelectElement).value)).toBe('beside');
    expect(await page.locator('#weights-note').textContent()).toBe('Weights: fashion.safetensors (beside the file).');
    // Picking an image runs on it: no click on Run.
    await choose(page, 'image-picker', 'fashion-9-ankle-boot');
    await page.waitForFunction(() => /forward pass/.test(document.getElementById('run-status')!.textContent ?? ''), undefined, { timeout: 30_000 });
    expect(await page.locator('#run-status').textContent()).toContain('weights fashion.safetensors');
    expect(Number(await page.locator('#predictions li').first().getAttribute('data-index'))).toBe(boot);
    expect(await page.locator('#predictions li').first().textContent()).toContain(FASHION_LABELS[boot]);
    // Seeded, chosen in the picker: re-runs, and says the predictions mean nothing.
    await choose(page, 'weights-picker', 'seeded');
    await page.waitForFunction(() => /seeded weights: predictions are meaningless/.test(document.getElementById('run-status')!.textContent ?? ''), undefined, { timeout: 30_000 });
    expect(await page.locator('#predictions').textContent()).toContain('Seeded weights: these predictions are meaningless.');
    expect(await page.locator('#weights-note').textContent()).toMatch(/^Seeded weights: predictions are meaningless/);

    // A file on disk with nothing beside it: seeded; picked weights re-run at once, and are kept for that network.
    await openDocument(page, FASHION, FASHION_LABELS);
    expect(await page.locator('#weights-picker').evaluate((d) => (d as HTMLSelectElement).value)).toBe('seeded');
    await choose(page, 'image-picker', 'fashion-9-ankle-boot');
    await page.waitForFunction(() => /seeded weights/.test(document.getElementById('run-status')!.textContent ?? ''), undefined, { timeout: 30_000 });
    await send(page, { type: 'weights', network: 'FashionNet', file: fashionWeights() });
    await page.waitForFunction(() => /weights fashion\.safetensors/.test(document.getElementById('run-status')!.textContent ?? ''), undefined, { timeout: 30_000 });
    expect(Number(await page.locator('#predictions li').first().getAttribute('data-index'))).toBe(boot);
    expect(await page.locator('#weights-note').textContent()).toBe('Weights: fashion.safetensors (picked).');
    await page.close();
  });

  it('switching network leaves nothing of the old one: image, status, predictions, the view of the input, backend choices', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, FASHION, FASHION_LABELS, { weights: [fashionWeights()] });
    await tab(page, 'run');
    await choose(page, 'image-picker', 'fashion-6-shirt');
    await runAndTop1(page, 'webgpu');
    expect(await page.locator('#seen svg image').count()).toBe(1);
    await tab(page, 'benchmark');
    await choose(page, 'bench-backend', 'webgpu');
    // Another file: none of that belongs to it.
    await openDocument(page, 'cifar.cnn');
    await tab(page, 'run');
    expect(await page.locator('#run-status').textContent()).toBe('');
    expect(await page.locator('#predictions').textContent()).toBe('');
    expect(await page.locator('#features').textContent()).toBe('');
    expect(await page.locator('#seen svg image').count()).toBe(0);
    expect(await page.locator('#seen figcaption').textContent()).toMatch(/^The 3×32×32 input/);
    const image = await page.locator('#image-picker').evaluate((d) => (d as HTMLSelectElement).value);
    expect(image.startsWith('fashion')).toBe(false);
    expect(await page.locator('#weights-picker').evaluate((d) => (d as HTMLSelectElement).value)).toBe('seeded');
    expect(await page.locator('#backend-picker').evaluate((d) => (d as HTMLSelectElement).value)).toBe('cpu');
    await tab(page, 'benchmark');
    expect(await page.locator('#bench-backend').evaluate((d) => (d as HTMLSelectElement).value)).toBe('cpu');
    expect(await page.locator('#bench-status').textContent()).toBe('');
    // A Run here ends in a result next to the button, with this network's normalisation.
    await tab(page, 'run');
    await runAndTop1(page, 'cpu');
    expect(await page.locator('#seen figcaption').textContent()).toContain('ImageNet-normalised');
    // Back to the first network: its own choices again (a choice belongs to its network).
    await openDocument(page, FASHION, FASHION_LABELS, { weights: [fashionWeights()] });
    expect(await page.locator('#image-picker').evaluate((d) => (d as HTMLSelectElement).value)).toBe('fashion-6-shirt');
    expect(await page.locator('#backend-picker').evaluate((d) => (d as HTMLSelectElement).value)).toBe('webgpu');
    expect(await page.locator('#run-status').textContent()).toBe('');
    await page.close();
  });

  it('draws the receptive field of a hovered or clicked feature-map unit on the input, clipped at the borders, the padding hatched; the table RF cell draws it too', async () => {
    const page = await openPanel(browser, server.url, 'dark', { width: 1200, height: 1000 });
    await openDocument(page, 'cifar.cnn');
    const net = analyzeText(example('cifar.cnn')).networks[0];
    const layer = net.graph.nodes.find((n) => n.path === 'stage2.conv')!;
    const rf = net.layers[layer.id].rf!;
    const [, Ho, Wo] = net.layers[layer.id].shape!;
    await tab(page, 'run');
    await choose(page, 'image-picker', 'chelsea');
    await runAndTop1(page, 'cpu');
    await choose(page, 'feature-picker', layer.path);
    await page.waitForSelector(`#features .fgrid[data-layer="${layer.path}"]`);
    // Before any pointer: the centre unit's field.
    const rect = (cls: string) =>
      page.locator(`#seen svg rect.${cls}`).evaluate((r) => ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a))));
    const ci = Math.floor((Ho - 1) / 2);
    expect(await page.locator('#seen').getAttribute('data-unit')).toBe(`${ci},${ci}`);
    // Click the top-left unit of a map: its field starts in the padding, the part in the image is clipped.
    const map = page.locator('#features canvas.fmap').nth(3);
    const box = (await map.boundingBox())!;
    await page.mouse.click(box.x + 1.5, box.y + 1.5);
    expect(await page.locator('#seen').getAttribute('data-unit')).toBe('0,0');
    expect(await rect('rf-field')).toEqual([-rf.padding[1], -rf.padding[0], rf.size[1], rf.size[0]]);
    expect(await rect('rf-inside')).toEqual([0, 0, rf.size[1] - rf.padding[1], rf.size[0] - rf.padding[0]]);
    expect(await page.locator('#seen svg rect.rf-padded').count()).toBe(1);
    expect(await page.locator('#seen svg image').count()).toBe(1);
    expect(await page.locator('#rf-caption').textContent()).toContain(`unit (0, 0): rows ${-rf.padding[0]}…${rf.size[0] - rf.padding[0]}`);
    expect(await page.locator('#rf-caption').textContent()).toMatch(/% of it lies in the padding \(hatched\)/);
    // Hovering another unit moves the field by the effective stride; leaving goes back to the clicked one.
    const [i, j] = [5, 9];
    await page.mouse.move(box.x + ((j + 0.5) / Wo) * box.width, box.y + ((i + 0.5) / Ho) * box.height);
    expect(await page.locator('#seen').getAttribute('data-unit')).toBe(`${i},${j}`);
    expect(await rect('rf-field')).toEqual([j * rf.stride[1] - rf.padding[1], i * rf.stride[0] - rf.padding[0], rf.size[1], rf.size[0]]);
    await page.mouse.move(box.x - 40, box.y - 40);
    expect(await page.locator('#seen').getAttribute('data-unit')).toBe('0,0');
    await shot(page, '#view-run', 'rf-dark');
    // The table: the RF cell of a deeper layer shows its field (the centre unit) in the Run tab.
    const deep = net.graph.nodes.find((n) => n.path === 'stage3.conv')!;
    await tab(page, 'network');
    await page.click(`#table tr[data-node="${deep.id}"] td.rf-cell`);
    await page.waitForSelector('#view-run', { state: 'visible' });
    expect(await page.locator('#seen').getAttribute('data-node')).toBe(String(deep.id));
    expect(await page.locator('#feature-picker').evaluate((d) => (d as HTMLSelectElement).value)).toBe(deep.path);
    const drf = net.layers[deep.id].rf!;
    expect((await rect('rf-field'))[2]).toBe(drf.size[1]);
    await page.close();
  });

  it('benchmarks ResNet-18 on a software adapter: the CPU by default, progress at once, 20 runs and 3 warm-ups in under a minute', async () => {
    const page = await openPanel(browser, server.url, 'dark', { width: 1300, height: 900 });
    await openDocument(page, 'resnet18.cnn');
    await page.waitForSelector('#gpu-banner:not([hidden])');
    await tab(page, 'benchmark');
    expect(await page.locator('#bench-backend').evaluate((d) => (d as HTMLSelectElement).value)).toBe('cpu');
    expect(await page.locator('#bench-iterations').evaluate((d) => (d as HTMLInputElement).value)).toBe('20');
    expect(await page.locator('#bench-warmup').evaluate((d) => (d as HTMLInputElement).value)).toBe('3');
    const t0 = Date.now();
    await page.click('#bench-button');
    // Progress from the first second: the bar and a label saying what is going on.
    await page.waitForSelector('#bench-progress:not([hidden])', { timeout: 1000 });
    expect(await page.locator('#bench-progress .plabel').textContent()).toMatch(/\w/);
    await page.waitForSelector('#bench-result table.bench tbody tr', { timeout: 60_000 });
    const secs = (Date.now() - t0) / 1000;
    console.log(`ResNet-18, CPU engine, 20 runs + 3 warm-ups: ${secs.toFixed(1)} s; ${await page.locator('#bench-status').textContent()}`);
    expect(secs).toBeLessThan(60);
    const rows = await page.locator('#bench-result table.bench tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(rows.map((r) => [r[0], r[2]])).toEqual([['CPU', '20']]);
    // Display names in the per-layer rows, not bare statement numbers.
    const labels = await page.locator('#bench-result svg.chart .row-label').allTextContents();
    expect(labels.length).toBeGreaterThan(10);
    expect(labels.filter((l) => /^\d+(\.\d+)*$/.test(l.trim()))).toEqual([]);
    await page.close();
  }, 120_000);

  it('per-layer CPU times resolve below the 0.1 ms clock step (means over the passes)', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, FASHION);
    await tab(page, 'benchmark');
    await choose(page, 'bench-iterations', '40');
    await choose(page, 'bench-warmup', '2');
    await page.click('#bench-button');
    await page.waitForSelector('#bench-result table.bench tbody tr', { timeout: 60_000 });
    await page.click('#bench-copy');
    const md = (await posted(page)).filter((m): m is Extract<FromWebview, { type: 'copy' }> => m.type === 'copy').pop()!.text;
    const times = md
      .split('\n')
      .filter((l) => /^\| (?!layer|backend|---)/.test(l) && l.split('|').length === 6)
      .map((l) => Number(l.split('|')[3]));
    expect(times.length).toBeGreaterThan(4);
    expect(times.every((t) => t >= 0)).toBe(true);
    // Not all on the 0.1 ms grid a coarse clock would give, and some well under 0.1 ms but not zero.
    expect(times.some((t) => Math.abs(t * 10 - Math.round(t * 10)) > 1e-3)).toBe(true);
    expect(times.some((t) => t > 0 && t < 0.1)).toBe(true);
    expect(await page.locator('#bench-result table.bench tbody td').nth(6).textContent()).toMatch(/the mean of 40 passes; resolution/);
    await page.close();
  });

  it('Cancel: a CPU benchmark stops within a second (between layers), a WebGPU one at the next pass; a long one asks first', async () => {
    const page = await openPanel(browser, server.url);
    await openDocument(page, 'resnet18.cnn');
    await tab(page, 'benchmark');
    await choose(page, 'bench-iterations', '1000');
    await page.click('#bench-button');
    // 1000 ResNet-18 passes take minutes: after the first pass the panel asks.
    await page.waitForSelector('#bench-confirm:not([hidden])', { timeout: 60_000 });
    expect(await page.locator('#bench-confirm').textContent()).toMatch(/the first pass took .* would take about/);
    await page.click('#bench-continue');
    await page.waitForFunction(() => /run [2-9]\d* of 1000/.test(document.querySelector('#bench-progress .plabel')!.textContent ?? ''), undefined, { timeout: 60_000 });
    const t0 = Date.now();
    await page.click('#bench-cancel');
    await page.waitForSelector('#bench-progress', { state: 'hidden', timeout: 10_000 });
    const cpuMs = Date.now() - t0;
    expect(await page.locator('#bench-status').textContent()).toMatch(/^Cancelled after/);
    expect(await page.locator('#bench-result table.bench tbody td').nth(2).textContent()).toMatch(/^\d+ \(cancelled\)$/);

    // WebGPU (SwiftShader) on a small network: stops at the next pass.
    await openDocument(page, FASHION);
    await tab(page, 'benchmark');
    await choose(page, 'bench-backend', 'webgpu');
    await choose(page, 'bench-iterations', '1000');
    await page.click('#bench-button');
    // On SwiftShader 1000 passes may well pass the question's threshold: go on if asked.
    await page.waitForFunction(
      () => {
        const go = document.querySelector<HTMLButtonElement>('#bench-confirm:not([hidden]) #bench-continue');
        go?.click();
        return /WebGPU: run \d+ of/.test(document.querySelector('#bench-progress .plabel')!.textContent ?? '');
      },
      undefined,
      { timeout: 60_000, polling: 100 },
    );
    const t1 = Date.now();
    await page.click('#bench-cancel');
    await page.waitForSelector('#bench-progress', { state: 'hidden', timeout: 10_000 });
    const gpuMs = Date.now() - t1;
    console.log(`Cancel took ${cpuMs} ms on the CPU (ResNet-18), ${gpuMs} ms on WebGPU (Fashion-MNIST, SwiftShader)`);
    expect(cpuMs).toBeLessThan(1000);
    expect(gpuMs).toBeLessThan(2000);

    // A benchmark belongs to its network: showing another one stops it (here while it asks).
    await openDocument(page, 'resnet18.cnn');
    await page.click('#bench-button');
    await page.waitForSelector('#bench-confirm:not([hidden])', { timeout: 60_000 });
    await openDocument(page, 'cifar.cnn');
    await expect.poll(() => page.locator('#messages').textContent(), { timeout: 10_000 }).toContain('Benchmark cancelled: another network is shown.');
    await expect.poll(() => page.locator('#bench-button').isDisabled(), { timeout: 10_000 }).toBe(false);
    expect(await page.locator('#bench-result').textContent()).toBe('');
    await page.close();
  }, 180_000);

  it('a narrow panel: tables scroll inside their boxes, nothing widens the page, a Run error shows next to the Run button', async () => {
    const page = await openPanel(browser, server.url, 'dark', { width: 420, height: 800 });
    await openDocument(page, 'alexnet.cnn');
    const table = await page.locator('#table').evaluate((b) => ({ scroll: b.scrollWidth, client: b.clientWidth, overflow: getComputedStyle(b).overflowX }));
    expect(table.scroll).toBeGreaterThan(table.client);
    expect(table.overflow).toBe('auto');
    const pageWidth = () => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    let w = await pageWidth();
    expect(w.scroll, 'the Network tab widens the page').toBeLessThanOrEqual(w.inner);
    await openDocument(page, 'cifar.cnn');
    await tab(page, 'run');
    await send(page, { type: 'weights', network: 'CifarNet', file: fashionWeights() });
    await page.waitForSelector('#run-status.error');
    const button = (await page.locator('#run-button').boundingBox())!;
    const status = (await page.locator('#run-status').boundingBox())!;
    expect(await page.locator('#run-status').textContent()).toMatch(/^Run failed: /);
    expect(status.y + status.height).toBeLessThanOrEqual(800);
    expect(Math.abs(status.y - button.y)).toBeLessThan(120);
    w = await pageWidth();
    expect(w.scroll, 'the Run tab widens the page').toBeLessThanOrEqual(w.inner);
    await page.close();
  });

  it('CSP: an inline script without the nonce does not run, remote images are blocked', async () => {
    const page = await openPanel(browser, server.url, 'dark', undefined, { cspProbe: true });
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
    await expect.poll(() => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.join('\n'))).toMatch(/script-src/);
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.join('\n'))).toMatch(/img-src https:\/\/example\.com/);
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    // WebAssembly may compile (the CPU engine's kernels); JavaScript eval and inline scripts may not.
    expect(csp).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9]{32}' 'wasm-unsafe-eval';/);
    expect(csp).not.toMatch(/'unsafe-(eval|inline)'/);
    // A script the page adds itself, without the nonce, is refused as well.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.body.append(s);
    });
    expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
    // Those three are the only violations: the panel's own code and styles need nothing the CSP refuses.
    expect(problems(page).filter((p) => p.startsWith('CSP violation')).map((p) => p.replace(/ at .*/, ''))).toEqual([
      'CSP violation: script-src-elem inline',
      'CSP violation: img-src https://example.com/x.png',
      'CSP violation: script-src-elem inline',
    ]);
    await page.close();
  });
});

describe('network panel without WebGPU', () => {
  let plain: Browser;
  beforeAll(async () => {
    plain = await launch(false);
  });
  afterAll(async () => {
    await plain?.close();
  });

  it('says requestAdapter() returned null and runs on the CPU engine in a worker', async () => {
    const page = await openPanel(plain, server.url);
    expect(await page.evaluate(async () => ({ gpu: 'gpu' in navigator, adapter: await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter() }))).toEqual({ gpu: true, adapter: null });
    await openDocument(page, 'cifar.cnn');
    await page.waitForSelector('#gpu-banner:not([hidden])');
    expect(await page.locator('#gpu-banner').textContent()).toMatch(/No WebGPU: requestAdapter\(\) returned null.*CPU engine in a worker/);
    expect(await page.locator('#backend-picker option').count()).toBe(1);
    await tab(page, 'run');
    await choose(page, 'image-picker', 'coffee');
    expect(await runAndTop1(page, 'cpu')).toBe(cpuTop1('cifar.cnn', 'webview/media/samples/coffee.png'));
    await tab(page, 'benchmark');
    await page.evaluate(() => {
      const f = document.getElementById('bench-iterations') as HTMLElement & { value: string };
      f.value = '2';
      f.dispatchEvent(new Event('change'));
    });
    await page.click('#bench-button');
    await page.waitForSelector('#bench-result table.bench tbody tr');
    expect(await page.locator('#bench-result table.bench tbody tr').count()).toBe(1);
    expect(problems(page)).toEqual([]);
    await page.close();
  });
});
