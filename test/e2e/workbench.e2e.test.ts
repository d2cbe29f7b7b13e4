/**
 * End to end in a real VS Code workbench: code-server 4.100.3 with our packaged .vsix in its
 * usual (Node) extension host, driven in headless Debian chromium through playwright-core
 * (code-server.ts sets it up). The folder is opened untrusted, with workspace trust on: every
 * test here runs in Restricted Mode, which the extension declares it fully supports
 * (capabilities.untrustedWorkspaces in package.json).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  BASE_ARGS,
  CHROMIUM,
  type CodeServer,
  describeE2E,
  editorLanguage,
  goTo,
  hoverText,
  norm,
  openFromExplorer,
  openWorkbench,
  panel,
  quickInput,
  runCommand,
  shot,
  shotOf,
  sleep,
  startCodeServer,
  VERSION,
  waitText,
  WEBGPU_ARGS,
} from './code-server';

let server: CodeServer | undefined;
let ws: string;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;

describeE2E(`VS Code workbench (code-server ${VERSION}) with the packaged extension, in Restricted Mode`, () => {
  beforeAll(async () => {
    server = await startCodeServer({ restricted: true });
    ws = server.ws;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...WEBGPU_ARGS, ...BASE_ARGS] });
    ({ ctx: context, page } = await openWorkbench(server, browser));
  }, 240_000);

  afterAll(async () => {
    if (page) await shot(page, 'last');
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  }, 30_000);

  afterEach(async () => {
    // Close whatever a failed step left open (quick input, hover, action widget).
    for (let i = 0; i < 2; i++) await page?.keyboard.press('Escape').catch(() => undefined);
  });

  it('in an untrusted folder (Restricted Mode) a .cnn file is the CNN language, with its hints', async () => {
    // Without capabilities.untrustedWorkspaces VS Code disables the extension here: the file
    // would open as Plain Text, without hints.
    await expect.poll(async () => norm(await page.locator('.statusbar').innerText()), { timeout: 20_000 }).toMatch(/Restricted Mode/);
    await openFromExplorer(page, 'tiny.cnn');
    await expect.poll(() => editorLanguage(page), { timeout: 30_000 }).toBe('CNN');
    await waitText(page, (t) => t.includes('→ 16×32×32'), "tiny.cnn's first conv hint → 16×32×32", 60_000);
    await shot(page, 'restricted-mode');
  }, 120_000);

  it('opens an example from the Explorer and shows the shape hints', async () => {
    await openFromExplorer(page, 'alexnet.cnn');
    const text = await waitText(page, (t) => t.includes('→ 64×56×56'), "AlexNet conv1's hint → 64×56×56", 60_000);
    expect(text).toMatch(/conv .*→ 64×56×56/);
    await shot(page, 'hints');
    await shotOf(page, 'editor-hints', [page.locator('.editor-group-container.active .editor-instance .overflow-guard')], { width: 900, height: 560 });
  }, 120_000);

  it('hovers a layer with the formula and its numbers', async () => {
    await goTo(page, 5, 7); // conv1
    await hoverText(page, /⌊\(227 \+ 2·2 − 11\)\/4⌋ \+ 1 = 56/);
    await shot(page, 'hover');
    const box = await page.locator('.monaco-hover:not(.hidden)').first().boundingBox();
    const top = (await page.locator('.editor-group-container.active .editor-instance .overflow-guard').boundingBox())?.y ?? 0;
    await shotOf(page, 'editor-hover', [page.locator('.editor-group-container.active .editor-instance .overflow-guard')], { width: 900, height: (box ? box.y + box.height - top : 400) + 24 });
    await page.keyboard.press('Escape');
  }, 120_000);

  it('flags an error on its line and applies the quick fix', async () => {
    await openFromExplorer(page, 'broken.cnn');
    await page.locator('.editor-group-container.active .squiggly-error').first().waitFor({ timeout: 30_000 });
    await expect.poll(async () => norm(await page.locator('#status\\.problems').innerText()), { timeout: 10_000 }).toMatch(/[1-9]/);
    await shot(page, 'diagnostic');
    await goTo(page, 4, 3); // linear 10, after a 3-D output
    await page.keyboard.press('Control+.');
    const fix = page.locator('.action-widget .monaco-list-row', { hasText: /flatten/i }).first();
    await fix.waitFor({ timeout: 15_000 });
    await shot(page, 'quick-fix');
    await shotOf(page, 'editor-quick-fix', [page.locator('.editor-group-container.active .editor-instance .overflow-guard')], { width: 560, height: 190 });
    // The action widget blocks the mouse until it moves: choose with the keyboard.
    for (let i = 0; i < 5 && !/\bfocused\b/.test((await fix.getAttribute('class')) ?? ''); i++) await page.keyboard.press('ArrowDown');
    expect(await fix.getAttribute('class')).toMatch(/\bfocused\b/);
    await page.keyboard.press('Enter');
    await waitText(page, (t) => /flatten/.test(t), 'the inserted flatten');
    await expect.poll(() => page.locator('.editor-group-container.active .squiggly-error').count(), { timeout: 15_000 }).toBe(0);
  }, 120_000);

  it('renames a block with F2', async () => {
    await openFromExplorer(page, 'tiny.cnn');
    await waitText(page, (t) => t.includes('→'), 'the hints of tiny.cnn');
    await goTo(page, 11, 8); // block Down(...)
    await page.keyboard.press('F2');
    const box = page.locator('.rename-box input, .rename-box .rename-input').first();
    await box.waitFor({ timeout: 10_000 });
    await box.fill('Stage');
    await page.keyboard.press('Enter');
    const text = await waitText(page, (t) => t.includes('block Stage(') && t.includes('Stage(32)'), 'the renamed block and call');
    expect(text).not.toMatch(/\bDown\b/);
    await page.keyboard.press('Control+S');
  }, 120_000);

  /** Accepts VS Code's simple save dialog at `path` (typed, as a user would). */
  async function saveDialogAt(path: string, label: string): Promise<void> {
    const input = await quickInput(page);
    try {
      // It opens on the suggested NETWORK.ext beside the .cnn file; type the path anyway.
      await expect.poll(() => input.inputValue(), { timeout: 10_000 }).toMatch(/\.(onnx|py)$/);
      await sleep(500);
      await input.fill(path);
      await sleep(500);
      const ok = page.locator('.quick-input-widget .monaco-button', { hasText: label }).first();
      if (await ok.isVisible()) await ok.click();
      else await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    } finally {
      if (await page.locator('.quick-input-widget').isVisible()) await page.keyboard.press('Escape');
    }
  }

  it('CNN: Export to ONNX… and Export to PyTorch… write the network at the cursor', async () => {
    await openFromExplorer(page, 'cifar.cnn');
    await waitText(page, (t) => t.includes('→'), 'the hints of cifar.cnn');
    const network = /network\s+(\w+)/.exec(readFileSync(join(ws, 'cifar.cnn'), 'utf8'))![1];
    await goTo(page, 3, 3);

    await runCommand(page, 'CNN: Export to ONNX');
    await (await quickInput(page)).waitFor();
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Seeded initialisation' }).first().click();
    const onnxFile = join(ws, 'exported', `${network}.onnx`);
    mkdirSync(join(ws, 'exported'), { recursive: true });
    await saveDialogAt(onnxFile, 'Export to ONNX');
    const toast = page.locator('.notification-toast', { hasText: `Wrote ${network}.onnx` }).first();
    await toast.waitFor({ timeout: 30_000 });
    expect(norm(await toast.innerText())).toMatch(/opset 17, input \[N, 3, 32, 32\].*weights: seeded initialisation \(seed 0\)/);
    await expect.poll(() => existsSync(onnxFile), { timeout: 10_000 }).toBe(true);
    // The ONNX protobuf starts with field 1 (ir_version, varint) = 8.
    expect([...readFileSync(onnxFile).subarray(0, 2)]).toEqual([0x08, 0x08]);
    await shot(page, 'export-onnx');

    await runCommand(page, 'CNN: Export to PyTorch');
    const pyFile = join(ws, 'exported', `${network}.py`);
    await saveDialogAt(pyFile, 'Export to PyTorch');
    await page.locator('.notification-toast', { hasText: `Wrote ${network}.py` }).first().waitFor({ timeout: 30_000 });
    await expect.poll(() => existsSync(pyFile), { timeout: 10_000 }).toBe(true);
    expect(readFileSync(pyFile, 'utf8')).toMatch(new RegExp(`^class ${network}\\(Scope\\):$`, 'm'));
    await page.keyboard.press('Escape');
  }, 120_000);

  it('the walkthrough lists its steps and opens an example with its hints', async () => {
    await runCommand(page, 'Welcome: Open Walkthrough');
    const input = await quickInput(page);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Get started with CNN Designer' }).first().waitFor({ timeout: 10_000 });
    await input.fill('CNN Designer');
    await page.keyboard.press('Enter');
    const steps = page.locator('.getting-started-step');
    await expect.poll(() => steps.evaluateAll((xs) => xs.map((x) => (x as HTMLElement).innerText.split('\n')[0])), { timeout: 15_000 }).toEqual([
      'Open an example',
      'See the hints',
      'Run on an image',
      'Benchmark',
    ]);
    await shot(page, 'walkthrough');
    await page.locator('.getting-started-step.expanded .monaco-button', { hasText: 'Open Example' }).first().click();
    await (await quickInput(page)).fill('resnet18.cnn');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'resnet18.cnn' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.editor-group-container.active .tab.active', { hasText: 'Untitled' }).waitFor({ timeout: 10_000 });
    await waitText(page, (t) => t.includes('network ResNet18') && t.includes('→ 64×112×112'), "ResNet-18's hints in the untitled copy");
  }, 120_000);

  it('CNN: Show Network Graph opens the panel with the graph', async () => {
    await openFromExplorer(page, 'cifar.cnn');
    await waitText(page, (t) => t.includes('→'), 'the hints of cifar.cnn');
    await runCommand(page, 'CNN: Show Network Graph');
    const view = panel(page);
    await view.locator('#graph svg .node').first().waitFor({ timeout: 60_000 });
    expect(await view.locator('#graph svg .node').count()).toBeGreaterThan(5);
    expect(await view.locator('#table tbody tr').count()).toBeGreaterThan(5);
    await shot(page, 'network');
  }, 120_000);

  it('CNN: Run on Image… runs the image picked in the file dialog', async () => {
    await openFromExplorer(page, 'fashion-mnist/fashion.cnn');
    await waitText(page, (t) => t.includes('→'), 'the hints of fashion.cnn');
    await runCommand(page, 'CNN: Run on Image');
    // VS Code's own (simple) file dialog in the browser: type the path, wait for the listing, accept.
    const input = await quickInput(page);
    try {
      // Let it settle on its start folder first (it rewrites the box while it loads).
      await expect.poll(() => input.inputValue(), { timeout: 10_000 }).toMatch(/\/$/);
      await sleep(500);
      const image = join(ws, 'fashion-mnist/images/6-shirt.png');
      await input.fill(image);
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: '6-shirt.png' }).first().waitFor({ timeout: 10_000 });
      await sleep(500);
      expect(await input.inputValue()).toBe(image);
      await shot(page, 'run-dialog');
      // The dialog's OK button ("Run on this image"); Enter as well, as a user would.
      const ok = page.locator('.quick-input-widget .monaco-button', { hasText: 'Run on this image' }).first();
      if (await ok.isVisible()) await ok.click();
      else await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    } finally {
      if (await page.locator('.quick-input-widget').isVisible()) await page.keyboard.press('Escape');
    }
    const view = panel(page);
    const status = view.locator('#run-status');
    const messages = view.locator('#messages');
    // A failure shows in #messages; report it rather than time out.
    await expect
      .poll(async () => `${norm(await status.textContent())} ${norm(await messages.textContent())}`, { timeout: 60_000 })
      .toMatch(/forward pass|failed/i);
    expect(norm(await messages.textContent())).not.toMatch(/failed/i);
    expect(norm(await status.textContent())).toMatch(/forward pass/);
    // The trained weights beside the file, by default: the shirt is a shirt.
    expect(norm(await status.textContent())).toContain('weights fashion.safetensors');
    expect(norm(await view.locator('#predictions li').first().textContent())).toMatch(/^Shirt \(6\)/);
    await shot(page, 'run');
  }, 120_000);

  it('runs a bundled sample on WebGPU (SwiftShader) and on the CPU engine', async () => {
    const view = panel(page);
    await view.locator('#tab-run').click();
    const status = view.locator('#run-status');
    const choose = (id: string, value: string) =>
      view.locator(`#${id}`).evaluate((d, v) => {
        (d as HTMLElement & { value: string }).value = v;
        d.dispatchEvent(new Event('change'));
      }, value);
    await view.locator('#messages').evaluate((m) => m.replaceChildren()); // judge this run's messages only
    await choose('image-picker', 'fashion-9-ankle-boot');
    for (const backend of ['webgpu', 'cpu']) {
      await choose('backend-picker', backend);
      await status.evaluate((s) => (s.textContent = ''));
      await view.locator('#run-button').click();
      await expect
        .poll(async () => `${await status.getAttribute('data-backend')} ${norm(await status.textContent())}`, { timeout: 60_000 })
        .toMatch(new RegExp(`^${backend} .*forward pass`));
      expect(await view.locator('#predictions li').count()).toBeGreaterThan(0);
    }
    expect(norm(await view.locator('#predictions li').first().textContent())).toMatch(/^Ankle boot \(9\)/);
    expect(norm(await view.locator('#messages').textContent())).not.toMatch(/failed/i);
    // The receptive field of a clicked feature-map unit, drawn on the input.
    await choose('feature-picker', 'stage1.0.conv');
    const map = view.locator('#features canvas.fmap').first();
    await map.waitFor({ timeout: 30_000 });
    await map.click({ position: { x: 2, y: 2 } });
    await expect.poll(() => view.locator('#seen').getAttribute('data-unit'), { timeout: 10_000 }).toBe('0,0');
    expect(await view.locator('#seen svg rect.rf-field').count()).toBe(1);
    expect(norm(await view.locator('#rf-caption').textContent())).toMatch(/^Receptive field of .*unit \(0, 0\)/);
    await shot(page, 'run-sample');
  }, 120_000);

  it('CNN: Benchmark shows its progress and the result', async () => {
    await page.locator('.editor-group-container .tab', { hasText: 'fashion.cnn' }).first().click();
    const view = panel(page);
    await runCommand(page, 'CNN: Benchmark');
    const progress = view.locator('#bench-progress');
    const resultRows = view.locator('#bench-result table.bench tbody tr');
    // Fashion-MNIST's 23 CPU passes take tens of milliseconds: the progress may come and go
    // between two polls, so either it or the result is what shows first.
    await expect.poll(async () => (await progress.isVisible()) || (await resultRows.count()) > 0, { timeout: 30_000 }).toBe(true);
    if (await progress.isVisible()) await shot(page, 'benchmark-progress');
    await resultRows.first().waitFor({ timeout: 120_000 });
    const rows = await view.locator('#bench-result table.bench tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    // SwiftShader is a software adapter: the CPU engine by default, as Run.
    expect(rows.map((r) => r[0])).toEqual(['CPU']);
    for (const r of rows) expect(r.join(' ')).toMatch(/ms|µs/);
    await progress.waitFor({ state: 'hidden', timeout: 30_000 });
    await view.locator('#bench-result').scrollIntoViewIfNeeded();
    await shot(page, 'benchmark');
  }, 120_000);

  it('switching to another file shows nothing of the previous one', async () => {
    await openFromExplorer(page, 'cifar.cnn');
    const view = panel(page);
    await expect.poll(async () => norm(await view.locator('#summary').textContent()), { timeout: 30_000 }).toContain('CifarNet');
    await view.locator('#tab-run').click();
    expect(norm(await view.locator('#run-status').textContent())).toBe('');
    expect(await view.locator('#predictions li').count()).toBe(0);
    expect(await view.locator('#seen svg image').count()).toBe(0);
    expect(await view.locator('#image-picker').evaluate((d) => (d as HTMLSelectElement).value)).not.toMatch(/^fashion/);
    await view.locator('#tab-benchmark').click();
    expect(await view.locator('#bench-result table').count()).toBe(0);
    expect(norm(await view.locator('#bench-status').textContent())).toBe('');
  }, 60_000);

  it('an example opened from the palette runs with its trained weights; Benchmark of ResNet-18 takes the CPU, under a minute, and cancels', async () => {
    await runCommand(page, 'CNN: Open Example');
    await (await quickInput(page)).fill('fashion.cnn');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'fashion.cnn' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.editor-group-container.active .tab.active', { hasText: 'Untitled' }).waitFor({ timeout: 10_000 });
    await runCommand(page, 'CNN: Show Network Graph');
    const view = panel(page);
    await expect.poll(async () => norm(await view.locator('#summary').textContent()), { timeout: 30_000 }).toContain('FashionNet');
    await view.locator('#tab-run').click();
    await expect.poll(async () => norm(await view.locator('#weights-note').textContent()), { timeout: 10_000 }).toBe('Weights: fashion.safetensors (beside the file).');
    await view.locator('#image-picker').evaluate((d) => {
      (d as HTMLSelectElement).value = 'fashion-9-ankle-boot';
      d.dispatchEvent(new Event('change'));
    });
    // Picking the image runs it.
    await expect.poll(async () => norm(await view.locator('#run-status').textContent()), { timeout: 60_000 }).toMatch(/forward pass.*weights fashion\.safetensors/);
    expect(norm(await view.locator('#predictions li').first().textContent())).toMatch(/^Ankle boot \(9\)/);

    await runCommand(page, 'CNN: Open Example');
    await (await quickInput(page)).fill('resnet18.cnn');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'resnet18.cnn' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await waitText(page, (t) => t.includes('network ResNet18'), 'the ResNet-18 copy');
    const t0 = Date.now();
    await runCommand(page, 'CNN: Benchmark');
    await view.locator('#bench-progress').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await view.locator('#bench-backend').evaluate((d) => (d as HTMLSelectElement).value)).toBe('cpu');
    await view.locator('#bench-result table.bench tbody tr').first().waitFor({ timeout: 60_000 });
    const secs = (Date.now() - t0) / 1000;
    console.log(`code-server: ResNet-18 benchmark (CPU, defaults) in ${secs.toFixed(1)} s`);
    expect(secs).toBeLessThan(60);
    await shot(page, 'benchmark-resnet18');
    // Cancel: a long run, cancelled after the estimate's question.
    await view.locator('#bench-iterations').evaluate((d) => {
      (d as HTMLInputElement).value = '1000';
      d.dispatchEvent(new Event('change'));
    });
    await view.locator('#bench-button').click();
    await view.locator('#bench-confirm:not([hidden])').waitFor({ timeout: 60_000 });
    await view.locator('#bench-continue').click();
    await expect.poll(async () => norm(await view.locator('#bench-progress .plabel').textContent()), { timeout: 30_000 }).toMatch(/run [2-9]\d* of 1000/);
    const t1 = Date.now();
    await view.locator('#bench-cancel').click();
    await view.locator('#bench-progress').waitFor({ state: 'hidden', timeout: 10_000 });
    console.log(`code-server: Cancel took ${Date.now() - t1} ms`);
    expect(Date.now() - t1).toBeLessThan(2000);
    expect(norm(await view.locator('#bench-status').textContent())).toMatch(/^Cancelled after/);
  }, 240_000);

  it('without WebGPU: the panel says so and still runs on the CPU engine', async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BASE_ARGS });
    try {
      const { page: p } = await openWorkbench(server!, plain);
      await openFromExplorer(p, 'cifar.cnn');
      await waitText(p, (t) => t.includes('→'), 'the hints of cifar.cnn');
      await runCommand(p, 'CNN: Show Network Graph');
      const view = panel(p);
      const banner = view.locator('#gpu-banner');
      await banner.waitFor({ state: 'visible', timeout: 60_000 });
      expect(norm(await banner.textContent())).toMatch(/No WebGPU/);
      await banner.scrollIntoViewIfNeeded();
      await shot(p, 'no-webgpu-banner');
      await view.locator('#tab-run').click();
      await view.locator('#image-picker').evaluate((d) => {
        (d as HTMLElement & { value: string }).value = 'coffee';
        d.dispatchEvent(new Event('change'));
      });
      const status = view.locator('#run-status');
      await view.locator('#run-button').click();
      await expect.poll(async () => `${await status.getAttribute('data-backend')} ${norm(await status.textContent())}`, { timeout: 60_000 }).toMatch(/^cpu .*forward pass/);
      expect(await view.locator('#predictions li').count()).toBeGreaterThan(0);
      await shot(p, 'no-webgpu-run');
    } finally {
      await plain.close();
    }
  }, 180_000);
});
