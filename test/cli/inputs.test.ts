/**
 * Input paths that must never crash, hang or lie (issue 10): damaged images, weights files
 * that break the safetensors rules, networks too big for memory, and export targets. Each case
 * asserts the exit status, one line naming the reason, no internal error or stack, and for
 * the big ones that the refusal comes at once, before any large allocation.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/engine/input/npy';
import { initWeights } from '../../src/engine/weights/init';
import { writeSafetensors } from '../../src/engine/weights/safetensors';
import { cli, net, only, ROOT } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'cnn-inputs-'));
const put = (name: string, data: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

type Result = { code: number; out: string; err: string };

/** One line on stderr, `cnn COMMAND: ` first, no stack frame, no internal error, the given status. */
function expectRefused(r: Result, status: number, re: RegExp): void {
  expect(r.code, r.err).toBe(status);
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^cnn (run|bench|export): /);
  expect(r.err).toMatch(re);
  expect(r.err).not.toMatch(/internal error|\n\s+at /);
}

/** Runs the CLI in-process and measures what it took: wall time and memory outside the JS heap. */
async function measured(...argv: string[]): Promise<Result & { ms: number; bytes: number }> {
  const before = process.memoryUsage();
  const t0 = performance.now();
  const r = await cli(...argv);
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  return { ...r, ms, bytes: Math.max(after.arrayBuffers - before.arrayBuffers, after.rss - before.rss) };
}

const FAST = { ms: 5000, bytes: 1024 * 2 ** 20 };
function expectCheap(r: { ms: number; bytes: number }): void {
  expect(r.ms).toBeLessThan(FAST.ms);
  expect(r.bytes).toBeLessThan(FAST.bytes);
}

const tiny = put('tiny.cnn', 'network Tiny {\n  input 3x8x8\n  c: conv 4 k=3 p=1\n  b: bn\n  relu\n  gap\n  flatten\n  fc: linear 3\n}\n');

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}
function pngHeaderOnly(w: number, h: number): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(w, 0);
  d.writeUInt32BE(h, 4);
  d[8] = 8;
  d[9] = 6;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', d), chunk('IDAT', Buffer.alloc(12)), chunk('IEND', Buffer.alloc(0))]);
}

describe('cnn run on damaged images', () => {
  const real = readFileSync(join(ROOT, 'examples/fashion-mnist/images/1-trouser.png'));

  it('a 69-byte PNG declaring 20000x20000 pixels: refused at once', async () => {
    const f = put('huge.png', pngHeaderOnly(20000, 20000));
    expect(readFileSync(f).length).toBe(69);
    const r = await measured('run', tiny, '--input', f, '--backend', 'cpu');
    expectRefused(r, 1, new RegExp(`^cnn run: input ${f}: the image is 20000x20000 pixels \\(400 MP\\), more than the 200 MP allowed; resize it first$`));
    expectCheap(r);
  });
  it('a truncated PNG, a 0x0 PNG', async () => {
    expectRefused(await cli('run', tiny, '--input', put('cut.png', real.subarray(0, real.length - 20)), '--backend', 'cpu'), 1, /input .*cut\.png: truncated PNG file$/);
    expectRefused(await cli('run', tiny, '--input', put('empty.png', pngHeaderOnly(0, 0)), '--backend', 'cpu'), 1, /input .*empty\.png: the image is 0x0 pixels$/);
  });
  it('a truncated JPEG', async () => {
    const jpeg = (await import('jpeg-js')).default;
    const data = Buffer.alloc(32 * 32 * 4, 90);
    const whole = jpeg.encode({ data, width: 32, height: 32 }, 80).data;
    expectRefused(await cli('run', tiny, '--input', put('cut.jpg', whole.subarray(0, whole.length - 40)), '--backend', 'cpu'), 1, /input .*cut\.jpg: truncated JPEG file/);
  });
});

describe('cnn run with weights that break the rules', () => {
  const n = only(net('input 3x8x8\nc: conv 4 k=3 p=1\nb: bn\nrelu\ngap\nflatten\nfc: linear 3'));
  const file = (name: string, change: (tensor: string, data: Float32Array) => void, metadata?: Record<string, string>) => {
    const w = initWeights(n.tensors, 2);
    return put(
      name,
      writeSafetensors(
        n.tensors.map((t) => {
          const data = Float32Array.from(w.get(t.name)!);
          change(t.name, data);
          return { name: t.name, shape: t.shape, data };
        }),
        metadata,
      ),
    );
  };
  const npy = put('x.npy', writeNpy([3, 8, 8], Float32Array.from({ length: 192 }, (_, i) => Math.cos(i))));
  const run = (w: string) => cli('run', tiny, '--input', npy, '--weights', w, '--backend', 'cpu', '--json');

  it('loads good ones', async () => {
    expect((await run(file('good.safetensors', () => {}))).code).toBe(0);
  });
  it('NaN, infinity, a negative variance: refused by name', async () => {
    expectRefused(await run(file('nan.safetensors', (t, d) => t === 'c.weight' && (d[7] = NaN))), 1, /nan\.safetensors: tensor 'c\.weight' holds NaN at index 7; weights must be finite$/);
    expectRefused(await run(file('inf.safetensors', (t, d) => t === 'fc.bias' && (d[0] = Infinity))), 1, /tensor 'fc\.bias' holds infinity at index 0/);
    expectRefused(await run(file('var.safetensors', (t, d) => t === 'b.running_var' && (d[2] = -1))), 1, /var\.safetensors: tensor 'b\.running_var' holds the negative variance -1 at index 2$/);
  });
  it('a string __metadata__ and overlapping data_offsets', async () => {
    const good = readFileSync(file('base.safetensors', () => {}));
    const len = Number(good.readBigUInt64LE(0));
    const header = JSON.parse(good.subarray(8, 8 + len).toString('utf8'));
    const rewrite = (name: string, h: unknown) => {
      const json = Buffer.from(JSON.stringify(h));
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(json.length));
      return put(name, Buffer.concat([head, json, good.subarray(8 + len)]));
    };
    expectRefused(await run(rewrite('meta.safetensors', { ...header, __metadata__: 'pt' })), 1, /meta\.safetensors: corrupt safetensors header: __metadata__ must be an object of strings$/);
    const aliased = structuredClone(header);
    aliased['fc.bias'].data_offsets = header['b.bias'].data_offsets.map((o: number) => o);
    aliased['fc.bias'].shape = header['b.bias'].shape; // same size, same bytes: an alias
    expectRefused(await run(rewrite('alias.safetensors', aliased)), 1, /alias\.safetensors: corrupt safetensors header: tensor '(fc|b)\.bias' \[\d+, \d+\] overlaps tensor '(fc|b)\.bias'/);
  });
  it('a weights file larger than the memory budget is not read', async () => {
    const big = join(dir, 'big.safetensors');
    writeFileSync(big, '');
    truncateSync(big, 3 * 2 ** 30); // sparse: no disk, no read
    const r = await measured('run', tiny, '--input', npy, '--weights', big, '--backend', 'cpu', '--memory-limit', '1G');
    expectRefused(r, 1, /^cnn run: weights .*big\.safetensors: the file is 3 GiB; with the [\d.]+ KiB the network needs, more than the memory budget of 1 GiB \(--memory-limit 1G\)$/);
    expectCheap(r);
  });
});

describe('the memory budget, checked before anything is allocated', () => {
  const six = put('six.cnn', `network Six {\n  input 20000\n${'  linear 20000\n'.repeat(6)}}\n`);
  const npy = put('six.npy', writeNpy([20000], new Float32Array(20000)));

  it.each([
    ['run', ['run', six, '--input', npy, '--memory-limit', '4G']],
    ['bench', ['bench', six, '--memory-limit', '4G']],
    ['export', ['export', six, '--to', 'onnx', '-o', join(dir, 'six.onnx'), '--memory-limit', '4G']],
  ])('six linear 20000 (9.6 GB of weights): %s refuses before seeding them', async (cmd, argv) => {
    const r = await measured(...argv);
    expectRefused(r, 1, new RegExp(`^cnn ${cmd}: the network needs about [\\d.]+ GiB of memory to ${cmd === 'run' ? 'run' : cmd === 'bench' ? 'benchmark' : 'export'}.*weights 8\\.9 GiB.*the largest tensor, 0\\.weight \\[20000, 20000\\], is 1\\.5 GiB\\), more than the memory budget of 4 GiB \\(--memory-limit 4G\\)$`));
    expect(r.err).not.toMatch(/batch of|smaller batch/);
    expectCheap(r);
  });

  it('the CPU engine refuses what its 4 GiB cannot hold, whatever the budget, before seeding', async () => {
    const r = await measured('bench', six, '--backend', 'cpu', '--memory-limit', '100%');
    expectRefused(r, 1, /(the CPU engine \(WebAssembly\) addresses at most 4 GiB, and the network needs about [\d.]+ GiB there at batch 1 .*; the weights alone do not fit|more than the memory budget)/);
    expect(r.err).not.toMatch(/batch of|smaller batch/);
    expectCheap(r);
  });

  it('conv 1000000000 is a positioned error of the analysis, not "Invalid typed array length"', async () => {
    const f = put('wide-conv.cnn', 'network W {\n  input 3x8x8\n  conv 1000000000 k=3\n}\n');
    for (const argv of [['bench', f, '--backend', 'cpu'], ['export', f, '--to', 'onnx', '-o', join(dir, 'w.onnx')]]) {
      const r = await measured(...argv);
      expectRefused(r, 1, /wide-conv\.cnn:3:8: error: 'out' is 1,000,000,000, more than the largest size the analysis takes/);
      expectCheap(r);
    }
  });

  it('a conv within the sizes but past the budget is refused with the budget, naming its weight', async () => {
    const f = put('wide-conv2.cnn', 'network W {\n  input 3x8x8\n  conv 10000000 k=3\n}\n');
    for (const argv of [['bench', f, '--backend', 'cpu', '--memory-limit', '1G'], ['export', f, '--to', 'onnx', '-o', join(dir, 'w.onnx'), '--memory-limit', '1G']]) {
      const r = await measured(...argv);
      expectRefused(r, 1, /the network needs about [\d.]+ GiB of memory .*the largest tensor, 0\.weight \[10000000, 3, 3, 3\], is [\d.]+ GiB/);
      expectCheap(r);
    }
  });

  it("a 3x100000x100000 input is blamed on the network's input, not on the image", async () => {
    const f = put('big-input.cnn', 'network B {\n  input 3x100000x100000\n  conv 4 k=3\n}\n');
    const r = await measured('run', f, '--input', join(ROOT, 'examples/fashion-mnist/images/1-trouser.png'), '--backend', 'cpu');
    expectRefused(r, 1, /big-input\.cnn:2:3: error: the input 3×100000×100000 has 30,000,000,000 values, more than the 2,147,483,648 a tensor may hold/);
    expect(r.err).not.toMatch(/^cnn run: input |image is|batch of|smaller batch/);
    expectCheap(r);
  });

  it("an input within the limits but past the budget is blamed on the network's input", async () => {
    const f = put('big-input2.cnn', 'network B {\n  input 3x20000x20000\n  conv 4 k=3\n}\n');
    const r = await measured('run', f, '--input', join(ROOT, 'examples/fashion-mnist/images/1-trouser.png'), '--backend', 'cpu', '--memory-limit', '2G');
    expectRefused(r, 1, /^cnn run: the network needs about [\d.]+ GiB of memory to run at batch 1 .*the network's input 3×20000×20000 is [\d.]+ GiB per image/);
    expect(r.err).not.toMatch(/^cnn run: input |image is|batch of|smaller batch/);
    expectCheap(r);
  });

  it('at a batch above 1, the largest batch that fits is offered, and it does fit', async () => {
    const f = put('hi.cnn', 'network H {\n  input 3x256x256\n  conv 32 k=3 p=1\n}\n');
    const r = await measured('bench', f, '--backend', 'cpu', '--batch', '64', '--memory-limit', '256M');
    expectRefused(r, 1, /at batch 64 .*more than the memory budget of 256 MiB \(--memory-limit 256M\); a batch of \d+ fits$/);
    const fits = /a batch of (\d+) fits$/.exec(r.err)![1];
    const ok = await cli('bench', f, '--backend', 'cpu', '--batch', fits, '--runs', '1', '--warmup', '0', '--memory-limit', '256M', '--json');
    expect(ok.code, ok.err).toBe(0);
    expectRefused(await cli('bench', f, '--backend', 'cpu', '--batch', String(Number(fits) + 1), '--memory-limit', '256M'), 1, /a batch of \d+ fits$/);
  });

  it('an image whose decoding would not fit, and an input file over the budget, are refused before reading them whole', async () => {
    const { PNG } = await import('pngjs');
    const img = new PNG({ width: 2000, height: 2000 });
    const big = put('2000.png', PNG.sync.write(img));
    expect(readFileSync(big).length).toBeLessThan(200_000);
    const r = await measured('run', tiny, '--input', big, '--backend', 'cpu', '--memory-limit', '64M');
    expectRefused(r, 1, /^cnn run: input .*2000\.png: decoding the 2000x2000 image needs about [\d.]+ MiB, which with the [\d.]+ KiB the network needs is more than the memory budget of 64 MiB \(--memory-limit 64M\); resize the image first$/);
    expectCheap(r);
    const npy = join(dir, 'huge.npy');
    writeFileSync(npy, '');
    truncateSync(npy, 3 * 2 ** 30);
    const n = await measured('run', tiny, '--input', npy, '--backend', 'cpu', '--memory-limit', '1G');
    expectRefused(n, 1, /^cnn run: input .*huge\.npy: the file is 3 GiB; with the [\d.]+ KiB the network needs, more than the memory budget of 1 GiB/);
    expectCheap(n);
  });

  it('--memory-limit and CNN_MEMORY_LIMIT take sizes; anything else is a usage error', async () => {
    expectRefused(await cli('bench', tiny, '--memory-limit', 'lots'), 2, /^cnn bench: --memory-limit lots: give a size such as 8G, 512M, 1\.5GiB, 2000000000 or 60%$/);
    process.env.CNN_MEMORY_LIMIT = '1K';
    try {
      expectRefused(await cli('bench', six), 1, /more than the memory budget of 1 KiB \(CNN_MEMORY_LIMIT 1K\)$/);
      process.env.CNN_MEMORY_LIMIT = 'x';
      expectRefused(await cli('bench', tiny), 2, /^cnn bench: CNN_MEMORY_LIMIT x: give a size/);
    } finally {
      delete process.env.CNN_MEMORY_LIMIT;
    }
  });
});

describe('cnn export writes only where it may', () => {
  const src = put('net.cnn', 'network Net {\n  input 3x8x8\n  conv 4 k=3\n}\n');
  const text = readFileSync(src, 'utf8');

  it('never over its own input, even through a link or with --force', async () => {
    expectRefused(await cli('export', src, '--to', 'pytorch', '-o', src, '--force'), 1, /-o .*net\.cnn: that is the network file itself; give another name$/);
    const link = join(dir, 'link.cnn');
    symlinkSync(src, link);
    expectRefused(await cli('export', link, '--to', 'onnx', '-o', src, '--force'), 1, /that is the network file itself/);
    expectRefused(await cli('export', src, '--to', 'pytorch', '-o', link, '--force'), 1, /that is the network file itself/);
    expect(readFileSync(src, 'utf8')).toBe(text);
  });

  it('over another existing file only with --force', async () => {
    const out = put('Net.py', 'keep me\n');
    expectRefused(await cli('export', src, '--to', 'pytorch', '-o', out), 1, /-o .*Net\.py: the file exists; add --force to overwrite it$/);
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
    const r = await cli('export', src, '--to', 'pytorch', '-o', out, '--force');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^class Net\(/m);
  });

  it('unwritable places get a one-line reason', async () => {
    expectRefused(await cli('export', src, '--to', 'onnx', '-o', join(dir, 'no/such/dir/x.onnx')), 1, /cannot write \(no such folder\)$/);
    const folder = join(dir, 'afolder');
    mkdirSync(folder);
    expectRefused(await cli('export', src, '--to', 'onnx', '-o', folder), 1, /afolder: cannot write \(is a folder\)$/);
    expectRefused(await cli('export', src, '--to', 'onnx', '-o', folder, '--force'), 1, /afolder: cannot write \(is a folder\)$/);
    expectRefused(await cli('export', src, '--to', 'onnx', '-o', join(src, 'x.onnx')), 1, /cannot write \(a part of the path is not a folder\)$/);
  });

  it.skipIf(process.getuid?.() === 0)('a folder without write permission: permission denied', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    expectRefused(await cli('export', src, '--to', 'onnx', '-o', join(locked, 'x.onnx')), 1, /cannot write \(permission denied\)$/);
  });

  it('run --out does not replace a file the run reads', async () => {
    const npy = put('in.npy', writeNpy([3, 8, 8], new Float32Array(192)));
    const before = readFileSync(npy);
    expectRefused(await cli('run', tiny, '--input', npy, '--backend', 'cpu', '--out', npy), 1, /--out .*in\.npy: that is the input file; give another name$/);
    expect(readFileSync(npy)).toEqual(before);
  });
});
