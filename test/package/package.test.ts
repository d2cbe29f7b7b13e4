// `npm run package` (scripts/package.mjs): the .vsix holds the production bundles, the manifest's
// files, the examples and media, and nothing of the sources, tests, maps or node_modules; the
// bundles need nothing at runtime but Node's built-ins and `vscode`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers';
import { type ZipEntry, zipEntries, zipRead } from './zip';

let dir: string;
let zip: Buffer;
let entries: ZipEntry[];
let names: string[];
const file = (name: string) => {
  const e = entries.find((x) => x.name === `extension/${name}`);
  if (!e) throw new Error(`extension/${name} is not in the .vsix`);
  return zipRead(zip, e);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnn-vsix-'));
  const out = join(dir, 'cnn-designer.vsix');
  execFileSync(process.execPath, ['scripts/package.mjs', '--out', out], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CNN_PACKAGE_QUIET: '1' },
  });
  zip = readFileSync(out);
  entries = zipEntries(zip);
  names = entries.map((e) => e.name);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the .vsix', () => {
  it('holds the bundles, the manifest, the docs, grammar, snippets, media and examples', () => {
    for (const f of [
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/readme.md',
      'extension/changelog.md',
      'extension/LICENSE.txt',
      'extension/NOTICE',
      'extension/dist/extension.cjs',
      'extension/dist/extension-browser.js',
      'extension/dist/server-node.cjs',
      'extension/dist/server-browser.js',
      'extension/dist/webview/main.js',
      'extension/dist/webview/worker.js',
      'extension/dist/webview/layout.js',
      'extension/webview/media/main.css',
      'extension/webview/media/samples/manifest.json',
      'extension/syntaxes/cnn.tmLanguage.json',
      'extension/snippets/cnn.json',
      'extension/language-configuration.json',
      'extension/media/icon.png',
    ])
      expect(names, f).toContain(f);
    const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.cnn'));
    expect(examples.length).toBeGreaterThan(5);
    for (const f of examples) expect(names).toContain(`extension/examples/${f}`);
  });

  it('holds no sources, tests, maps, scripts, node_modules, dotfiles or the CLI', () => {
    const bad = names.filter(
      (n) =>
        /\.(ts|map|py|vsix)$/.test(n) ||
        /^extension\/(src|test|scripts|node_modules|bin|tmp|out|assets|webview\/src|webview\/tools)\//.test(n) ||
        /\/node_modules\//.test(n) ||
        /(^|\/)\.[^/]+/.test(n) ||
        n === 'extension/dist/cli.cjs' ||
        n.startsWith('extension/dist/bench/') ||
        /^extension\/(tsconfig\.json|vitest\.config|package-lock\.json|CONTRIBUTING\.md)/.test(n),
    );
    expect(bad).toEqual([]);
    expect(zip.length).toBeLessThan(5 * 1024 * 1024);
  });

  it('has every file its manifest names', () => {
    const pkg = JSON.parse(file('package.json').toString('utf8'));
    const c = pkg.contributes;
    const paths: string[] = [
      pkg.main,
      pkg.browser,
      pkg.icon,
      ...c.languages.map((l: { configuration: string }) => l.configuration),
      ...c.grammars.map((g: { path: string }) => g.path),
      ...c.snippets.map((s: { path: string }) => s.path),
      ...c.walkthroughs.flatMap((w: { steps: { media: { markdown?: string; image?: string } }[] }) =>
        w.steps.map((s) => s.media.markdown ?? s.media.image),
      ),
    ];
    expect(paths.length).toBeGreaterThan(8);
    for (const p of paths) expect(names, p).toContain(`extension/${p.replace(/^\.\//, '')}`);
    expect(pkg.icon).toBe('media/icon.png');
    const png = file('media/icon.png');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([128, 128]);
    // The walkthrough's steps: open an example, the hints, run, benchmark; their commands exist.
    const commands = new Set(c.commands.map((x: { command: string }) => x.command));
    const steps = c.walkthroughs[0].steps as { id: string; description: string }[];
    expect(steps.map((s) => s.id)).toEqual(['open', 'hints', 'run', 'benchmark']);
    for (const s of steps) for (const m of s.description.matchAll(/\(command:([\w.]+)/g)) expect(commands, m[1]).toContain(m[1]);
  });

  it("keeps README's and the docs' relative links inside the package", () => {
    // Packaged without a repository, vsce leaves relative links as they are (scripts/package.mjs):
    // VS Code resolves them against the installed extension, so each must name a packaged file.
    const docs = names.filter((n) => /^extension\/(readme\.md|docs\/[^/]+\.md)$/.test(n));
    expect(docs).toContain('extension/readme.md');
    const broken: string[] = [];
    let checked = 0;
    for (const doc of docs) {
      const text = file(doc.slice('extension/'.length)).toString('utf8');
      const dir = posix.dirname(doc);
      for (const m of text.matchAll(/!?\[(?:[^\]]|\][^(])*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = m[1].split('#')[0];
        if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // a fragment or an absolute URL
        checked++;
        const entry = posix.normalize(posix.join(dir, decodeURI(target)));
        if (!names.includes(entry)) broken.push(`${doc.slice('extension/'.length)}: ${m[1]}`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(broken).toEqual([]);
    // The shared spec is outside the package: README names it without a link.
    expect(file('readme.md').toString('utf8')).not.toMatch(/\]\([^)]*\.\.\//);
  });

  it('ships production bundles that require only Node built-ins and vscode', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const requires = (code: string) => [...code.matchAll(/\brequire\(\s*(["'`])([^"'`]+)\1\s*\)/g)].map((m) => m[2]);
    for (const f of ['dist/extension.cjs', 'dist/server-node.cjs']) {
      const code = file(f).toString('utf8');
      const foreign = requires(code).filter((m) => m !== 'vscode' && !builtins.has(m));
      expect(foreign, f).toEqual([]);
      expect(code, f).not.toMatch(/\brequire\(\s*[^"'`\s)]/); // no computed requires
      expect(code, f).not.toContain('sourceMappingURL');
    }
    expect(requires(file('dist/extension.cjs').toString('utf8'))).toContain('vscode');
    // Browser bundles: nothing but vscode (the web extension host provides it); a bundled library's
    // guarded probe for Node's `util` is harmless there.
    for (const f of ['dist/extension-browser.js', 'dist/server-browser.js', 'dist/webview/main.js', 'dist/webview/worker.js', 'dist/webview/layout.js']) {
      const code = file(f).toString('utf8');
      expect(requires(code).filter((m) => m !== 'vscode' && m !== 'util'), f).toEqual([]);
      expect(code, f).not.toContain('sourceMappingURL');
    }
    // webgpu (the Node binding) is the CLI's only; the extension never loads it.
    for (const f of ['dist/extension.cjs', 'dist/server-node.cjs', 'dist/extension-browser.js'])
      expect(requires(file(f).toString('utf8')), f).not.toContain('webgpu');
  });
});
