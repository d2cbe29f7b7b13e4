/**
 * The command line's conventions (issue 14): quiet ends on closed pipes, --help and --version,
 * `-` for standard input, exit 2 for usage mistakes, --format and --depth, check --json, no
 * driver noise on stderr, labels.txt beside the network, progress on a terminal only, and the
 * module layout that keeps the commands from importing main.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands, runCli } from '../../src/cli/main';
import { progressReporter } from '../../src/cli/commands/bench';
import type { Io } from '../../src/cli/command';
import { ROOT } from '../helpers';

const BIN = join(ROOT, 'bin/cnn.js');
const LSP = join(ROOT, 'bin/cnn-lsp.js');
const ex = (f: string) => join(ROOT, 'examples', f);
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const tmp = mkdtempSync(join(tmpdir(), 'cnn-conv-'));

interface Result {
  code: number;
  out: string;
  err: string;
  raw: string[];
}

/** runCli in-process with a chosen standard input and terminal flag; `raw` collects errRaw writes. */
async function cli(argv: string[], opts: { stdin?: string; tty?: boolean } = {}): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const raw: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), errRaw: (t) => raw.push(t), tty: opts.tty ?? false };
  if (opts.stdin !== undefined) io.stdin = () => opts.stdin!;
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n'), raw };
}

function bin(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: opts.input, env: opts.env ?? process.env, timeout: 60_000 });
}

beforeAll(() => {
  // The bin runs the bundle: build it from this checkout.
  spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
}, 120_000);

describe('a closed pipe ends the command quietly (EPIPE)', () => {
  /** Runs the bin, reads the first chunk of stdout and closes it, as `| head -1` does. */
  function readFirstChunk(args: string[]): Promise<{ status: number | null; signal: string | null; first: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let first = '';
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      child.stdout.once('data', (b: Buffer) => {
        first = b.toString('utf8');
        child.stdout.destroy();
      });
      child.on('close', (status, signal) => resolve({ status, signal, first, err }));
    });
  }

  it.each([
    [['params', ex('resnet152.cnn')], /^name\s+shape\s+kind/],
    [['analyze', '--json', ex('resnet152.cnn')], /^\{\n {2}"file"/],
    [['analyze', ex('resnet152.cnn'), '--format', 'csv'], /^network,path,kind/],
  ])('%j', async (args, firstLine) => {
    const r = await readFirstChunk(args);
    expect(r.first).toMatch(firstLine);
    expect(r.err).toBe('');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });

  it('| head -1 in a shell, with pipefail', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" analyze --json "${ex('resnet152.cnn')}" | head -1`], { encoding: 'utf8' });
    expect(r.stdout).toBe('{\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('--help and --version', () => {
  it.each(Object.keys(commands))('cnn %s --help (and -h) prints its usage and every option, exit 0', async (name) => {
    const c = commands[name];
    for (const flag of ['--help', '-h']) {
      const r = await cli([name, flag]);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      expect(r.out.split('\n')[0]).toBe(`usage: ${c.usage}`);
      for (const [opt, spec] of Object.entries(c.options)) {
        expect(r.out, opt).toMatch(new RegExp(`--${opt}${spec.value ? ` ${spec.value.replace(/[|.]/g, '\\$&')}` : ''}\\s{2,}\\S`));
        expect(spec.help.length, opt).toBeGreaterThan(10);
      }
      expect(r.out).toMatch(/Exit status: 0 .* 1 .* 2 for a mistake in the command line/);
    }
    // --help wins over missing arguments; `cnn help NAME` says the same.
    expect((await cli(['help', name])).out).toBe((await cli([name, '--help'])).out);
  });

  it('every option that parses is documented in the usage line', () => {
    for (const [name, c] of Object.entries(commands)) {
      for (const [opt, spec] of Object.entries(c.options)) {
        const spellings = [`--${opt}`, ...(spec.short ? [`-${spec.short}`] : [])];
        expect(spellings.some((w) => c.usage.includes(`[${w} `) || c.usage.includes(`[${w}]`) || c.usage.includes(` ${w} `)), `${name} --${opt}`).toBe(true);
      }
    }
  });

  it('cnn --help lists every command, exit 0; cnn alone is a usage error', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(commands)) expect(r.out).toContain(`  ${name} `);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toMatch(/^usage: cnn COMMAND/);
  });

  it('cnn --version and cnn-lsp --version print the package version from the bundle and exit', () => {
    const r = bin(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`cnn ${VERSION}\n`);
    const t0 = Date.now();
    // Without --version the server would wait for a client on stdin; it must not start.
    const l = spawnSync(process.execPath, [LSP, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(l.status).toBe(0);
    expect(l.stdout).toBe(`cnn-lsp ${VERSION}\n`);
    expect(l.stderr).toBe('');
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('- reads standard input', () => {
  const text = 'network A {\n  input 3x8x8\n  conv 4 k=3 stide=2\n}\n';
  const good = readFileSync(ex('cifar.cnn'), 'utf8');

  it('cnn check - names the file <stdin>', async () => {
    const r = await cli(['check', '-'], { stdin: text });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^<stdin>:3:14: error: conv has no argument 'stide'/);
  });

  it('cnn analyze - and cnn params - read it, as the bin does from a pipe', async () => {
    const a = JSON.parse((await cli(['analyze', '-', '--json'], { stdin: good })).out);
    const fromFile = JSON.parse((await cli(['analyze', ex('cifar.cnn'), '--json'])).out);
    expect(a.file).toBe('<stdin>');
    expect(a.networks).toEqual(fromFile.networks);
    const p = await cli(['params', '-', '--json'], { stdin: good });
    expect(JSON.parse(p.out)).toEqual(JSON.parse((await cli(['params', ex('cifar.cnn'), '--json'])).out));
    const b = bin(['check', '-'], { input: text });
    expect(b.status).toBe(1);
    expect(b.stdout).toMatch(/^<stdin>:3:14: error: /);
    const c = bin(['analyze', '-'], { input: good });
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/^CifarNet {2}\(<stdin>\)/);
  });

  it('mixed with files in cnn check; refused where a command needs a real file', async () => {
    const r = await cli(['check', ex('alexnet.cnn'), '-'], { stdin: text });
    expect(r.out).toMatch(/alexnet\.cnn:\d+:\d+: warning: /);
    expect(r.out).toMatch(/\n<stdin>:3:14: error: /);
    const run = await cli(['run', '-', '--input', 'x.npy']);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^cnn run: run reads the network from a file/);
  });
});

describe('analyze --format and --depth', () => {
  const resnet = ex('resnet18.cnn');

  it('--format json is --json; table is the default', async () => {
    expect((await cli(['analyze', resnet, '--format', 'json'])).out).toBe((await cli(['analyze', resnet, '--json'])).out);
    expect((await cli(['analyze', resnet, '--format', 'table'])).out).toBe((await cli(['analyze', resnet])).out);
  });

  it('--format csv: a header and one row per layer, exact numbers', async () => {
    const j = JSON.parse((await cli(['analyze', resnet, '--json'])).out).networks[0];
    const lines = (await cli(['analyze', resnet, '--format', 'csv'])).out.split('\n');
    expect(lines[0]).toBe('network,path,kind,line,output,params,buffers,macs,elementwise_ops,activation_bytes,rf_size,rf_stride');
    expect(lines).toHaveLength(1 + j.layers.length);
    const conv1 = lines.find((l) => l.startsWith('ResNet18,conv1,'))!.split(',');
    const layer = j.layers.find((l: { path: string }) => l.path === 'conv1');
    expect(conv1).toEqual(['ResNet18', 'conv1', 'conv', String(layer.line), '64x112x112', String(layer.params), '0', String(layer.macs), '0', String(layer.activationBytes), '7', '2']);
  });

  it('--format csv quotes what needs it', async () => {
    const f = join(tmp, 'comma.cnn');
    writeFileSync(f, 'network N {\n  input 4\n  linear 2\n}\n');
    const r = await cli(['analyze', f, '--format', 'csv', '--all']);
    expect(r.out.split('\n')[1]).toBe('N,input,input,2,4,0,0,0,0,16,,');
  });

  it('--format md: a Markdown table, the totals as a list', async () => {
    const r = await cli(['analyze', resnet, '--format', 'md']);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('## ResNet18');
    expect(lines).toContain('| Layer (path) | Kind | Output | Params | MACs | Memory | RF size / stride |');
    expect(lines).toContain('|:---|:---|:---|---:|---:|---:|---:|');
    expect(r.out).toMatch(/^\| conv1 \| conv \| 64×112×112 \| 9,408 \| 118,013,952 \| 3\.06 MiB \| 7 \/ 2 \|$/m);
    expect(r.out).toMatch(/^\| \*\*Total\*\* \|  \| \*\*1000\*\* \| \*\*11,689,512\*\* \|/m);
    expect(r.out).toMatch(/^- \*\*Parameters\*\*: 11,689,512/m);
  });

  it('--depth N: a row per group, summing exactly the layers under its path', async () => {
    for (const file of [resnet, ex('googlenet.cnn'), join(ROOT, 'test/golden/cases/layers.cnn')]) {
      for (const depth of [1, 2, 3]) {
        const j = JSON.parse((await cli(['analyze', file, '--json', '--all', '--depth', String(depth)])).out);
        for (const n of j.networks) {
          const rows = n.depthRows as { path: string; kind: string; depth: number; layers: number; params: number; macs: number; activationBytes: number; output: number[] }[];
          // Every layer in exactly one row; the rows add up to the totals.
          expect(rows.reduce((a, r) => a + r.layers, 0)).toBe(n.layers.length);
          expect(rows.reduce((a, r) => a + r.params, 0)).toBe(n.totals.params);
          // The aux heads' MACs are counted apart from the headline total, but their layers have rows.
          expect(rows.reduce((a, r) => a + r.macs, 0)).toBe(n.totals.macs + n.totals.auxMacs);
          expect(rows.reduce((a, r) => a + r.activationBytes, 0)).toBe(n.totals.activationBytes);
          for (const r of rows) {
            expect(r.depth).toBeLessThanOrEqual(depth);
            // The rows partition the layers: a layer counts in the row of its path's first `depth` parts.
            const inside = n.layers.filter((l: { path: string }) => l.path.split('.').slice(0, depth).join('.') === r.path);
            expect(r.layers, r.path).toBe(inside.length);
            expect(r.params, r.path).toBe(inside.reduce((a: number, l: { params: number }) => a + l.params, 0));
            expect(r.output, r.path).toEqual(inside.at(-1).output);
            if (r.layers === 1 && inside[0].path === r.path) expect(r.kind).toBe(inside[0].kind);
          }
          // The layers field is untouched by --depth.
          const plain = JSON.parse((await cli(['analyze', file, '--json', '--all'])).out).networks.find((m: { name: string }) => m.name === n.name);
          expect(n.layers).toEqual(plain.layers);
          expect(plain.depthRows).toBeUndefined();
        }
      }
    }
  });

  it('--depth names block calls by their block and labelled groups as groups', async () => {
    const rows1 = JSON.parse((await cli(['analyze', resnet, '--json', '--depth', '1'])).out).networks[0].depthRows;
    expect(rows1.map((r: { path: string }) => r.path)).toEqual(['input', 'conv1', 'bn1', '2', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', '5', 'fc']);
    expect(rows1.find((r: { path: string }) => r.path === 'layer2')).toMatchObject({ kind: 'group', line: 9, layers: 16, output: [128, 28, 28] });
    const rows2 = JSON.parse((await cli(['analyze', resnet, '--json', '--depth', '2'])).out).networks[0].depthRows;
    expect(rows2.find((r: { path: string }) => r.path === 'layer2.0')).toMatchObject({ kind: 'Basic', block: 'Basic', depth: 2, line: 9, layers: 9 });
    const table = (await cli(['analyze', resnet, '--depth', '1'])).out;
    expect(table).toMatch(/^layer1\s+group\s+64×56×56\s+147,968\s+462,422,016\s+[\d.]+ MiB\s+14$/m);
    expect(table).toMatch(/^Total\s+1000\s+11,689,512\s+1,814,073,344\s+[\d.]+ MiB\s+70$/m);
    const csv = (await cli(['analyze', resnet, '--depth', '2', '--format', 'csv'])).out.split('\n');
    expect(csv[0]).toMatch(/,layers$/);
    expect(csv).toContain('ResNet18,layer1.0,Basic,8,64x56x56,73984,256,231211008,1404928,5619712,7');
  });
});

describe('a network whose name is missing', () => {
  it('still gets a readable title in the table and the Markdown', async () => {
    const r = await cli(['analyze', '-'], { stdin: 'network {\n  input 3x8x8\n}\n' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^<stdin>:1:9: error: expected a name/m);
    expect(r.out.split('\n')[0]).toBe('(unnamed network)  (<stdin>)');
    expect((await cli(['analyze', '-', '--format', 'md'], { stdin: 'network {\n  input 3x8x8\n}\n' })).out.split('\n')[0]).toBe('## (unnamed network)');
  });
});

describe('check --json', () => {
  it('lists every diagnostic of every file with its position, severity and code', async () => {
    const bad = join(tmp, 'bad.cnn');
    writeFileSync(bad, 'network A {\n  input 3x8x8\n  conv 4 k=3 stide=2\n}\n');
    const r = await cli(['check', '--json', bad, ex('alexnet.cnn'), join(tmp, 'missing.cnn')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    const list = JSON.parse(r.out);
    expect(list[0]).toEqual({ file: bad, line: 3, column: 14, endLine: 3, endColumn: 19, severity: 'error', code: 'unknown-argument', message: expect.stringMatching(/^conv has no argument 'stide'/) });
    expect(list.some((d: { file: string; severity: string }) => d.file === ex('alexnet.cnn') && d.severity === 'warning')).toBe(true);
    expect(list.at(-1)).toEqual({ file: join(tmp, 'missing.cnn'), line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'unreadable', message: 'no such file' });
    for (const d of list) expect(Object.keys(d).sort()).toEqual(['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity']);
    const clean = await cli(['check', '--json', ex('resnet18.cnn')]);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.out)).toEqual([]);
  });
});

describe('stderr carries our lines only', () => {
  const fm = ex('fashion-mnist');
  const runArgs = ['run', join(fm, 'fashion.cnn'), '--weights', join(fm, 'fashion.safetensors'), '--input', join(fm, 'images/0-t-shirt-top.png'), '--top', '1'];
  const ours = /^(backend: .*|cnn (run|bench): .*)$/;

  /** Without a configured ICD the Vulkan loader probes every system driver, the noisiest case; and no runtime folder. */
  function headless(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    delete env.XDG_RUNTIME_DIR;
    delete env.VK_ICD_FILENAMES;
    delete env.CNN_DEBUG;
    return env;
  }

  it.each([
    ['run', runArgs],
    ['bench', ['bench', join(fm, 'fashion.cnn'), '--runs', '2']],
  ])('%s probing the adapters prints nothing from the drivers', (_name, args) => {
    const r = bin(args, { env: headless() });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^backend: /);
    expect(r.stdout).toMatch(/FashionNet/);
    // What the in-process path (CNN_DEBUG=1 keeps the drivers' output) prints besides our lines is what was kept away.
    const raw = bin(args, { env: headless({ CNN_DEBUG: '1' }) });
    const noise = raw.stderr.split('\n').filter((l) => l !== '' && !ours.test(l));
    if (noise.length) expect(r.stderr).not.toContain(noise[0]);
  }, 120_000);

  it('the exit status and our one-line errors come through the quiet child', () => {
    const r = bin(['run', join(fm, 'fashion.cnn'), '--input', join(tmp, 'none.png')], { env: headless() });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`cnn run: input ${join(tmp, 'none.png')}: no such file\n`);
    const u = bin(['bench', join(fm, 'fashion.cnn'), '--runs', 'x'], { env: headless() });
    expect(u.status).toBe(2);
    expect(u.stderr).toBe('cnn bench: --runs x: give an integer of at least 1\n');
  });
});

describe('the quiet child and signals', () => {
  /** Starts a long benchmark through the bin, waits for its first line on stderr, then signals the parent. */
  function interrupted(signal: NodeJS.Signals): Promise<{ status: number | null; err: string }> {
    const tiny = join(tmp, 'long.cnn');
    writeFileSync(tiny, 'network L {\n  input 3x16x16\n  conv 8 k=3 p=1\n}\n');
    return new Promise((resolve) => {
      const env = { ...process.env };
      delete env.CNN_DEBUG;
      const child = spawn(process.execPath, [BIN, 'bench', tiny, '--runs', '100000000'], { stdio: ['ignore', 'pipe', 'pipe'], env });
      let err = '';
      let sent = false;
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        err += s;
        if (!sent && /^backend: /m.test(err)) sent = child.kill(signal);
      });
      child.on('close', (status) => resolve({ status, err }));
    });
  }

  it('SIGTERM to cnn reaches the benchmark, which ends; the parent says how, exit 143', async () => {
    const r = await interrupted('SIGTERM');
    expect(r.status).toBe(143);
    expect(r.err).toMatch(/^backend: .*\ncnn bench: the process was killed by SIGTERM\n$/);
  }, 60_000);

  it('SIGINT (Ctrl-C) ends it quietly with 130', async () => {
    const r = await interrupted('SIGINT');
    expect(r.status).toBe(130);
    expect(r.err).toMatch(/^backend: [^\n]*\n$/);
  }, 60_000);
});

describe('labels.txt beside the network', () => {
  const fm = ex('fashion-mnist');
  const image = join(fm, 'images/9-ankle-boot.png');
  const dir = mkdtempSync(join(tmpdir(), 'cnn-labels-'));
  copyFileSync(join(fm, 'fashion.cnn'), join(dir, 'fashion.cnn'));
  copyFileSync(join(fm, 'fashion.safetensors'), join(dir, 'fashion.safetensors'));
  const args = ['run', join(dir, 'fashion.cnn'), '--weights', join(dir, 'fashion.safetensors'), '--input', image, '--backend', 'cpu', '--json', '--top', '1'];

  it('is used when --labels is not given and it names as many classes as the output has', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `class-${i}-${Math.random().toString(36).slice(2, 6)}`);
    writeFileSync(join(dir, 'labels.txt'), `${names.join('\n')}\n`);
    const r = await cli(args);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).top[0]).toEqual({ index: 9, label: names[9], p: expect.any(Number) });
    const human = await cli(args.filter((a) => a !== '--json'));
    expect(human.out).toContain(`labels: ${join(dir, 'labels.txt')}`);
    // --labels wins.
    const other = join(dir, 'other.txt');
    writeFileSync(other, names.map((n) => n.toUpperCase()).join('\n'));
    expect(JSON.parse((await cli([...args, '--labels', other])).out).top[0].label).toBe(names[9].toUpperCase());
  });

  it('is ignored when its count differs: indices, as without one', async () => {
    writeFileSync(join(dir, 'labels.txt'), 'a\nb\nc\n');
    const r = await cli(args);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).top[0]).toMatchObject({ index: 9, label: '9' });
  });

  it('--labels naming a folder or a missing file is a one-line reason', async () => {
    const d = await cli([...args, '--labels', dir]);
    expect(d.code).toBe(1);
    expect(d.err).toBe(`cnn run: labels ${dir}: is a directory`);
    const m = await cli([...args, '--labels', join(dir, 'nope.txt')]);
    expect(m.err).toBe(`cnn run: labels ${join(dir, 'nope.txt')}: no such file`);
  });
});

describe('bench progress', () => {
  function fakeIo(tty: boolean) {
    const raw: string[] = [];
    const err: string[] = [];
    const io: Io = { out() {}, err: (t) => err.push(t), errRaw: (t) => raw.push(t), tty };
    return { io, raw, err };
  }

  it('on a terminal: after a second, at most every 100 ms, rewritten in place and cleared at the end', () => {
    let now = 0;
    const { io, raw, err } = fakeIo(true);
    const p = progressReporter(io, false, { now: () => now });
    p.update('early'); // before the first second
    now = 1000;
    p.update('run 1');
    now = 1050;
    p.update('run 2'); // too soon after the last
    now = 1100;
    p.update('run 3');
    p.done();
    expect(raw).toEqual(['\r\x1b[Krun 1', '\r\x1b[Krun 3', '\r\x1b[K']);
    expect(err).toEqual([]);
  });

  it('not on a terminal: nothing, unless --progress, then plain lines at most every second', () => {
    let now = 0;
    const quiet = fakeIo(false);
    const p = progressReporter(quiet.io, false, { now: () => now });
    now = 5000;
    p.update('x');
    p.done();
    expect(quiet.raw).toEqual([]);
    expect(quiet.err).toEqual([]);
    const forced = fakeIo(false);
    now = 0;
    const q = progressReporter(forced.io, true, { now: () => now });
    for (now = 1000; now <= 3500; now += 250) q.update(`at ${now}`);
    q.done();
    expect(forced.err).toEqual(['at 1000', 'at 2000', 'at 3000']);
    expect(forced.raw).toEqual([]);
  });

  it('a terminal run with --json keeps stdout one JSON document', async () => {
    const tiny = join(tmp, 'tiny.cnn');
    writeFileSync(tiny, 'network T {\n  input 3x16x16\n  conv 8 k=3 p=1\n  relu\n  gap\n  flatten\n  linear 4\n}\n');
    const t0 = performance.now();
    const r = await cli(['bench', tiny, '--backend', 'cpu', '--runs', '4000', '--warmup', '0', '--json'], { tty: true });
    const ms = performance.now() - t0;
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ runs: 4000 });
    expect(r.out).not.toContain('\r');
    expect(r.err).toBe('');
    // A run long enough to show progress shows it on stderr, and clears it.
    if (ms > 1500) {
      expect(r.raw.some((t) => /^\r\x1b\[Kbench: run \d+\/4000/.test(t))).toBe(true);
      expect(r.raw.at(-1)).toBe('\r\x1b[K');
    }
  });
});

describe('module layout', () => {
  it('the commands import ./command and ./load, never main.ts (no import cycle)', () => {
    const dir = join(ROOT, 'src/cli/commands');
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/from '\.\.\/main'/);
    for (const f of ['command.ts', 'load.ts', 'report.ts', 'rows.ts', 'process.ts']) expect(readFileSync(join(ROOT, 'src/cli', f), 'utf8'), f).not.toMatch(/from '\.\/main'/);
  });

  it('src/analysis/format.ts is plain TypeScript: no Node, no CLI', () => {
    const text = readFileSync(join(ROOT, 'src/analysis/format.ts'), 'utf8');
    expect(text).not.toMatch(/from '(node:|fs|path|os|\.\.\/cli|vscode)/);
    expect(existsSync(join(ROOT, 'src/cli/format.ts'))).toBe(true);
  });
});
