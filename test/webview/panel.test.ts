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
import { forwardCpu } from '../../src/engine/cpu/forward';
import { decodeImage } from '../../src/engine/input/decode-node';
import { preprocessImage } from '../../src/engine/input/preprocess';
import { tensor } from '../../src/engine/tensor';
import { initWeights } from '../../src/engine/weights/init';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import type { FromWebview } from '../../webview/src/protocol';
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

  it('runs Fashion-MNIST with its trained weights on WebGPU and CPU: same top-1 as the CPU engine in Node', async () => {
    const page = await openPanel(browser, server.url, 'dark');
    await openDocument(page, FASHION, FASHION_LABELS);
    await send(page, { type: 'weights', network: 'FashionNet', file: { uri: `${server.url}/examples/fashion-mnist/fashion.safetensors`, name: 'fashion.safetensors' } });
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
    await choose(page, 'backend-picker', 'webgpu');
    await page.fill('#bench-iterations input', '4').catch(() => undefined);
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
      expect(r[3]).toMatch(/ms$/);
      expect(Number(r[5])).toBeGreaterThan(0);
    }
    expect(rows[0][1]).toMatch(/swiftshader|google/i);
    expect(await page.locator('#bench-result svg.chart .row').count()).toBeGreaterThan(3);
    await page.click('#bench-copy');
    const copy = (await posted(page)).filter((m): m is Extract<FromWebview, { type: 'copy' }> => m.type === 'copy').pop();
    expect(copy?.text).toContain('| backend | adapter | runs | median ms | p90 ms | GFLOP/s |');
    expect(copy?.text).toMatch(/\| stage1\.0\.conv \|/);

    // Cancel: a long CPU-only run stops early and says so.
    await choose(page, 'backend-picker', 'cpu');
    await page.evaluate(() => {
      const f = document.getElementById('bench-iterations') as HTMLElement & { value: string };
      f.value = '500';
      f.dispatchEvent(new Event('change'));
      const c = document.getElementById('bench-compare') as HTMLElement & { checked: boolean };
      c.checked = false;
      c.dispatchEvent(new Event('change'));
    });
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
    await openDocument(page, FASHION, FASHION_LABELS);
    await send(page, { type: 'weights', network: 'FashionNet', file: { uri: `${server.url}/examples/fashion-mnist/fashion.safetensors`, name: 'fashion.safetensors' } });
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
    await choose(page, 'backend-picker', 'webgpu');
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
