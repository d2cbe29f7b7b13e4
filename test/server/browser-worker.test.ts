/**
 * The browser entry (dist/server-browser.js, built for a web worker) loaded as a worker: a
 * Node worker thread given the web worker's message interface (`self.postMessage`,
 * `self.onmessage`), with nothing from Node in reach of the bundle. Run `npm run build` first.
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageConnection, PortMessageReader, PortMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { Hover, InlayHint, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { ROOT } from './client';

const BUNDLE = resolve(ROOT, 'dist/server-browser.js');

// Runs in the worker: a web-worker-like global scope, then the bundle as a classic script.
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const vm = require('node:vm');
const listeners = [];
const scope = {
  postMessage: (m) => parentPort.postMessage(m),
  addEventListener: (type, f) => { if (type === 'message') listeners.push(f); },
  removeEventListener: () => {},
  set onmessage(f) { listeners.push(f); },
  console, setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask, performance,
  TextEncoder, TextDecoder, crypto: globalThis.crypto, Promise, Map, Set, WeakMap, Error, Math, JSON,
};
scope.self = scope;
scope.globalThis = scope;
parentPort.on('message', (data) => listeners.forEach((f) => f({ data })));
vm.createContext(scope);
vm.runInContext(readFileSync(workerData.bundle, 'utf8'), scope, { filename: 'server-browser.js' });
`;

let worker: Worker;
let conn: MessageConnection;
const diagnostics: PublishDiagnosticsParams[] = [];

beforeAll(async () => {
  worker = new Worker(BOOT, { eval: true, workerData: { bundle: BUNDLE } });
  conn = createMessageConnection(new PortMessageReader(worker), new PortMessageWriter(worker));
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    diagnostics.push(p);
  });
  conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => ({})));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/inlayHint/refresh', () => null);
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', { processId: null, rootUri: null, capabilities: { workspace: { configuration: true } } });
  await conn.sendNotification('initialized', {});
});

afterAll(async () => {
  conn.dispose();
  await worker.terminate();
});

describe('browser server bundle in a worker', () => {
  it('answers diagnostics, inlay hints and hover', async () => {
    const uri = 'file:///web/tiny.cnn';
    const text = 'network Tiny {\n  input 3x32x32\n  conv 16 k=3 p=same\n  relu\n  gap\n  linear 10\n}\n';
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'cnn', version: 1, text } });
    const hints = await conn.sendRequest<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 9, character: 0 } } });
    expect(hints.map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')))).toEqual(['→ 16×32×32', '→ 16×32×32', '→ 16×1×1', '→ ? (error on this line)']);
    const hover = await conn.sendRequest<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 3 } });
    expect(JSON.stringify(hover.contents)).toContain('params = 16·3·3·3 + 16 = 448');
    for (let i = 0; i < 50 && !diagnostics.some((d) => d.uri === uri); i++) await new Promise((r) => setTimeout(r, 20));
    const d = diagnostics.find((x) => x.uri === uri)!;
    expect(d.diagnostics.map((x) => x.code)).toEqual(['needs-flat']);
  });
});
