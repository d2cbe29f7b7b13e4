// The language server over stdio, as editors use it. Prints figures; asserts nothing.
//
// 1. Edit → hints: one didChange (a one-character edit), then the inlay hints of 60 visible
//    lines, timed until the answer arrives. Goals: median under 50 ms on ResNet-101/152
//    written with blocks, under 200 ms on a 10,000-line file.
// 2. Whole-file hints of the 10,000-line file, as Neovim asks them (the whole buffer), for a
//    client that resolves tooltips (VS Code's declaration) and one that cannot (resolveSupport
//    without 'tooltip', as Neovim declares; the old server sent tooltips to both): on an
//    unchanged document (the server keeps its hints), after a change that leaves the text as
//    it was (hints computed anew, no analysis), and right after an edit (analysis too). Goal: under 100 ms on the unchanged document. Wall time as the client sees
//    it (its JSON parse included) and the server's CPU time per request.
// 3. Memory: the server's peak and final resident set over 40 edits of the 10,000-line file,
//    each followed by its whole-file hints (Neovim's pattern), and its heap at the end.
//
// Usage: npm run build && node scripts/bench-lsp.mjs [runs] [--server path/to/cnn-lsp.js] [--only edit|whole]
// (--server: another build of the server, for before/after figures; a server without
// cnn/processUsage is measured through /proc where there is one).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const serverAt = args.indexOf('--server');
const bin = serverAt >= 0 ? resolve(args.splice(serverAt, 2)[1]) : join(root, 'bin/cnn-lsp.js');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
const runs = Number(args[0] ?? 40);

function generatedNetwork(lines) {
  const out = ['network Long {', '  input 16x32x32'];
  const body = ['  conv 16 k=3 p=1 bias=false', '  bn', '  relu'];
  for (let i = 0; out.length < lines - 1; i++) out.push(body[i % body.length]);
  out.push('}');
  return out.join('\n');
}

const CAPABILITIES = {
  vscode: { workspace: { configuration: true }, textDocument: { inlayHint: { resolveSupport: { properties: ['tooltip', 'label.tooltip', 'label.location'] } } } },
  neovim: { workspace: { configuration: true }, textDocument: { inlayHint: { resolveSupport: { properties: [] } } } },
};

async function start(capabilities) {
  const proc = spawn(process.execPath, [bin, '--stdio'], { stdio: 'pipe' });
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  conn.onNotification('textDocument/publishDiagnostics', () => {});
  conn.onNotification('window/logMessage', () => {});
  conn.onRequest('workspace/configuration', (p) => p.items.map(() => ({})));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/inlayHint/refresh', () => null);
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities });
  await conn.sendNotification('initialized', {});
  /** The server process's figures: its own answer, else /proc (Linux), else nothing. */
  const usage = async () => {
    try {
      const u = await conn.sendRequest('cnn/processUsage');
      if (u) return u;
    } catch {
      /* an older server */
    }
    const status = `/proc/${proc.pid}/status`;
    if (!existsSync(status)) return undefined;
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(readFileSync(status, 'utf8'))?.[1] ?? NaN) * 1024;
    const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM'), heapUsed: NaN, heapTotal: NaN, cpuMs: (Number(stat[11]) + Number(stat[12])) * 10 };
  };
  const stop = async () => {
    await conn.sendRequest('shutdown');
    await conn.sendNotification('exit');
    conn.dispose();
    proc.kill();
  };
  return { conn, usage, stop };
}

const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const f1 = (x) => (x === undefined || Number.isNaN(x) ? '?' : x.toFixed(1));
const mb = (x) => (x === undefined || Number.isNaN(x) ? '?' : `${(x / 2 ** 20).toFixed(0)} MiB`);
const edit = (line, end, i) =>
  i % 2 === 0
    ? { range: { start: { line, character: end }, end: { line, character: end } }, text: ' ' }
    : { range: { start: { line, character: end }, end: { line, character: end + 1 } }, text: '' };

console.log(`server: ${bin}`);

// ── 1. edit → hints of the visible lines ─────────────────────────────────────
if (only !== 'whole') {
  const { conn, usage, stop } = await start(CAPABILITIES.vscode);
  const cases = [
    ['ResNet-101 (blocks)', readFileSync(join(root, 'examples/resnet101.cnn'), 'utf8'), runs],
    ['ResNet-152 (blocks)', readFileSync(join(root, 'examples/resnet152.cnn'), 'utf8'), runs],
    ['10,000-line network', generatedNetwork(10_000), Math.max(10, Math.round(runs / 4))],
  ];
  console.log('\nedit → inlay hints (60 visible lines): median / p90 of N edits after 3 warm-up edits');
  let doc = 0;
  for (const [name, text, n] of cases) {
    const uri = `file:///bench/${doc++}.cnn`;
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'cnn', version: 1, text } });
    const lines = text.split('\n');
    const line = Math.floor(lines.length / 2);
    const end = lines[line].length;
    const range = { start: { line: Math.max(0, line - 30), character: 0 }, end: { line: line + 30, character: 0 } };
    let version = 1;
    const ms = [];
    const analysis = [];
    for (let i = 0; i < n + 3; i++) {
      const t0 = performance.now();
      await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [edit(line, end, i)] });
      const hints = await conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range });
      const dt = performance.now() - t0;
      if (!hints.length) throw new Error(`no hints for ${name}`);
      // The server's own figure for the analysis (parse, expand, analyse, index) of this version.
      const stats = await conn.sendRequest('cnn/analysisStats', { uri });
      if (i >= 3) {
        ms.push(dt);
        if (stats?.version === version) analysis.push(stats.ms);
      }
    }
    console.log(`${name.padEnd(22)} ${String(lines.length).padStart(6)} lines   median ${f1(pct(ms, 0.5)).padStart(7)} ms   p90 ${f1(pct(ms, 0.9)).padStart(7)} ms   (${ms.length} edits; analysis median ${analysis.length ? f1(pct(analysis, 0.5)) : '?'} ms)`);
    await conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }
  const u = await usage();
  console.log(`memory over the three: peak RSS ${mb(u?.peakRss)}, RSS at the end ${mb(u?.rss)}, heap used ${mb(u?.heapUsed)}`);
  await stop();
}

// ── 2. whole-file hints, 3. memory ───────────────────────────────────────────
const text = generatedNetwork(10_000);
if (only === 'edit') process.exit(0);
const ALL = { start: { line: 0, character: 0 }, end: { line: 10_000, character: 0 } };
console.log('\nwhole-file inlay hints of the 10,000-line network (9,997 hints): median / p90 wall per request, and the server CPU time per request over each batch');
for (const [client, capabilities] of Object.entries(CAPABILITIES)) {
  const { conn, usage, stop } = await start(capabilities);
  const uri = 'file:///bench/whole.cnn';
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'cnn', version: 1, text } });
  let bytes = 0;
  const timed = async (before) => {
    const t0 = performance.now();
    await before?.();
    const hints = await conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range: ALL });
    const wall = performance.now() - t0;
    if (hints.length !== 9_997) throw new Error(`${hints.length} hints`);
    bytes = JSON.stringify(hints).length;
    return wall;
  };
  /** Wall times of n requests, and the server's CPU time per request over all of them. */
  const batch = async (n, before) => {
    const u0 = await usage();
    const wall = [];
    for (let i = 0; i < n; i++) wall.push(await timed(before && (() => before(i))));
    const u1 = await usage();
    return { wall, cpu: u0 && u1 ? (u1.cpuMs - u0.cpuMs) / n : NaN };
  };
  await batch(3);
  const still = await batch(Math.max(10, Math.round(runs / 2)));
  const line = 5_000;
  const end = text.split('\n')[line].length;
  let version = 1;
  // A change that gives the same text: no analysis, but the hints are computed anew (the server
  // keeps a version's hints from its second request on).
  const same = { range: { start: { line, character: 2 }, end: { line, character: 3 } }, text: text.split('\n')[line][2] };
  const anew = await batch(Math.max(10, Math.round(runs / 2)), () => conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [same] }));
  const edited = await batch(40, (i) => conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [edit(line, end, i)] }));
  const u = await usage();
  const row = (name, b) => `  ${name.padEnd(28)} median ${f1(pct(b.wall, 0.5)).padStart(7)} ms   p90 ${f1(pct(b.wall, 0.9)).padStart(7)} ms   server CPU ${f1(b.cpu).padStart(6)} ms a request`;
  console.log(`${client === 'vscode' ? 'a client that resolves tooltips (VS Code)' : 'a client that cannot (Neovim)'}: ${(bytes / 1e6).toFixed(2)} MB of JSON per answer`);
  console.log(row('unchanged document', still));
  console.log(row('same text, hints anew', anew));
  console.log(row('after a one-character edit', edited));
  console.log(`  memory over open, ${still.wall.length + anew.wall.length + 3} requests and 40 edits each with its whole-file hints: peak RSS ${mb(u?.peakRss)}, RSS at the end ${mb(u?.rss)}, heap used ${mb(u?.heapUsed)}`);
  await stop();
}
