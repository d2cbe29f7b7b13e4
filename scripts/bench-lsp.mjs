// Edit-to-hints latency of the language server over stdio, as an editor sees it: send one
// didChange (a one-character edit), then ask for the inlay hints of the visible lines, and
// time until the answer arrives. Goals (issue): median under 50 ms on ResNet-101/152 written
// with blocks, under 200 ms on a 10,000-line file. Prints figures; asserts nothing.
// Usage: npm run build && node scripts/bench-lsp.mjs [runs]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 40);

function generatedNetwork(lines) {
  const out = ['network Long {', '  input 16x32x32'];
  const body = ['  conv 16 k=3 p=1 bias=false', '  bn', '  relu'];
  for (let i = 0; out.length < lines - 1; i++) out.push(body[i % body.length]);
  out.push('}');
  return out.join('\n');
}

const proc = spawn(process.execPath, [join(root, 'bin/cnn-lsp.js'), '--stdio'], { stdio: 'pipe' });
const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
conn.onNotification('textDocument/publishDiagnostics', () => {});
conn.onRequest('workspace/configuration', (p) => p.items.map(() => ({})));
conn.onRequest('client/registerCapability', () => null);
conn.onRequest('workspace/inlayHint/refresh', () => null);
conn.onRequest('workspace/codeLens/refresh', () => null);
conn.listen();
await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { workspace: { configuration: true } } });
await conn.sendNotification('initialized', {});

const cases = [
  ['ResNet-101 (blocks)', readFileSync(join(root, 'examples/resnet101.cnn'), 'utf8'), runs],
  ['ResNet-152 (blocks)', readFileSync(join(root, 'examples/resnet152.cnn'), 'utf8'), runs],
  ['10,000-line network', generatedNetwork(10_000), Math.max(10, Math.round(runs / 4))],
];
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
console.log('edit → inlay hints (60 visible lines), over stdio: median / p90 of N edits after 3 warm-up edits');
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
    // Alternately type a space at the end of a middle line and delete it.
    const add = i % 2 === 0;
    const change = add
      ? { range: { start: { line, character: end }, end: { line, character: end } }, text: ' ' }
      : { range: { start: { line, character: end }, end: { line, character: end + 1 } }, text: '' };
    const t0 = performance.now();
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [change] });
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
  console.log(`${name.padEnd(22)} ${String(lines.length).padStart(6)} lines   median ${pct(ms, 0.5).toFixed(1).padStart(7)} ms   p90 ${pct(ms, 0.9).toFixed(1).padStart(7)} ms   (${ms.length} edits; analysis median ${analysis.length ? pct(analysis, 0.5).toFixed(1) : '?'} ms)`);
  await conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
}
await conn.sendRequest('shutdown');
await conn.sendNotification('exit');
conn.dispose();
proc.kill();
