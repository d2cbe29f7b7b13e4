/**
 * The server under input an editor should not send but might: changes that repeat a version,
 * requests with missing or mistyped params, documents that are not open, cancellations, a
 * change while a request runs, files the analysis cannot take, and files with thousands of
 * problems. Over the real protocol (the built server, `npm run build` first).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import type { Hover, InlayHint, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { mulberry32 } from '../../src/engine/weights/init';
import { AnalysisTableRequest } from '../../src/protocol/lsp-ext';
import { cli } from '../helpers';
import { hintLabel, startClient, type TestClient } from './client';

const ALL = { start: { line: 0, character: 0 }, end: { line: 1_000_000, character: 0 } };
const SMALL = 'network N {\n  input 3x32x32\n  conv 8 k=3\n  relu\n}\n';

let c: TestClient;
let n = 0;
async function openDoc(text: string): Promise<string> {
  const uri = `file:///robust/doc${n++}.cnn`;
  const d = c.nextDiagnostics(uri, 1);
  await c.open(uri, text);
  await d;
  return uri;
}
const hints = (uri: string) => c.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: ALL });

function long(lines: number): string {
  const out = ['network Long {', '  input 16x32x32'];
  const body = ['  conv 16 k=3 p=1 bias=false', '  bn', '  relu'];
  for (let i = 0; out.length < lines - 1; i++) out.push(body[i % body.length]);
  out.push('}');
  return out.join('\n');
}

/** The error a request was answered with. */
async function failure(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ResponseError) return e;
    throw e;
  }
  throw new Error('the request succeeded');
}

beforeAll(async () => {
  c = await startClient({ configuration: { debounceMs: 0 } });
});
afterAll(async () => {
  await c.close();
});

describe('documents', () => {
  it('keys results on the content: a second change with the same version is not ignored', async () => {
    const uri = await openDoc(SMALL);
    expect((await hints(uri)).map(hintLabel)).toEqual(['→ 8×30×30', '→ 8×30×30']);
    const next = c.nextDiagnostics(uri, 1);
    await c.change(uri, 1, [{ text: SMALL.replace('conv 8', 'conv 16').replace('  relu\n', '  linear 10\n') }]);
    expect((await hints(uri)).map(hintLabel)).toEqual(['→ 16×30×30', '→ ? (error on this line)']);
    expect((await next).diagnostics.map((d) => d.code)).toEqual(['needs-flat']);
    // And back, still version 1: the first analysis's results again.
    await c.change(uri, 1, [{ text: SMALL }]);
    expect((await hints(uri)).map(hintLabel)).toEqual(['→ 8×30×30', '→ 8×30×30']);
  });
});

describe('malformed requests', () => {
  const cases: [string, string, (uri: string) => unknown, RegExp][] = [
    ['hover without a position', 'textDocument/hover', (uri) => ({ textDocument: { uri } }), /params\.position must be an object \(got missing\)/],
    ['hover with a position of strings', 'textDocument/hover', (uri) => ({ textDocument: { uri }, position: { line: 'x', character: 0 } }), /params\.position\.line must be a non-negative integer \(got the string "x"\)/],
    ['hover at a negative line', 'textDocument/hover', (uri) => ({ textDocument: { uri }, position: { line: -1, character: 0 } }), /params\.position\.line must be a non-negative integer/],
    ['inlay hints without a range', 'textDocument/inlayHint', (uri) => ({ textDocument: { uri } }), /params\.range must be an object \(got missing\)/],
    ['inlay hints for a range that ends before it starts', 'textDocument/inlayHint', (uri) => ({ textDocument: { uri }, range: { start: { line: 5, character: 0 }, end: { line: 1, character: 0 } } }), /params\.range ends before it starts/],
    ['hover in a document that is not open', 'textDocument/hover', () => ({ textDocument: { uri: 'file:///nope.cnn' }, position: { line: 0, character: 0 } }), /"file:\/\/\/nope\.cnn" is not an open document/],
    ['inlay hints with a textDocument that is a number', 'textDocument/inlayHint', () => ({ textDocument: 5, range: ALL }), /params\.textDocument must be an object \(got number 5\)/],
    ['completion with a uri that is not a string', 'textDocument/completion', () => ({ textDocument: { uri: 42 }, position: { line: 0, character: 0 } }), /params\.textDocument\.uri must be a string \(got number 42\)/],
    ['rename without a new name', 'textDocument/rename', (uri) => ({ textDocument: { uri }, position: { line: 2, character: 3 } }), /params\.newName must be a string \(got missing\)/],
    ['references without a context', 'textDocument/references', (uri) => ({ textDocument: { uri }, position: { line: 2, character: 3 } }), /params\.context must be an object/],
    ['code actions with diagnostics that are not a list', 'textDocument/codeAction', (uri) => ({ textDocument: { uri }, range: ALL, context: { diagnostics: 'none' } }), /params\.context\.diagnostics must be an array/],
    ['formatting with a negative tab size', 'textDocument/formatting', (uri) => ({ textDocument: { uri }, options: { tabSize: -2, insertSpaces: true } }), /params\.options\.tabSize must be a non-negative integer/],
    ['symbols with params by position', 'textDocument/documentSymbol', () => ['a', 1], /parameters by position/],
    ['the analysis table without a uri', AnalysisTableRequest.method, () => ({ network: 'N' }), /params\.uri must be a string \(got missing\)/],
    ['an unknown command', 'workspace/executeCommand', () => ({ command: 'rm -rf', arguments: [] }), /unknown command "rm -rf"/],
  ];
  for (const [what, method, params, reason] of cases) {
    it(`answers ${what} with InvalidParams and the reason`, async () => {
      const uri = await openDoc(SMALL);
      const e = await failure(c.request(method, params(uri)));
      expect(e.code).toBe(-32602);
      expect(e.message).toMatch(reason);
    });
  }

  it('logs malformed notifications in one line, without a stack, and keeps serving', async () => {
    const uri = await openDoc(SMALL);
    const before = c.messages.length;
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: 'oops' });
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: { line: 0 } }, text: 'x' }] });
    await c.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: 'file:///robust/bad.cnn', version: 1 } });
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri: 'file:///robust/never-opened.cnn', version: 2 }, contentChanges: [{ text: '' }] });
    await c.conn.sendNotification('workspace/didChangeConfiguration', 17);
    // The server answers in order: once this is back, the notifications above were handled.
    expect((await hints(uri)).map(hintLabel)).toEqual(['→ 8×30×30', '→ 8×30×30']);
    const logged = c.messages.slice(before).map((m) => m.message);
    expect(logged, logged.join('\n')).toEqual([
      'cnn-lsp: textDocument/didChange: params.contentChanges must be an array (got the string "oops"); ignored',
      'cnn-lsp: textDocument/didChange: params.contentChanges[0].range.start.character must be a non-negative integer (got missing); ignored',
      'cnn-lsp: textDocument/didOpen: params.textDocument.text must be a string (got missing); ignored',
      'cnn-lsp: textDocument/didChange: "file:///robust/never-opened.cnn" is not open; ignored',
      // The JSON-RPC library's own line for params that are not an object.
      'Notification workspace/didChangeConfiguration defines parameters by name but received parameters by position',
    ]);
  });

  it('has logged no stack and no TypeError for any of it', () => {
    const all = c.messages.map((m) => m.message).join('\n');
    expect(all).not.toMatch(/\n\s+at /);
    expect(all).not.toMatch(/TypeError/);
    expect(c.stderr()).toBe('');
  });
});

describe('cancellation and changes while a request runs', () => {
  it('stops requests the client cancels while the server is busy, and serves the next one', async () => {
    const small = await openDoc(SMALL);
    // Opened without waiting: the first request pays the analysis of 40,000 lines, and what
    // comes meanwhile waits in the server's queue.
    const uri = `file:///robust/long${n++}.cnn`;
    await c.open(uri, long(40_000));
    const running = new CancellationTokenSource();
    const queued = new CancellationTokenSource();
    const a = c.conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range: ALL }, running.token);
    const b = c.conn.sendRequest('textDocument/inlayHint', { textDocument: { uri: small }, range: ALL }, queued.token);
    queued.cancel();
    setTimeout(() => running.cancel(), 5);
    expect((await failure(a)).code).toBe(-32800);
    expect((await failure(b)).code).toBe(-32800);
    const h = await c.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 100, character: 0 }, end: { line: 102, character: 0 } } });
    expect(h.map(hintLabel)).toEqual(['→ 16×32×32', '→ 16×32×32', '→ 16×32×32']);
  });

  it('answers ContentModified when the document changes under a long request', async () => {
    const uri = `file:///robust/long${n++}.cnn`;
    const text = long(40_000);
    await c.open(uri, text);
    await c.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
    const p = hints(uri);
    await c.change(uri, 2, [{ range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, text: ' ' }]);
    const e = await failure(p);
    expect(e.code).toBe(-32801);
    expect(e.message).toContain('changed while the request ran');
    expect((await hints(uri)).length).toBe(39_997);
  });
});

describe('one long request among others', () => {
  it('answers other documents while it computes the hints of 40,000 lines', async () => {
    // A client without resolve, as Neovim: hints of the whole file, without tooltips.
    const plain = await startClient({ editor: 'plain' });
    try {
      const big = 'file:///robust/big.cnn';
      const small = 'file:///robust/small.cnn';
      const ready = plain.nextDiagnostics(big, 1);
      await plain.open(big, long(40_000));
      await plain.open(small, SMALL);
      await ready;
      const order: string[] = [];
      const whole = plain.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: big }, range: ALL }).then((h) => order.push(`big ${h.length}`));
      const hover = plain.request<Hover>('textDocument/hover', { textDocument: { uri: small }, position: { line: 2, character: 3 } }).then((h) => order.push(`small ${h ? 'hover' : 'none'}`));
      await Promise.all([whole, hover]);
      expect(order).toEqual(['small hover', 'big 39997']);
    } finally {
      await plain.close();
    }
  });
});

describe('files the analysis cannot take', () => {
  it('publishes a positioned error for a nesting deeper than the parsers take (it used to overflow the stack), and keeps serving', async () => {
    const uri = `file:///robust/deep${n++}.cnn`;
    const next = c.nextDiagnostics(uri, 1);
    await c.open(uri, `network N {\n  input 3x8x8\n  ${'residual { '.repeat(10_000)}relu${' }'.repeat(10_000)}\n}\n`);
    const d = await next;
    expect(d.diagnostics.map((x) => x.code)).toEqual(['syntax']);
    expect(d.diagnostics[0].message).toBe('blocks nested more than 100 deep');
    expect(d.diagnostics[0].range.start).toEqual({ line: 2, character: 1100 });
    // Nothing below the error is analysed: at most the input's hint.
    expect((await hints(uri)).length).toBeLessThanOrEqual(1);
    // A file with syntax errors is left as it is.
    expect(await c.request('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
    // Mended, the file is analysed again.
    const mended = c.nextDiagnostics(uri, 2);
    await c.change(uri, 2, [{ text: SMALL }]);
    expect((await mended).diagnostics).toEqual([]);
    expect((await hints(uri)).map(hintLabel)).toEqual(['→ 8×30×30', '→ 8×30×30']);
  });

  it('publishes at most 100 diagnostics and one that counts the rest; cnn check prints them all', async () => {
    const r = mulberry32(3);
    // Random bytes, less '/': a '/*' would make the rest of the file one comment.
    const text = Buffer.from(Array.from({ length: 65_536 }, () => Math.floor(r() * 256)).map((b) => (b === 47 ? 48 : b))).toString('utf8');
    const uri = `file:///robust/random${n++}.cnn`;
    const next = c.nextDiagnostics(uri, 1);
    await c.open(uri, text);
    const d: PublishDiagnosticsParams = await next;
    expect(d.diagnostics).toHaveLength(101);
    const last = d.diagnostics[100];
    expect(last.code).toBe('too-many-diagnostics');
    const more = Number(/^([\d,]+) more problems/.exec(String(last.message))![1].replace(/,/g, ''));
    const dir = mkdtempSync(join(tmpdir(), 'cnn-random-'));
    writeFileSync(join(dir, 'random.cnn'), text);
    const check = await cli('check', join(dir, 'random.cnn'));
    const printed = check.out.split('\n').filter((l) => /^.*random\.cnn:\d+:\d+: (error|warning|info|hint): /.test(l)).length;
    expect(printed).toBe(100 + more);
    expect(more).toBeGreaterThan(0);
    // The rest of the server still answers.
    const h = await c.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
    expect(h === null || typeof h === 'object').toBe(true);
  });
});
