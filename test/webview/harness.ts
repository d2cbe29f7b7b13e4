/**
 * The browser tests' stand-in for VS Code: a node:http server on 127.0.0.1 serving the webview
 * bundle, its media and the examples, under the page HTML the extension builds (same CSP and
 * nonce rule), with a small script for `acquireVsCodeApi` that records posted messages and
 * keeps the state in localStorage; plus a headless Debian chromium driven by playwright-core.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, panelHtml } from '../../webview/src/html';
import type { FromWebview, PickedFile, ToWebview } from '../../webview/src/protocol';

export const ROOT = resolve(__dirname, '../..');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.html': 'text/html',
  '.safetensors': 'application/octet-stream',
  '.map': 'application/json',
};
/** Only these folders are served, as localResourceRoots limit a real panel. */
const SERVED = ['dist/webview/', 'webview/media/', 'examples/', 'test/webview/themes/'];

const STUB = `
(() => {
  const posted = [];
  window.__posted = posted;
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may be called once');
    acquired = true;
    return {
      postMessage: (m) => posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => JSON.parse(localStorage.getItem('vscode-state') || 'null') ?? undefined,
      setState: (s) => (localStorage.setItem('vscode-state', JSON.stringify(s)), s),
    };
  };
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    const v = e.violatedDirective + ' ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber;
    window.__violations.push(v);
    window.__reportViolation?.(v);
  });
})();`;

export interface Harness {
  url: string;
  close(): Promise<void>;
}

export async function serve(): Promise<Harness> {
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Chromium asks a top-level page for one (a webview's frame never does): no 404 in the console.
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const theme = url.searchParams.get('theme') === 'light' ? 'light' : 'dark';
      const nonce = makeNonce();
      const html = panelHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}/dist/webview/main.js`,
        workerUri: `${origin}/dist/webview/worker.js`,
        layoutUri: `${origin}/dist/webview/layout.js`,
        styleUri: `${origin}/webview/media/main.css`,
        mediaUri: `${origin}/webview/media`,
        extraStyleUris: [`${origin}/test/webview/themes/${theme}.css`],
        headScripts: [STUB],
        // Only on the CSP test's page (?probe=csp): must never run, it lacks the nonce.
        bodyExtra: url.searchParams.has('probe') ? '<script>window.__inlineRan = true;</script><img src="https://example.com/x.png" alt="">' : '',
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(theme === 'light' ? html.replace('<body', '<body class="vscode-light"') : html.replace('<body', '<body class="vscode-dark"'));
      return;
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    const file = join(ROOT, rel);
    if (!SERVED.some((p) => rel.startsWith(p)) || !file.startsWith(ROOT) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: origin, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];

export async function launch(webgpu: boolean): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: webgpu ? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', ...BASE_ARGS] : BASE_ARGS,
  });
}

const problemsOf = new WeakMap<Page, string[]>();
let opened: Page[] = [];

/**
 * Opens the panel in a fresh page. Everything that would show as an error in the webview's
 * developer tools is recorded for `problems`: console messages of type error (CSP refusals log
 * there too), uncaught exceptions, and securitypolicyviolation events (reported to the test
 * through a binding, so that they survive the page's closing).
 */
export async function openPanel(browser: Browser, url: string, theme: 'light' | 'dark' = 'dark', viewport = { width: 1200, height: 900 }, opts: { cspProbe?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport, colorScheme: theme });
  const list: string[] = [];
  problemsOf.set(page, list);
  if (!opts.cspProbe) opened.push(page);
  page.on('pageerror', (e) => list.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') list.push(`console error: ${m.text()} (${m.location().url}:${m.location().lineNumber})`);
  });
  await page.exposeFunction('__reportViolation', (v: string) => list.push(`CSP violation: ${v}`));
  await page.goto(`${url}/?theme=${theme}${opts.cspProbe ? '&probe=csp' : ''}`);
  await page.waitForFunction(() => (window as unknown as { __posted: FromWebview[] }).__posted.some((m) => m.type === 'ready'));
  return page;
}

/** Console errors, uncaught exceptions and CSP violations of a page so far. */
export function problems(page: Page): string[] {
  return [...(problemsOf.get(page) ?? [])];
}

/** The pages opened since the last call (the CSP probe's excepted): each test checks its own. */
export function takeOpened(): Page[] {
  const out = opened;
  opened = [];
  return out;
}

export async function send(page: Page, m: ToWebview): Promise<void> {
  await page.evaluate((msg) => window.postMessage(msg, '*'), m);
}

export async function posted(page: Page): Promise<FromWebview[]> {
  return page.evaluate(() => (window as unknown as { __posted: FromWebview[] }).__posted);
}

export function example(path: string): string {
  return readFileSync(join(ROOT, 'examples', path), 'utf8');
}

/**
 * Sends an example as the active document, as the extension would: `labels` and `weights` are
 * what it found beside the file; `untitled` sends it as the untitled copy "Open Example…" makes
 * (which still knows its example, so what lies beside the example comes with it).
 */
export async function openDocument(page: Page, file: string, labels?: string[], opts: { weights?: PickedFile[]; untitled?: string } = {}): Promise<void> {
  const uri = opts.untitled ? `untitled:${opts.untitled}` : `file:///work/examples/${file}`;
  const fileName = opts.untitled ?? `/work/examples/${file}`;
  const text = example(file);
  await send(page, { type: 'document', uri, fileName, text, version: 1, labels, weights: opts.weights, example: opts.untitled ? file : undefined });
  // This network's graph (drawn also while another tab shows).
  const name = /^\s*network\s+(\w+)/m.exec(text)?.[1];
  await page.waitForSelector(`#graph svg[aria-label="${name}: layer graph"] .node`, { state: 'attached' });
}

/** Switches the stand-in theme in place (VS Code swaps its variables the same way). */
export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.evaluate((t) => {
    const link = Array.from(document.querySelectorAll("link")).find((l) => l.href.includes('/themes/'))!;
    link.href = link.href.replace(/(light|dark)\.css$/, `${t}.css`);
  }, theme);
  await page.waitForFunction((t) => getComputedStyle(document.body).backgroundColor === (t === 'light' ? 'rgb(255, 255, 255)' : 'rgb(31, 31, 31)'), theme);
  // Then the body class, as VS Code does.
  await page.evaluate((t) => (document.body.className = `vscode-${t}`), theme);
  // Chromium can leave inherited colours of a subtree stale after a stylesheet swap: restyle everything.
  await page.evaluate(() => {
    const app = document.getElementById('app')!;
    app.style.display = 'none';
    void app.offsetHeight;
    app.style.display = '';
  });
  await page.emulateMedia({ colorScheme: theme });
}

/** Sets a drop-down's (or an input's) value as a user's pick would. */
export async function choose(page: Page, id: string, value: string): Promise<void> {
  await page.evaluate(
    ([id, value]) => {
      const d = document.getElementById(id) as HTMLElement & { value: string };
      d.value = value;
      d.dispatchEvent(new Event('change'));
    },
    [id, value] as const,
  );
}
