/**
 * What the end-to-end files share: a code-server 4.100.3 (VS Code 1.100, installed outside the
 * repository by scripts/e2e-setup.sh) isolated in a temporary folder (user data, extensions,
 * config, XDG dirs) with our packaged .vsix installed and a workspace of copied examples and a
 * broken file; and the steps that drive its workbench in headless Debian chromium.
 *
 * Without the setup the files are skipped, except under CI=true, where that is a failure.
 * Screenshots go to test-results/e2e/.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Frame, FrameLocator, Locator, Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { ROOT } from '../helpers';

export const VERSION = '4.100.3';
const SETUP_DIR = join(process.env.CNN_E2E_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cnn-e2e'), `code-server-${VERSION}`);
const ENTRY = join(SETUP_DIR, 'node_modules/code-server/out/node/entry.js');
const READY = existsSync(join(SETUP_DIR, '.ready')) && existsSync(ENTRY);
const CI = process.env.CI === 'true' || process.env.CI === '1';
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results/e2e');
export const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

/** The extension's id (publisher.name), as settings such as remote.extensionKind name it. */
export const EXTENSION_ID = 'cnn-designer.cnn-designer';

export const describeE2E = READY || CI ? describe : describe.skip;

const BROKEN = `network Broken {
  input 3x32x32
  conv 8 k=3
  linear 10
}
`;
export const TINY = `network Tiny {
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

export const norm = (s: string | null | undefined) => (s ?? '').replace(/\u00a0/g, ' ');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

export interface CodeServerOptions {
  /** User settings added to (or replacing) the quiet defaults below. */
  settings?: Record<string, unknown>;
  /**
   * Workspace trust on and the folder never trusted, so the workbench runs in Restricted Mode
   * (what a user gets on opening a folder they have not trusted); otherwise code-server runs with
   * --disable-workspace-trust.
   */
  restricted?: boolean;
  /** Install the packaged extension from its .vsix (the default), as `code-server --install-extension` does. */
  install?: boolean;
  /** User keybindings (keybindings.json). */
  keybindings?: { key: string; command: string }[];
}

export interface CodeServer {
  url: string;
  /** The workspace folder: alexnet.cnn, cifar.cnn, fashion-mnist/, broken.cnn, tiny.cnn. */
  ws: string;
  log(): string;
  stop(): Promise<void>;
}

/** Packages the extension as `npm run package` does, into `file`. */
export function packageVsix(file: string): string {
  execFileSync(process.execPath, ['scripts/package.mjs', '--out', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CNN_PACKAGE_QUIET: '1' } });
  return file;
}

/** Packages the extension, installs it in a fresh code-server the way a user would, and starts that. */
export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  if (!READY) throw new Error(`code-server ${VERSION} is not set up in ${SETUP_DIR}: run scripts/e2e-setup.sh`);
  mkdirSync(SHOTS, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'cnn-e2e-'));
  const dirs = Object.fromEntries(['data', 'extensions', 'config', 'xdg-config', 'xdg-data', 'xdg-cache', 'ws'].map((d) => [d, join(tmp, d)]));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const ws = dirs.ws;

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
      // Restricted Mode without the startup dialog asking to trust the folder (the answer "no").
      'security.workspace.trust.enabled': !!opts.restricted,
      'security.workspace.trust.startupPrompt': 'never',
      'git.enabled': false,
      'editor.minimap.enabled': false,
      'editor.inlayHints.enabled': 'on',
      'files.simpleDialog.enable': true,
      'chat.commandCenter.enabled': false,
      ...opts.settings,
    }),
  );
  if (opts.keybindings) writeFileSync(join(dirs.data, 'User/keybindings.json'), JSON.stringify(opts.keybindings));
  writeFileSync(join(dirs.config, 'config.yaml'), 'auth: none\ncert: false\n');

  const env = { ...process.env, XDG_CONFIG_HOME: dirs['xdg-config'], XDG_DATA_HOME: dirs['xdg-data'], XDG_CACHE_HOME: dirs['xdg-cache'] };
  const common = ['--user-data-dir', dirs.data, '--extensions-dir', dirs.extensions, '--config', join(dirs.config, 'config.yaml')];

  if (opts.install !== false) {
    const vsix = packageVsix(join(tmp, 'cnn-designer.vsix'));
    const installed = execFileSync(process.execPath, [ENTRY, ...common, '--install-extension', vsix], { env, encoding: 'utf8' });
    expect(installed).toMatch(/successfully installed/);
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override'];
  if (!opts.restricted) args.push('--disable-workspace-trust');
  const server: ChildProcess = spawn(process.execPath, [ENTRY, ...args, ws], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverLog = '';
  const log = (d: Buffer) => {
    serverLog = (serverLog + d.toString()).slice(-20_000);
  };
  server.stdout!.on('data', log);
  server.stderr!.on('data', log);

  const stop = async () => {
    if (server.exitCode == null) {
      server.kill('SIGTERM');
      await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
      if (server.exitCode == null) server.kill('SIGKILL');
    }
    rmSync(tmp, { recursive: true, force: true });
  };

  const end = Date.now() + 60_000;
  let last = '';
  for (;;) {
    if (server.exitCode != null) {
      await stop();
      throw new Error(`code-server exited (${server.exitCode}):\n${serverLog}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > end) {
      await stop();
      throw new Error(`code-server not healthy after 60 s (${last}):\n${serverLog}`);
    }
    await sleep(250);
  }
  return { url, ws, log: () => serverLog, stop };
}

export async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`) }).catch(() => undefined);
}

/**
 * A screenshot of the smallest box around `parts` (the editor's text and its hover, say), at most
 * `max` pixels from its top-left corner: test-results/e2e/editor-*.png are the editor pictures
 * of README.md (copied to docs/screenshots).
 */
export async function shotOf(p: Page, name: string, parts: Locator[], max: { width: number; height: number }): Promise<void> {
  const boxes = (await Promise.all(parts.map((l) => l.boundingBox().catch(() => null)))).filter((b) => b != null);
  if (!boxes.length) return;
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const width = Math.min(max.width, Math.max(...boxes.map((b) => b.x + b.width)) - x);
  const height = Math.min(max.height, Math.max(...boxes.map((b) => b.y + b.height)) - y);
  await p.screenshot({ path: join(SHOTS, `${name}.png`), clip: { x, y, width, height } }).catch(() => undefined);
}

/** Opens the workbench on the workspace in a fresh page of `b`, with the Explorer showing. */
export async function openWorkbench(server: CodeServer, b: Browser): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await b.newContext({ viewport: { width: 1500, height: 950 } });
  const p = await ctx.newPage();
  await p.goto(`${server.url}/?folder=${encodeURIComponent(server.ws)}`, { timeout: 60_000 }); // slow on a loaded machine
  await p.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await p.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
  return { ctx, page: p };
}

/** Opens a workspace file by clicking it in the Explorer (nested paths expand their folders). */
export async function openFromExplorer(p: Page, path: string): Promise<void> {
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
export async function editorText(p: Page): Promise<string> {
  return norm(await activeLines(p).innerText());
}

export async function waitText(p: Page, pred: (t: string) => boolean, what: string, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let t = '';
  while (Date.now() < end) {
    t = await editorText(p).catch(() => '');
    if (pred(t)) return t;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}; the editor shows:\n${t}`);
}

/** The status bar's language of the active editor ("CNN", or "Plain Text" where no extension claims the file). */
export async function editorLanguage(p: Page): Promise<string> {
  return norm(await p.locator('[id="status.editor.mode"]').innerText()).trim();
}

export async function quickInput(p: Page): Promise<Locator> {
  const input = p.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  return input;
}

/** Runs a command by its title from F1. */
export async function runCommand(p: Page, title: string): Promise<void> {
  await p.keyboard.press('F1');
  const input = await quickInput(p);
  await input.fill(`>${title}`);
  const row = p.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 10_000 });
  await p.keyboard.press('Enter');
}

/** Puts the cursor at a 1-based line and column of the active editor (Go to Line). */
export async function goTo(p: Page, line: number, column: number): Promise<void> {
  await p.keyboard.press('Control+G');
  const input = await quickInput(p);
  await input.fill(`:${line}:${column}`);
  await p.keyboard.press('Enter');
  await p.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Shows the hover at the cursor (Ctrl+K Ctrl+I) and returns its text once it matches. */
export async function hoverText(p: Page, pattern: RegExp): Promise<string> {
  await p.keyboard.press('Control+K');
  await p.keyboard.press('Control+I');
  const hover = p.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents').first();
  await hover.waitFor({ timeout: 15_000 });
  await expect.poll(async () => norm(await hover.innerText()), { timeout: 10_000 }).toMatch(pattern);
  return norm(await hover.innerText());
}

/** The network panel's document: the webview's inner frame. */
export function panel(p: Page): FrameLocator {
  return p.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/**
 * The webview document that holds `selector`, whichever of the open webviews (a custom editor,
 * the network panel) it is: with two of them, `panel()`'s first iframe may be the other one.
 */
export async function webviewWith(p: Page, selector: string, ms = 30_000): Promise<Frame> {
  const end = Date.now() + ms;
  for (;;) {
    for (const f of p.frames()) if (f !== p.mainFrame() && (await f.$(selector).catch(() => null))) return f;
    if (Date.now() > end) throw new Error(`no webview shows ${selector} after ${ms / 1000} s`);
    await sleep(250);
  }
}

/**
 * Accepts VS Code's simple file dialog (files.simpleDialog.enable) on `path`, typed as a user
 * would, with its OK button `okLabel` (or Enter when the button is not shown).
 */
export async function acceptSimpleDialog(p: Page, path: string, okLabel: string): Promise<void> {
  // A command's first run may activate its extension first: allow for that on a loaded machine.
  const input = p.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 60_000 });
  try {
    // It rewrites the box while it loads its start folder: let it settle there first.
    await expect.poll(() => input.inputValue(), { timeout: 10_000 }).toMatch(/\/$/);
    await sleep(500);
    const name = path.split('/').pop()!;
    // On a loaded machine the dialog can still rewrite the box with its start folder after we
    // typed: type again until the path stays.
    for (let i = 0; i < 5; i++) {
      await input.fill(path);
      await p.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
      await sleep(500);
      if ((await input.inputValue()) === path) break;
    }
    expect(await input.inputValue()).toBe(path);
    const ok = p.locator('.quick-input-widget .monaco-button', { hasText: okLabel }).first();
    if (await ok.isVisible()) await ok.click();
    else await p.keyboard.press('Enter');
    await p.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  } finally {
    if (await p.locator('.quick-input-widget').isVisible()) await p.keyboard.press('Escape');
  }
}

/** The modal dialog (VS Code draws it in the page) once it says `text`; its buttons by label. */
export async function modalDialog(p: Page, text: string | RegExp): Promise<{ message: string; button(label: string): Locator }> {
  const box = p.locator('.monaco-dialog-box', { hasText: text }).first();
  await box.waitFor({ timeout: 30_000 });
  return { message: norm(await box.innerText()), button: (label) => box.locator('.dialog-buttons .monaco-button', { hasText: label }).first() };
}
