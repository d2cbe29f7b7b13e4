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
