/**
 * The panel's HTML, shared by the extension (panel.ts) and the browser tests' harness, so the
 * tests load the page under the very Content-Security-Policy that VS Code gets. No DOM or
 * `vscode` imports: it only builds a string.
 */

export interface PageOptions {
  /** `webview.cspSource`: the origin that serves the extension's files. */
  cspSource: string;
  /** A fresh random value per page load; only scripts carrying it run. */
  nonce: string;
  /** dist/webview/main.js, dist/webview/worker.js (the engine), dist/webview/layout.js (the graph's layout), main.css as webview URIs. */
  scriptUri: string;
  workerUri: string;
  layoutUri: string;
  styleUri: string;
  /** webview/media (sample images and their manifest) as a webview URI, without a trailing slash. */
  mediaUri: string;
  /** Stylesheets linked before the panel's (the tests' stand-in for VS Code's theme variables). */
  extraStyleUris?: string[];
  /** Extra nonce-carrying script tags (the tests' stand-in for the VS Code API). */
  headScripts?: string[];
  /** Raw HTML put at the end of <body> (the CSP test puts a script without the nonce here). */
  bodyExtra?: string;
}

/** 32 characters from [A-Za-z0-9], from a cryptographic source when one is given. */
export function makeNonce(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(random(32), (b) => chars[b % chars.length]).join('');
}

/**
 * `default-src 'none'`; scripts by nonce only (no 'unsafe-eval', no 'unsafe-inline'; WebAssembly may
 * compile, 'wasm-unsafe-eval', for the CPU engine's kernels, which the page itself embeds); styles,
 * images, fonts and fetches only from the extension's own resources (images and weights the
 * user picked are added to localResourceRoots, so they come from there too); the engine and layout
 * workers from blob: URLs made of their fetched bundles (VS Code serves resources from another origin,
 * and a worker must be same-origin).
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} blob: data:`,
    `font-src ${cspSource}`,
    `connect-src ${cspSource}`,
    'worker-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function panelHtml(o: PageOptions): string {
  const head = (o.headScripts ?? []).map((s) => `<script nonce="${o.nonce}">${s}</script>`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(o.cspSource, o.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${(o.extraStyleUris ?? []).map((u) => `<link rel="stylesheet" href="${esc(u)}">`).join('\n    ')}
    <link rel="stylesheet" href="${esc(o.styleUri)}">
    <title>CNN Network</title>
    ${head}
  </head>
  <body data-media="${esc(o.mediaUri)}" data-worker="${esc(o.workerUri)}" data-layout="${esc(o.layoutUri)}">
    <div id="app"><p class="loading">Loading the network view…</p></div>
    <script nonce="${o.nonce}" src="${esc(o.scriptUri)}"></script>
    ${o.bodyExtra ?? ''}
  </body>
</html>`;
}
