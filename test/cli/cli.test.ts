import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cli } from '../helpers';

const ex = (f: string) => join(ROOT, 'examples', f);
const tmp = mkdtempSync(join(tmpdir(), 'cnn-cli-'));
function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('cnn analyze', () => {
  it('prints the table with grouped numbers and labelled MACs and FLOPs', async () => {
    const r = await cli('analyze', ex('alexnet.cnn'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/features\.0\s+conv\s+64×56×56\s+23,296\s+72,855,552\s+784 KiB\s+11 \/ 4/);
    expect(r.out).toMatch(/MACs \(multiply-accumulates\)\s+716,767,232/);
    expect(r.out).toMatch(/FLOPs \(= 2 × MACs\)\s+1,433,534,464/);
    expect(r.out).toMatch(/Parameters\s+61,100,840/);
    expect(r.err).toContain('warning: stride 2 does not divide');
  });

  it('--json follows the contract', async () => {
    const r = await cli('analyze', ex('alexnet.cnn'), '--json', '--shape', '3x224x224');
    const j = JSON.parse(r.out);
    expect(j.file).toBe(ex('alexnet.cnn'));
    expect(j.networks).toHaveLength(1);
    const n = j.networks[0];
    expect(n).toMatchObject({ name: 'AlexNet', input: [3, 224, 224], output: [1000] });
    expect(n.totals).toMatchObject({ params: 61100840, macs: 714188480, depth: 8 });
    expect(typeof n.totals.activationBytes).toBe('number');
    expect(n.totals.peakActivationBytes).toBeGreaterThan(0);
    const conv1 = n.layers.find((l: { path: string }) => l.path === 'features.0');
    expect(conv1).toMatchObject({ kind: 'conv', line: 5, output: [64, 55, 55], params: 23296, activationBytes: 64 * 55 * 55 * 4 });
    expect(conv1.rf).toEqual({ size: [11, 11], stride: [4, 4], padding: [2, 2] });
    expect(j.diagnostics).toEqual([]); // at 224 every pool divides evenly
  });

  it('lists layers inside blocks with full paths, in execution order', async () => {
    const j = JSON.parse((await cli('analyze', ex('resnet18.cnn'), '--json')).out);
    const paths = j.networks[0].layers.map((l: { path: string }) => l.path);
    expect(paths.indexOf('layer1.0.conv1')).toBeLessThan(paths.indexOf('layer1.0.conv2'));
    expect(paths).toContain('layer2.0.downsample.0');
  });

  it('--network picks a network; an unknown one is a one-line error', async () => {
    const f = file('two.cnn', 'network A { input 3x8x8 }\nnetwork B { input 3x8x8; conv 4 k=1 }');
    expect(JSON.parse((await cli('analyze', f, '--json', '--network', 'B')).out).networks[0].name).toBe('B');
    expect(JSON.parse((await cli('analyze', f, '--json')).out).networks[0].name).toBe('A');
    const bad = await cli('analyze', f, '--network', 'C');
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(`cnn analyze: ${f}: no network named 'C'; the file has A, B`);
  });

  it('exits 1 on errors but still prints what could be analysed', async () => {
    const f = file('bad.cnn', 'network A {\n input 3x8x8\n conv 4 k=1\n linear 10\n}');
    const r = await cli('analyze', f, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.networks[0].layers.map((l: { kind: string }) => l.kind)).toEqual(['input', 'conv', 'linear']);
    expect(j.diagnostics).toEqual([
      expect.objectContaining({ line: 4, column: 2, severity: 'error', code: 'needs-flat' }),
    ]);
  });
});

describe('cnn check', () => {
  it('prints file:line:col: severity: message and exits 1 on errors', async () => {
    const f = file('broken.cnn', 'network A {\n input 3x8x8\n conv 4 k=3 stide=2\n}');
    const r = await cli('check', f, ex('resnet18.cnn'));
    expect(r.code).toBe(1);
    expect(r.out).toBe(`${f}:3:13: error: conv has no argument 'stide' (did you mean 'stride'?); its arguments are out, k, s, p, d, g, bias`);
  });

  it('exits 0 with warnings only', async () => {
    const r = await cli('check', ex('alexnet.cnn'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/alexnet\.cnn:7:5: warning: /);
  });

  it('reports a missing file as an error line', async () => {
    const r = await cli('check', join(tmp, 'nope.cnn'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${join(tmp, 'nope.cnn')}:1:1: error: no such file`);
  });
});

describe('cnn params', () => {
  it('--json lists every tensor in definition order', async () => {
    const j = JSON.parse((await cli('params', ex('resnet18.cnn'), '--json')).out);
    expect(j.network).toBe('ResNet18');
    expect(j.params.slice(0, 3)).toEqual([
      { name: 'conv1.weight', shape: [64, 3, 7, 7], kind: 'param' },
      { name: 'bn1.weight', shape: [64], kind: 'param' },
      { name: 'bn1.bias', shape: [64], kind: 'param' },
    ]);
    expect(j.params[3]).toEqual({ name: 'bn1.running_mean', shape: [64], kind: 'buffer' });
    const names = j.params.map((p: { name: string }) => p.name);
    // a residual body before its shortcut
    expect(names.indexOf('layer2.0.bn2.running_var')).toBeLessThan(names.indexOf('layer2.0.downsample.0.weight'));
  });

  it('prints a table with a count', async () => {
    const r = await cli('params', ex('cifar.cnn'));
    expect(r.out).toMatch(/stage1\.conv\.weight\s+\[32, 3, 3, 3\]\s+param/);
    expect(r.out).toMatch(/tensors: [\d,]+ parameters, [\d,]+ buffer values$/);
  });
});

describe('errors are one line, never a stack trace: 2 for the command line, 1 for the files', () => {
  it.each([
    [['analyze'], 2, 'cnn analyze: analyze takes one file'],
    [['analyze', 'a.cnn', 'b.cnn'], 2, 'cnn analyze: analyze takes one file, not 2'],
    [['analyze', 'x.cnn', '--bogus'], 2, "cnn analyze: Unknown option '--bogus'"],
    [['analyze', 'x.cnn', '--shape', '3x0'], 2, 'cnn analyze: --shape 3x0: give C x H x W'],
    [['analyze', 'x.cnn', '--format', 'xml'], 2, 'cnn analyze: --format xml: choose table, md, csv, json'],
    [['analyze', 'x.cnn', '--depth', '0'], 2, 'cnn analyze: --depth 0: give an integer of at least 1'],
    [['analyze', 'x.cnn', '--json', '--format', 'csv'], 2, 'cnn analyze: --json and --format csv disagree'],
    [['params', 'x.cnn', '--dtype', 'int4'], 2, 'cnn params: --dtype int4: choose one of'],
    [['check'], 2, 'cnn check: check needs at least one file'],
    [['check', '-', '-'], 2, 'cnn check: check reads standard input (-) once'],
    [['export', 'x.cnn'], 2, 'cnn export: export needs --to pytorch or --to onnx'],
    [['export', 'x.cnn', '--to', 'tflite'], 2, 'cnn export: --to tflite: choose pytorch or onnx'],
    [['frobnicate'], 2, "cnn: unknown command 'frobnicate'"],
    [['--frobnicate'], 2, "cnn: unknown option '--frobnicate'"],
    [['help', 'frobnicate'], 2, "cnn: unknown command 'frobnicate'"],
    [[], 2, 'usage: cnn COMMAND'],
    [['analyze', '/nonexistent/x.cnn'], 1, 'cnn analyze: /nonexistent/x.cnn: no such file'],
    [['analyze', '/tmp'], 1, 'cnn analyze: /tmp: is a directory'],
  ])('%j exits %i', async (argv, status, start) => {
    const r = await cli(...argv);
    expect(r.code, r.err).toBe(status);
    expect(r.err.slice(0, start.length)).toBe(start);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('the built bin', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
  });

  it('runs check on garbage without a stack trace and exits 1', () => {
    const f = file('garbage.cnn', 'network {{{ ))) conv k== \u0000 @@ block');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/cnn.js'), 'check', f], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/garbage\.cnn:1:\d+: error: /);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  it('analyze prints the table', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/cnn.js'), 'analyze', ex('resnet18.cnn')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Parameters\s+11,689,512/);
  });
});
