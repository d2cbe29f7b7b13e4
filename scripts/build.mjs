// Bundles every entry point with esbuild. Node entries are CommonJS (VS Code loads the extension
// with require); the browser server and the webview are ES/IIFE bundles.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  {
    entryPoints: { cli: 'src/cli/main.ts' },
    platform: 'node',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    external: ['webgpu'],
  },
  // The language server: Node (stdio / IPC; bin/cnn-lsp.js loads it) and a web worker.
  {
    entryPoints: { 'server-node': 'src/server/node.ts' },
    platform: 'node',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
  },
  {
    entryPoints: { 'server-browser': 'src/server/browser.ts' },
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  // The VS Code extension: Node (desktop) and browser (vscode.dev) clients.
  {
    entryPoints: { extension: 'src/extension/extension.ts' },
    platform: 'node',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    external: ['vscode'],
  },
  {
    entryPoints: { 'extension-browser': 'src/extension/browser.ts' },
    platform: 'browser',
    format: 'cjs',
    target: 'es2022',
    external: ['vscode'],
  },
  // The network panel's webview (webview/), its engine worker and its layout worker: browser bundles in dist/webview/.
  {
    entryPoints: { 'webview/main': 'webview/src/main.ts', 'webview/worker': 'webview/src/engine/worker.ts', 'webview/layout': 'webview/src/layout/worker.ts', 'webview/train-worker': 'webview/src/engine/train-worker.ts' },
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    entryPoints: { 'bench/parse-analyse': 'scripts/bench-parse-analyse.ts' },
    platform: 'node',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
  },
];

const common = {
  bundle: true,
  outdir: 'dist',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

if (watch) {
  for (const b of builds) await (await esbuild.context({ ...common, ...b })).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build({ ...common, ...b })));
}
