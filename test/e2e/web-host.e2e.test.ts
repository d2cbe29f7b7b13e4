/**
 * The web extension (package.json's `browser`: dist/extension-browser.js, the language server in a
 * web worker) in a real web extension host: code-server with `remote.extensionKind` sending our
 * extension to the browser's worker host instead of the Node one, as vscode.dev runs it. Its
 * extension URI is `vscode-remote:` there, which is what broke the worker before, and the client's
 * messages to the worker must be cloneable.
 */
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  BASE_ARGS,
  CHROMIUM,
  type CodeServer,
  describeE2E,
  EXTENSION_ID,
  editorLanguage,
  goTo,
  hoverText,
  norm,
  openFromExplorer,
  openWorkbench,
  panel,
  runCommand,
  shot,
  startCodeServer,
  VERSION,
  waitText,
  WEBGPU_ARGS,
} from './code-server';

let server: CodeServer | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;
const errors: string[] = [];

/** The names of the page's web workers: the web extension host's, and those it starts. */
async function workerNames(p: Page): Promise<string[]> {
  const names = await Promise.all(p.workers().map((w) => w.evaluate(() => (self as unknown as { name: string }).name).catch(() => '')));
  return names.filter(Boolean);
}

describeE2E(`the web extension in code-server ${VERSION}'s web extension host`, () => {
  beforeAll(async () => {
    server = await startCodeServer({ settings: { 'remote.extensionKind': { [EXTENSION_ID]: ['web'] } } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...WEBGPU_ARGS, ...BASE_ARGS] });
    ({ ctx: context, page } = await openWorkbench(server, browser));
    // Activation failures reach the page's console ("Activating extension '…' failed: …").
    page.on('console', (m) => {
      if (m.type() === 'error' && m.text().includes(EXTENSION_ID)) errors.push(m.text());
    });
  }, 240_000);

  afterAll(async () => {
    if (page) await shot(page, 'web-last');
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  }, 30_000);

  afterEach(async () => {
    for (let i = 0; i < 2; i++) await page?.keyboard.press('Escape').catch(() => undefined);
  });

  it('activates there: the language server runs in a web worker and the hints appear', async () => {
    await openFromExplorer(page, 'alexnet.cnn');
    await expect.poll(() => editorLanguage(page), { timeout: 30_000 }).toBe('CNN');
    // Stop waiting at a failed activation, and say why.
    const text = await waitText(page, (t) => t.includes('→ 64×56×56') || errors.length > 0, "AlexNet conv1's hint → 64×56×56", 60_000);
    expect(errors).toEqual([]);
    expect(text).toMatch(/conv .*→ 64×56×56/);
    // The web host names a worker an extension starts "<host> -> <its name>"; the Node entry
    // (src/extension/extension.ts) starts no worker, so this is the browser entry at work.
    expect(await workerNames(page)).toContainEqual(expect.stringMatching(/ExtensionHostWorker -> CNN Language Server$/));
    await shot(page, 'web-hints');
  }, 120_000);

  it('hovers a layer with the formula and its numbers', async () => {
    await goTo(page, 5, 13); // conv1
    await hoverText(page, /⌊\(227 \+ 2·2 − 11\)\/4⌋ \+ 1 = 56/);
    await shot(page, 'web-hover');
    await page.keyboard.press('Escape');
  }, 120_000);

  it('flags the error of a broken file on its line', async () => {
    await openFromExplorer(page, 'broken.cnn');
    await page.locator('.editor-group-container.active .squiggly-error').first().waitFor({ timeout: 30_000 });
    await expect.poll(async () => norm(await page.locator('#status\\.problems').innerText()), { timeout: 10_000 }).toMatch(/[1-9]/);
    // The squiggle is on line 4 (`linear 10` after a 3-D output): its top matches that line's.
    const lineTop = async (n: number) =>
      page
        .locator('.editor-group-container.active .margin-view-overlays .line-numbers', { hasText: new RegExp(`^${n}$`) })
        .first()
        .evaluate((e) => Math.round(e.getBoundingClientRect().top));
    const squiggleTop = await page
      .locator('.editor-group-container.active .squiggly-error')
      .first()
      .evaluate((e) => Math.round(e.getBoundingClientRect().top));
    expect(Math.abs(squiggleTop - (await lineTop(4)))).toBeLessThan(6);
    await shot(page, 'web-diagnostic');
  }, 120_000);

  it('CNN: Show Network Graph opens the panel with the graph and the table', async () => {
    await openFromExplorer(page, 'cifar.cnn');
    await waitText(page, (t) => t.includes('→'), 'the hints of cifar.cnn');
    await runCommand(page, 'CNN: Show Network Graph');
    const view = panel(page);
    await view.locator('#graph svg .node').first().waitFor({ timeout: 60_000 });
    expect(await view.locator('#graph svg .node').count()).toBeGreaterThan(5);
    expect(await view.locator('#table tbody tr').count()).toBeGreaterThan(5);
    expect(norm(await view.locator('#messages').textContent())).not.toMatch(/failed|error/i);
    expect(errors).toEqual([]);
    await shot(page, 'web-network');
  }, 120_000);
});
