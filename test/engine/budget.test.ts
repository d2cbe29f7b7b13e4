/** The memory budget: what a run, a benchmark or an export would need, worked out before allocating. */
import { describe, expect, it } from 'vitest';
import {
  BudgetError,
  checkMemoryBudget,
  checkWasmLimit,
  largestBatchWithin,
  memoryNeeds,
  parseByteSize,
  peakLiveActivationBytes,
  WASM_MEMORY_LIMIT,
} from '../../src/engine/budget';
import { net, only } from '../helpers';

function refusal(f: () => void): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BudgetError);
    return (e as Error).message;
  }
  return '(no refusal)';
}

const GiB = 2 ** 30;

describe('memoryNeeds', () => {
  it('counts every weight and buffer as float32, twice for an engine and three times for an export', () => {
    // linear 20 on 10 inputs: 200 + 20 values; bn on 20: 4 x 20 (weight, bias, running mean and variance).
    const n = only(net('input 10\nlinear 20\nbn'));
    const run = memoryNeeds(n, 'run');
    expect(run.weights).toBe(4 * (220 + 80));
    expect(run.weightCopies).toBe(run.weights);
    expect(memoryNeeds(n, 'export').weightCopies).toBe(2 * run.weights);
    expect(memoryNeeds(n, 'export').activations).toBe(0);
    expect(run.largestWeight).toEqual({ name: '0.weight', shape: [20, 10], bytes: 800 });
  });

  it('activations: the most alive at once, a residual keeping its input alive across the body', () => {
    // input 16 floats; c: 2x4x4 = 32; the body's conv reads c and writes 32; add reads both.
    const n = only(net('input 1x4x4\nc: conv 2 k=1\nresidual { conv 2 k=1 }'));
    // At the body's conv: input freed after c; c (32) and its output (32) alive; at add: c, body, add = 96.
    expect(peakLiveActivationBytes(n)).toBe(4 * 96);
    const plain = only(net('input 1x4x4\nconv 2 k=1\nconv 2 k=1\nconv 2 k=1'));
    expect(peakLiveActivationBytes(plain)).toBe(4 * 64); // one layer's input and output
  });

  it('grows with the batch by the activations and the input and output arrays only', () => {
    const n = only(net('input 3x32x32\nconv 8 k=3 p=1\ngap\nflatten\nlinear 10'));
    const one = memoryNeeds(n, 'bench', 1);
    const eight = memoryNeeds(n, 'bench', 8);
    expect(eight.total - one.total).toBe(7 * one.perImage);
    expect(one.perImage).toBe(peakLiveActivationBytes(n) + 4 * (3 * 32 * 32 + 10));
  });
});

describe('checkMemoryBudget', () => {
  const wide = only(net('input 3x20000x20000\nconv 4 k=3'));

  it("blames the network's input size, with what is needed and what is allowed", () => {
    const m = refusal(() => checkMemoryBudget(memoryNeeds(wide, 'run'), { bytes: 2 * GiB, source: '--memory-limit 2G' }));
    expect(m).toMatch(/^the network needs about [\d.]+ GiB of memory to run at batch 1 \(/);
    expect(m).toContain("the network's input 3×20000×20000 is 4.5 GiB per image");
    expect(m).toContain('more than the memory budget of 2 GiB (--memory-limit 2G)');
    expect(m).not.toMatch(/batch of|smaller batch/);
    expect(m).not.toContain('\n');
  });

  it('names the largest tensor when the weights dominate', () => {
    const six = only(net(`input 20000\n${'linear 20000\n'.repeat(6)}`));
    const n = memoryNeeds(six, 'bench');
    expect(n.weights).toBe(4 * 6 * (20000 * 20000 + 20000));
    expect(refusal(() => checkMemoryBudget(n, { bytes: 4 * GiB, source: 'test' }))).toMatch(/weights 8\.9 GiB twice .*the largest tensor, 0\.weight \[20000, 20000\], is 1\.5 GiB/);
  });

  it('suggests a smaller batch only when one fits, and the largest that does', () => {
    const hi = only(net('input 3x512x512\nconv 64 k=3 p=1'));
    const budget = { bytes: 2 * GiB, source: 'test' };
    const m = refusal(() => checkMemoryBudget(memoryNeeds(hi, 'bench', 64), budget));
    const fits = Number(/a batch of (\d+) fits$/.exec(m)?.[1]);
    expect(fits).toBeGreaterThan(1);
    expect(memoryNeeds(hi, 'bench', fits).total).toBeLessThanOrEqual(budget.bytes);
    expect(memoryNeeds(hi, 'bench', fits + 1).total).toBeGreaterThan(budget.bytes);
    expect(() => checkMemoryBudget(memoryNeeds(hi, 'bench', fits), budget)).not.toThrow();
    // Not even one image fits: no batch to suggest.
    expect(refusal(() => checkMemoryBudget(memoryNeeds(hi, 'bench', 64), { bytes: 64 * 2 ** 20, source: 'test' }))).not.toMatch(/batch of/);
    expect(largestBatchWithin(memoryNeeds(hi, 'bench', 64), 64 * 2 ** 20)).toBe(0);
  });
});

describe('checkWasmLimit', () => {
  it('refuses what the 4 GiB of WebAssembly memory cannot hold, with a batch that fits where there is one', () => {
    const hi = only(net('input 3x512x512\nconv 64 k=3 p=1'));
    const m = refusal(() => checkWasmLimit(memoryNeeds(hi, 'bench', 64)));
    expect(m).toMatch(/^the CPU engine \(WebAssembly\) addresses at most 4 GiB, and the network needs about [\d.]+ GiB there at batch 64/);
    const fits = Number(/a batch of (\d+) fits$/.exec(m)?.[1]);
    expect(() => checkWasmLimit(memoryNeeds(hi, 'bench', fits))).not.toThrow();
    expect(() => checkWasmLimit(memoryNeeds(hi, 'bench', fits + 1))).toThrow(BudgetError);
    const six = only(net(`input 20000\n${'linear 20000\n'.repeat(6)}`));
    expect(memoryNeeds(six, 'run').weights).toBeGreaterThan(WASM_MEMORY_LIMIT);
    expect(refusal(() => checkWasmLimit(memoryNeeds(six, 'run', 1)))).toMatch(/at batch 1 .*; the weights alone do not fit$/);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['8G', 8 * GiB],
    ['8g', 8 * GiB],
    ['8GB', 8 * GiB],
    ['1.5GiB', 1.5 * GiB],
    ['512M', 512 * 2 ** 20],
    ['64k', 65536],
    ['2000000000', 2e9],
    ['100b', 100],
    ['50%', 500],
    [' 2T ', 2 * 2 ** 40],
  ])('%s', (text, bytes) => expect(parseByteSize(text, 1000)).toBe(bytes));
  it.each(['', 'lots', '-1G', '0', '8Q', '8GG', '150%', '0%', '1e9'])('refuses %j', (text) => expect(parseByteSize(text, 1000)).toBeNull());
});
