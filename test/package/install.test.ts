// A fresh clone installs with the README's `npm install` on a machine that reaches only the npm
// registry: onnxruntime-node's postinstall would otherwise download CUDA libraries from NuGet on
// linux/x64. Two settings stop it: `allowScripts` in package.json (npm 11 then never runs the
// script) and `onnxruntime-node-install=skip` in .npmrc (older npm runs it; npm hands the setting
// to it as npm_config_onnxruntime_node_install and it exits at once). These tests run the script
// and npm with every connection refused and logged (no-network.cjs), without the variables a
// developer or CI may have exported, so only the repository's own files can keep them quiet.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers';

const ORT = join(ROOT, 'node_modules/onnxruntime-node');
const GUARD = join(ROOT, 'test/package/no-network.cjs');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir: string;
let userRc: string;
let globalRc: string;

/** The environment without anything that could skip the download on the repository's behalf. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(npm_|ONNXRUNTIME_NODE_INSTALL)/i.test(k)) delete env[k];
  return env;
}

/** npm's flags: no user or global npmrc (only the project's .npmrc counts), nothing fetched. */
function npmFlags(): string[] {
  return [`--userconfig=${userRc}`, `--globalconfig=${globalRc}`, '--offline', '--no-update-notifier', '--no-audit', '--no-fund'];
}

/** The environment npm gives a script in this project (its npm_config_* from .npmrc included). */
function npmScriptEnv(): NodeJS.ProcessEnv {
  const out = execFileSync(NPM, ['exec', ...npmFlags(), '-c', `node -e "process.stdout.write(JSON.stringify(process.env))"`], {
    cwd: ROOT,
    env: cleanEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as NodeJS.ProcessEnv;
}

/** Runs onnxruntime-node's postinstall as npm runs a dependency's script; returns its exit and the network attempts. */
function runInstallScript(env: NodeJS.ProcessEnv, name: string): { status: number | null; attempts: string[]; output: string } {
  const log = join(dir, `${name}.log`);
  const r = spawnSync(process.execPath, [join(ORT, 'script/install.js')], {
    cwd: ORT,
    env: {
      ...env,
      npm_package_json: join(ORT, 'package.json'),
      npm_package_name: 'onnxruntime-node',
      npm_lifecycle_event: 'postinstall',
      npm_config_local_prefix: ROOT,
      NODE_OPTIONS: `--require ${GUARD}`,
      CNN_NET_LOG: log,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const attempts = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  return { status: r.status, attempts, output: `${r.stdout}${r.stderr}` };
}

/** Whether the package, left alone, would download here: this platform needs files it does not bundle. */
function wouldDownloadHere(): boolean {
  const meta = createRequire(__filename)(join(ORT, 'script/install-metadata.js')) as {
    requirements: Record<string, string[]>;
    manifests: Record<string, Record<string, unknown>>;
  };
  const platform = `${process.platform}/${process.arch}`;
  const files = (meta.requirements[platform] ?? []).flatMap((m) => Object.keys(meta.manifests[`${platform}:${m}`] ?? {}));
  return files.some((f) => !existsSync(join(ORT, 'bin/napi-v6', platform, f)));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnn-install-'));
  // Two files: npm refuses one file loaded as both.
  userRc = join(dir, 'user.npmrc');
  globalRc = join(dir, 'global.npmrc');
  for (const f of [userRc, globalRc]) writeFileSync(f, '');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("onnxruntime-node's postinstall on a machine without the internet", () => {
  it('exits at once, without a connection, in the environment npm gives it from this repository', () => {
    const env = npmScriptEnv();
    expect(env.npm_config_onnxruntime_node_install, "npm's script environment lacks .npmrc's onnxruntime-node-install=skip").toBe('skip');
    const r = runInstallScript(env, 'npm-env');
    expect(r.attempts, r.output).toEqual([]);
    expect(r.status, r.output).toBe(0);
  }, 60_000);

  // The control: the same run without the setting reaches for NuGet, so the test above can fail.
  it.skipIf(!wouldDownloadHere())('tries to download without the .npmrc setting (the control)', () => {
    const env = npmScriptEnv();
    delete env.npm_config_onnxruntime_node_install;
    const r = runInstallScript(env, 'control');
    expect(r.attempts.length, r.output).toBeGreaterThan(0);
    expect(r.status).not.toBe(0);
  }, 60_000);

  it('npm rebuild (what npm install and npm ci run for it) makes no connection', () => {
    const log = join(dir, 'rebuild.log');
    const r = spawnSync(NPM, ['rebuild', 'onnxruntime-node', '--foreground-scripts', ...npmFlags()], {
      cwd: ROOT,
      env: { ...cleanEnv(), NODE_OPTIONS: `--require ${GUARD}`, CNN_NET_LOG: log },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const attempts = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    expect(attempts, `${r.stdout}${r.stderr}`).toEqual([]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 60_000);
});
