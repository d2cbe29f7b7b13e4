/**
 * The web extension (package.json's `browser`: dist/extension-browser.js, the language server in a
 * web worker) in a real web extension host, the two ways a browser runs it:
 *
 * - remote (code-server, Codespaces): code-server with `remote.extensionKind` sending our
 *   extension to the browser's worker host instead of the Node one. Its extension URI is
 *   `vscode-remote:`, which the host refuses to start a worker from.
 * - vscode.dev: no remote; the extension installed from an https location (Developer: Install
 *   Extension from Location…, served here from the .vsix with a self-signed certificate), so its
 *   URI is https and the host fetches its files across origins, as from vscode.dev's CDN.
 *
 * Both check activation (a failure shows in the page's console), that the server is the browser
 * worker, the hints, a hover, an example's warning, a broken file's error and the network panel.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { zipEntries, zipRead } from '../package/zip';
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
  packageVsix,
  panel,
  shot,
  runCommand,
  sleep,
  startCodeServer,
  VERSION,
  waitText,
  WEBGPU_ARGS,
} from './code-server';

interface Session {
  server?: CodeServer;
  browser?: Browser;
  context?: BrowserContext;
  page: Page;
  /** Console errors that name the extension ("Activating extension '…' failed: …"). */
  errors: string[];
}

async function openSession(s: Session, server: CodeServer, chromiumArgs: string[] = []): Promise<void> {
  s.server = server;
  s.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...WEBGPU_ARGS, ...BASE_ARGS, ...chromiumArgs] });
  ({ ctx: s.context, page: s.page } = await openWorkbench(server, s.browser));
  s.page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes(EXTENSION_ID)) s.errors.push(m.text());
  });
}

async function closeSession(s: Session, name: string): Promise<void> {
  if (s.page) await shot(s.page, `${name}-last`);
  await s.context?.close().catch(() => undefined);
  await s.browser?.close().catch(() => undefined);
  await s.server?.stop();
}

/** The names of the page's web workers: the web extension host's, and those it starts. */
async function workerNames(p: Page): Promise<string[]> {
  const names = await Promise.all(p.workers().map((w) => w.evaluate(() => (self as unknown as { name: string }).name).catch(() => '')));
  return names.filter(Boolean);
}

/** The same checks for both hosts; screenshots are `${name}-….png`. */
function webHostTests(s: Session, name: string): void {
  afterEach(async () => {
    for (let i = 0; i < 2; i++) await s.page?.keyboard.press('Escape').catch(() => undefined);
  });

  it('activates: the language server runs in a web worker and the hints appear', async () => {
    const page = s.page;
    await openFromExplorer(page, 'alexnet.cnn');
    await expect.poll(() => editorLanguage(page), { timeout: 30_000 }).toBe('CNN');
    // Stop waiting at a failed activation, and say why.
    const text = await waitText(page, (t) => t.includes('→ 64×56×56') || s.errors.length > 0, "AlexNet conv1's hint → 64×56×56", 60_000);
    expect(s.errors).toEqual([]);
    expect(text).toMatch(/conv .*→ 64×56×56/);
    // The web host names a worker an extension starts "<host> -> <its name>"; the Node entry
    // (src/extension/extension.ts) starts no worker, so this is the browser entry at work.
    expect(await workerNames(page)).toContainEqual(expect.stringMatching(/ExtensionHostWorker -> CNN Language Server$/));
    await shot(page, `${name}-hints`);
  }, 120_000);

  it('hovers a layer with the formula and its numbers', async () => {
    await goTo(s.page, 5, 7); // conv1
    await hoverText(s.page, /⌊\(227 \+ 2·2 − 11\)\/4⌋ \+ 1 = 56/);
    await shot(s.page, `${name}-hover`);
    await s.page.keyboard.press('Escape');
  }, 120_000);

  it("shows the example's warning on its line, in the hover", async () => {
    const page = s.page;
    await page.locator('.editor-group-container.active .squiggly-warning').first().waitFor({ timeout: 30_000 });
    await goTo(page, 7, 10); // pool1: maxpool k=3 s=2 after conv1's 56×56
    await hoverText(page, /stride 2 does not divide 56 \+ 2·0 − 3 = 53/);
    await shot(page, `${name}-warning`);
    await page.keyboard.press('Escape');
  }, 120_000);

  it('flags the error of a broken file on its line', async () => {
    const page = s.page;
    await openFromExplorer(page, 'broken.cnn');
    const squiggle = page.locator('.editor-group-container.active .squiggly-error').first();
    await squiggle.waitFor({ timeout: 30_000 });
    await expect.poll(async () => norm(await page.locator('#status\\.problems').innerText()), { timeout: 10_000 }).toMatch(/[1-9]/);
    // On line 4 (`linear 10` after a 3-D output): the squiggle's top is that line number's.
    const top = (l: ReturnType<Page['locator']>) => l.evaluate((e) => Math.round(e.getBoundingClientRect().top));
    const line4 = page.locator('.editor-group-container.active .margin-view-overlays .line-numbers', { hasText: /^4$/ }).first();
    // Polled: a code lens arriving above the network moves every line down between two reads.
    await expect.poll(async () => Math.abs((await top(squiggle)) - (await top(line4))), { timeout: 10_000 }).toBeLessThan(6);
    await shot(page, `${name}-diagnostic`);
  }, 120_000);

  it('CNN: Show Network Graph opens the panel with the graph and the table', async () => {
    const page = s.page;
    await openFromExplorer(page, 'cifar.cnn');
    await waitText(page, (t) => t.includes('→'), 'the hints of cifar.cnn');
    await runCommand(page, 'CNN: Show Network Graph');
    const view = panel(page);
    await view.locator('#graph svg .node').first().waitFor({ timeout: 60_000 });
    expect(await view.locator('#graph svg .node').count()).toBeGreaterThan(5);
    expect(await view.locator('#table tbody tr').count()).toBeGreaterThan(5);
    expect(norm(await view.locator('#messages').textContent())).not.toMatch(/failed|error/i);
    expect(s.errors).toEqual([]);
    await shot(page, `${name}-network`);
  }, 120_000);
}

describeE2E(`the web extension in code-server ${VERSION}'s web extension host (remote)`, () => {
  const s: Session = { errors: [] } as unknown as Session;
  beforeAll(async () => {
    await openSession(s, await startCodeServer({ settings: { 'remote.extensionKind': { [EXTENSION_ID]: ['web'] } } }));
  }, 240_000);
  afterAll(() => closeSession(s, 'web-remote'), 30_000);
  webHostTests(s, 'web-remote');
});

describeE2E(`the web extension installed from an https location, as vscode.dev runs it (code-server ${VERSION})`, () => {
  const s: Session = { errors: [] } as unknown as Session;
  let dir: string | undefined;
  let https: Server | undefined;
  let location: string;
  const requests: string[] = [];
  const INSTALL_KEY = 'ctrl+alt+shift+l';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cnn-e2e-https-'));
    const vsix = readFileSync(packageVsix(join(dir, 'cnn-designer.vsix')));
    const files = new Map(zipEntries(vsix).filter((e) => e.name.startsWith('extension/')).map((e) => [e.name.slice('extension/'.length), e]));
    // The workbench only connects to https (its CSP), so a certificate for localhost, made here.
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    } catch (e) {
      throw new Error(`openssl could not make a test certificate (apt-get install openssl): ${(e as Error).message}`);
    }
    const types: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };
    https = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'https://localhost').pathname).replace(/^\/+/, '');
      requests.push(path);
      // vscode.dev's CDN answers cross-origin fetches; so must this.
      res.setHeader('Access-Control-Allow-Origin', '*');
      const entry = files.get(path);
      if (!entry) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('Content-Type', types[extname(path)] ?? 'application/octet-stream');
      res.end(zipRead(vsix, entry));
    });
    await new Promise<void>((r) => https!.listen(0, '127.0.0.1', r));
    location = `https://localhost:${(https.address() as { port: number }).port}`;

    // Nothing installed on the remote; a key for the command, which the palette hides in code-server.
    const server = await startCodeServer({ install: false, keybindings: [{ key: INSTALL_KEY, command: 'workbench.extensions.action.installExtensionFromLocation' }] });
    await openSession(s, server, ['--ignore-certificate-errors']);
  }, 240_000);

  afterAll(async () => {
    await closeSession(s, 'web-https');
    https?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('Install Extension from Location… installs it from the https location', async () => {
    // The workbench reads keybindings.json after it shows: press again until the command answers.
    const input = s.page.locator('.quick-input-widget .quick-input-box input');
    for (let i = 0; i < 6 && !(await input.isVisible()); i++) {
      await s.page.locator('.explorer-folders-view').first().click();
      await s.page.keyboard.press('Control+Alt+Shift+L');
      await input.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
    }
    await input.fill(location);
    await s.page.keyboard.press('Enter');
    await expect.poll(() => requests.includes('package.json'), { timeout: 30_000 }).toBe(true);
    await s.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    await sleep(1000); // the install itself finishes after the manifest is read
  }, 60_000);

  webHostTests(s, 'web-https');

  it('loaded the extension and its server from the https location', () => {
    expect(requests).toEqual(expect.arrayContaining(['package.json', 'dist/extension-browser.js', 'dist/server-browser.js']));
  });
});
