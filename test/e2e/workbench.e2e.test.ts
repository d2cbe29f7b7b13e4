/**
 * End to end in a real VS Code workbench: code-server 4.100.3 (VS Code 1.100, installed outside
 * the repository by scripts/e2e-setup.sh) with our packaged .vsix, driven in headless Debian
 * chromium through playwright-core. One code-server for the file, isolated in a temporary folder
 * (user data, extensions, config, XDG dirs); a workspace of copied examples and a broken file.
 *
 * Without the setup the file is skipped, except under CI=true, where that is a failure.
 * Screenshots go to test-results/e2e/.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers';

const VERSION = '4.100.3';
const SETUP_DIR = join(process.env.CNN_E2E_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cnn-e2e'), `code-server-${VERSION}`);
const ENTRY = join(SETUP_DIR, 'node_modules/code-server/out/node/entry.js');
const READY = existsSync(join(SETUP_DIR, '.ready')) && existsSync(ENTRY);
const CI = process.env.CI === 'true' || process.env.CI === '1';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results/e2e');
const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

const BROKEN = `network Broken {
  input 3x32x32
  conv 8 k=3
  linear 10
}
`;
const TINY = `network Tiny {
  input 3x32x32
  conv 16 k=3 p=same
  bn; relu
  maxpool k=2
  Down(32)
  gap; flatten
  linear 10
}

block Down(c, s=2) {
  conv c k=3 s=s p=1 bias=false; bn; relu
}
`;

let tmp: string;
let ws: string;
let server: ChildProcess | undefined;
let serverLog = '';
let url: string;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;

const norm = (s: string | null | undefined) => (s ?? '').replace(/\u00a0/g, ' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(base: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    if (server?.exitCode != null) throw new Error(`code-server exited (${server.exitCode}):\n${serverLog}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await sleep(250);
  }
  throw new Error(`code-server not healthy after ${ms} ms (${last}):\n${serverLog}`);
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`) }).catch(() => undefined);
}

/** Opens the workbench on the workspace in a fresh page of `b`, with the Explorer showing. */
async function openWorkbench(b: Browser): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await b.newContext({ viewport: { width: 1500, height: 950 } });
  const p = await ctx.newPage();
  await p.goto(`${url}/?folder=${encodeURIComponent(ws)}`);
  await p.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await p.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
  return { ctx, page: p };
}

/** Opens a workspace file by clicking it in the Explorer (nested paths expand their folders). */
async function openFromExplorer(p: Page, path: string): Promise<void> {
  const parts = path.split('/');
  for (const [i, part] of parts.entries()) {
    const row = p.locator(`.explorer-folders-view .monaco-list-row[aria-label="${part}"]`).first();
    await row.waitFor({ timeout: 20_000 });
    if (i < parts.length - 1) {
      if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    } else await row.dblclick(); // a pinned editor, not a preview that the next open replaces
  }
  await p.locator('.editor-group-container.active .tab.active', { hasText: parts.at(-1)! }).waitFor({ timeout: 20_000 });
}

/** The active editor's visible text (inlay hints included), spaces normalised. */
function activeLines(p: Page): Locator {
  return p.locator('.editor-group-container.active .editor-instance .view-lines').first();
}
async function editorText(p: Page): Promise<string> {
  return norm(await activeLines(p).innerText());
}

async function waitText(p: Page, pred: (t: string) => boolean, what: string, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let t = '';
  while (Date.now() < end) {
    t = await editorText(p).catch(() => '');
    if (pred(t)) return t;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}; the editor shows:\n${t}`);
}

async function quickInput(p: Page): Promise<Locator> {
  const input = p.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  return input;
}

/** Runs a command by its title from F1. */
async function runCommand(p: Page, title: string): Promise<void> {
  await p.keyboard.press('F1');
  const input = await quickInput(p);
  await input.fill(`>${title}`);
  const row = p.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 10_000 });
  await p.keyboard.press('Enter');
}

/** Puts the cursor at a 1-based line and column of the active editor (Go to Line). */
async function goTo(p: Page, line: number, column: number): Promise<void> {
  await p.keyboard.press('Control+G');
  const input = await quickInput(p);
  await input.fill(`:${line}:${column}`);
  await p.keyboard.press('Enter');
  await p.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** The network panel's document: the webview's inner frame. */
function panel(p: Page): FrameLocator {
  return p.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

const describeE2E = READY || CI ? describe : describe.skip;

describeE2E(`VS Code workbench (code-server ${VERSION}) with the packaged extension`, () => {
  beforeAll(async () => {
    if (!READY) throw new Error(`code-server ${VERSION} is not set up in ${SETUP_DIR}: run scripts/e2e-setup.sh`);
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'cnn-e2e-'));
    const dirs = Object.fromEntries(['data', 'extensions', 'config', 'xdg-config', 'xdg-data', 'xdg-cache', 'ws'].map((d) => [d, join(tmp, d)]));
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    ws = dirs.ws;

    // The workspace: copies of a few examples, a broken file and a small network with a block.
    for (const f of ['alexnet.cnn', 'cifar.cnn']) cpSync(join(ROOT, 'examples', f), join(ws, f));
    cpSync(join(ROOT, 'examples/fashion-mnist'), join(ws, 'fashion-mnist'), { recursive: true });
    writeFileSync(join(ws, 'broken.cnn'), BROKEN);
    writeFileSync(join(ws, 'tiny.cnn'), TINY);

    mkdirSync(join(dirs.data, 'User'), { recursive: true });
    writeFileSync(
      join(dirs.data, 'User/settings.json'),
      JSON.stringify({
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        'workbench.enableExperiments': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'extensions.ignoreRecommendations': true,
        'security.workspace.trust.enabled': false,
        'git.enabled': false,
        'editor.minimap.enabled': false,
        'editor.inlayHints.enabled': 'on',
        'files.simpleDialog.enable': true,
        'chat.commandCenter.enabled': false,
      }),
    );
    writeFileSync(join(dirs.config, 'config.yaml'), 'auth: none\ncert: false\n');

    const env = { ...process.env, XDG_CONFIG_HOME: dirs['xdg-config'], XDG_DATA_HOME: dirs['xdg-data'], XDG_CACHE_HOME: dirs['xdg-cache'] };
    const common = ['--user-data-dir', dirs.data, '--extensions-dir', dirs.extensions, '--config', join(dirs.config, 'config.yaml')];

    // Package and install the extension the way a user would.
    const vsix = join(tmp, 'cnn-designer.vsix');
    execFileSync(process.execPath, ['scripts/package.mjs', '--out', vsix], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CNN_PACKAGE_QUIET: '1' } });
    const installed = execFileSync(process.execPath, [ENTRY, ...common, '--install-extension', vsix], { env, encoding: 'utf8' });
    expect(installed).toMatch(/successfully installed/);

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(
      process.execPath,
      [ENTRY, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', ws],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = (d: Buffer) => {
      serverLog = (serverLog + d.toString()).slice(-20_000);
    };
    server.stdout!.on('data', log);
    server.stderr!.on('data', log);
    await waitHealthy(url, 60_000);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...WEBGPU_ARGS, ...BASE_ARGS] });
    ({ ctx: context, page } = await openWorkbench(browser));
  }, 240_000);

  afterAll(async () => {
    if (page) await shot(page, 'last');
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (server && server.exitCode == null) {
      server.kill('SIGTERM');
      await Promise.race([new Promise((r) => server!.once('exit', r)), sleep(5000)]);
      if (server.exitCode == null) server.kill('SIGKILL');
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  afterEach(async () => {
    // Close whatever a failed step left open (quick input, hover, action widget).
    for (let i = 0; i < 2; i++) await page?.keyboard.press('Escape').catch(() => undefined);
  });

  it('opens an example from the Explorer and shows the shape hints', async () => {
    await openFromExplorer(page, 'alexnet.cnn');
    const text = await waitText(page, (t) => t.includes('→ 64×56×56'), "AlexNet conv1's hint → 64×56×56", 60_000);
    expect(text).toMatch(/conv .*→ 64×56×56/);
    await shot(page, 'hints');
  }, 120_000);

  it('hovers a layer with the formula and its numbers', async () => {
    await goTo(page, 5, 13); // conv1
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents').first();
    await hover.waitFor({ timeout: 15_000 });
    await expect.poll(async () => norm(await hover.innerText()), { timeout: 10_000 }).toMatch(/⌊\(227 \+ 2·2 − 11\)\/4⌋ \+ 1 = 56/);
    await shot(page, 'hover');
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
    expect(await view.locator('#predictions li').count()).toBeGreaterThan(0);
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
    expect(norm(await view.locator('#messages').textContent())).not.toMatch(/failed/i);
    await shot(page, 'run-sample');
  }, 120_000);

  it('CNN: Benchmark shows its progress and the result', async () => {
    await page.locator('.editor-group-container .tab', { hasText: 'fashion.cnn' }).first().click();
    const view = panel(page);
    await runCommand(page, 'CNN: Benchmark');
    const progress = view.locator('#bench-progress');
    await progress.waitFor({ state: 'visible', timeout: 30_000 });
    await shot(page, 'benchmark-progress');
    await view.locator('#bench-result table.bench tbody tr').first().waitFor({ timeout: 120_000 });
    const rows = await view.locator('#bench-result table.bench tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.join(' ')).toMatch(/ms/);
    await progress.waitFor({ state: 'hidden', timeout: 30_000 });
    await view.locator('#bench-result').scrollIntoViewIfNeeded();
    await shot(page, 'benchmark');
  }, 120_000);

  it('without WebGPU: the panel says so and still runs on the CPU engine', async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BASE_ARGS });
    try {
      const { page: p } = await openWorkbench(plain);
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
