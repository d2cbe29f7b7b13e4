/**
 * The committed kernels.wasm (and its base64 twin kernels-wasm.ts, which the engine imports) are
 * what kernels.c compiles to, and train-kernels.wasm what train-kernels.c compiles to: where clang
 * is installed, recompile and compare byte for byte, so a change to the C source cannot ship
 * without its module (`npm run build:wasm`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNELS_COMPILER, KERNELS_WASM_BASE64 } from '../../src/engine/wasm/kernels-wasm';
import { TRAIN_KERNELS_COMPILER, TRAIN_KERNELS_WASM_BASE64 } from '../../src/engine/wasm/train-kernels-wasm';

const probe = spawnSync('clang', ['--version'], { encoding: 'utf8' });
const clang = probe.status === 0 ? probe.stdout.split('\n')[0].trim() : undefined;
const major = (v: string) => /version (\d+)\./.exec(v)?.[1];
const skip = !clang
  ? 'clang is not installed (apt-get install -y clang lld): the committed kernels.wasm is not rechecked'
  : major(clang) !== major(KERNELS_COMPILER)
    ? `clang here is "${clang}", the committed kernels.wasm was made by "${KERNELS_COMPILER}": another major version compiles differently`
    : '';

describe('the committed WebAssembly kernels', () => {
  it('kernels-wasm.ts holds kernels.wasm', () => {
    expect(Buffer.from(KERNELS_WASM_BASE64, 'base64').equals(readFileSync('src/engine/wasm/kernels.wasm'))).toBe(true);
  });

  it.skipIf(Boolean(skip))(`are what kernels.c compiles to now${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-wasm-'));
    try {
      execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--out', dir], { stdio: 'pipe' });
      const fresh = readFileSync(join(dir, 'kernels.wasm'));
      const committed = readFileSync('src/engine/wasm/kernels.wasm');
      expect(fresh.equals(committed), 'src/engine/wasm/kernels.wasm is stale: run npm run build:wasm and commit both outputs').toBe(true);
      // The same but for the compiler's name (a patch release may compile the same bytes).
      const body = (f: string) => readFileSync(f, 'utf8').replace(/^export const KERNELS_COMPILER = .*$/m, '');
      expect(body(join(dir, 'kernels-wasm.ts'))).toBe(body('src/engine/wasm/kernels-wasm.ts'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compile in this JavaScript engine (SIMD) and export every kernel the session calls', async () => {
    const m = await WebAssembly.compile(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    expect(WebAssembly.Module.imports(m)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const names = WebAssembly.Module.exports(m).map((e) => e.name);
    for (const n of ['conv2d', 'linear', 'pool2d', 'gap', 'add_n', 'scale_shift', '__heap_base']) expect(names).toContain(n);
  });
});

describe('the committed WebAssembly training kernels', () => {
  const trainSkip = !clang
    ? 'clang is not installed (apt-get install -y clang lld): the committed train-kernels.wasm is not rechecked'
    : major(clang) !== major(TRAIN_KERNELS_COMPILER)
      ? `clang here is "${clang}", the committed train-kernels.wasm was made by "${TRAIN_KERNELS_COMPILER}": another major version compiles differently`
      : '';

  it('train-kernels-wasm.ts holds train-kernels.wasm', () => {
    expect(Buffer.from(TRAIN_KERNELS_WASM_BASE64, 'base64').equals(readFileSync('src/engine/wasm/train-kernels.wasm'))).toBe(true);
  });

  it.skipIf(Boolean(trainSkip))(`are what train-kernels.c compiles to now${trainSkip ? ` (skipped: ${trainSkip})` : ''}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-wasm-'));
    try {
      execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--out', dir], { stdio: 'pipe' });
      const fresh = readFileSync(join(dir, 'train-kernels.wasm'));
      expect(fresh.equals(readFileSync('src/engine/wasm/train-kernels.wasm')), 'src/engine/wasm/train-kernels.wasm is stale: run npm run build:wasm and commit both outputs').toBe(true);
      const body = (f: string) => readFileSync(f, 'utf8').replace(/^export const TRAIN_KERNELS_COMPILER = .*$/m, '');
      expect(body(join(dir, 'train-kernels-wasm.ts'))).toBe(body('src/engine/wasm/train-kernels-wasm.ts'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compile in this JavaScript engine (SIMD) and export every kernel the training path calls', async () => {
    const m = await WebAssembly.compile(Buffer.from(TRAIN_KERNELS_WASM_BASE64, 'base64'));
    expect(WebAssembly.Module.imports(m)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const names = WebAssembly.Module.exports(m).map((e) => e.name);
    for (const n of ['gemm_nn', 'gemm_nt', 'conv_scratch', 'conv_forward', 'conv_backward', 'bn_train_forward', 'bn_train_backward', 'maxpool_forward', 'maxpool_backward', 'relu_forward', 'relu_backward', '__heap_base']) expect(names).toContain(n);
  });
});
