// Packages the extension as a .vsix without touching the working tree's dist/: copies the tree
// (sources, media, examples; no node_modules, dist, .git or scratch folders) to a staging folder,
// builds the production bundles there (no source maps) and runs `vsce package --no-dependencies`
// (everything the extension needs at runtime is bundled; only `vscode` stays external).
//
//   node scripts/package.mjs [--out FILE.vsix]     (npm run package)
//
// .vscodeignore decides what goes in; test/package/package.test.ts checks the entries.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = resolve(outArg >= 0 ? args[outArg + 1] : join(root, `${pkg.name}-${pkg.version}.vsix`));

const skip = new Set(['node_modules', 'dist', 'out', 'tmp', 'test-results', '.vscode-test']);
const stage = mkdtempSync(join(tmpdir(), 'cnn-package-'));
const t0 = Date.now();
try {
  cpSync(root, stage, {
    recursive: true,
    filter: (src) => {
      const rel = src.slice(root.length + 1);
      if (!rel) return true;
      const top = rel.split(/[\\/]/)[0];
      if (skip.has(top) || (top.startsWith('.') && top !== '.vscodeignore')) return false;
      return !rel.endsWith('.vsix');
    },
  });
  // Build with the working tree's dependencies, into the stage's dist/.
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  execFileSync(process.execPath, ['scripts/build.mjs', '--production'], { cwd: stage, stdio: 'inherit' });
  rmSync(join(stage, 'node_modules'));
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  // The project has no public repository, and a placeholder URL in package.json would send users
  // nowhere: --allow-missing-repository stops vsce asking for one. Without a repository vsce
  // cannot make README's relative links absolute and refuses them: --no-rewrite-relative-links
  // keeps them relative, which VS Code resolves against the installed extension, so each must
  // name a file in the package (test/package/package.test.ts checks it).
  execFileSync(
    process.execPath,
    [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out],
    { cwd: stage, stdio: ['ignore', process.env.CNN_PACKAGE_QUIET ? 'ignore' : 'inherit', 'inherit'] },
  );
  console.log(`${basename(out)}: packaged in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
