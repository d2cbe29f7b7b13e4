/**
 * The server's stdio framing (src/server/transport.ts), with raw bytes: `node bin/cnn-lsp.js
 * --stdio` spawned and written to directly. A malformed header ends the connection with the
 * reason on stderr and a non-zero exit; a body that is not JSON is answered with a parse
 * error and the server goes on; the end of stdin ends the server.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHeaders, FramingError } from '../../src/server/transport';
import { ROOT } from './client';

interface Run {
  write(bytes: string | Buffer): void;
  end(): void;
  /** The exit code, or 'alive' if the server still runs after `ms`. */
  exit(ms?: number): Promise<number | 'alive'>;
  stderr(): string;
  /** The JSON-RPC messages the server wrote so far. */
  messages(): Record<string, any>[];
  /** Waits for a message that matches. */
  until(match: (m: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
  kill(): void;
}

function server(): Run {
  const proc = spawn(process.execPath, [resolve(ROOT, 'bin/cnn-lsp.js'), '--stdio'], { cwd: ROOT, stdio: 'pipe' });
  let err = '';
  let out = Buffer.alloc(0);
  proc.stderr.on('data', (d) => (err += String(d)));
  proc.stdout.on('data', (d: Buffer) => (out = Buffer.concat([out, d])));
  const exited = new Promise<number>((r) => proc.on('exit', (code) => r(code ?? -1)));
  const parse = () => {
    const msgs: Record<string, any>[] = [];
    let rest = out;
    for (;;) {
      const h = rest.indexOf('\r\n\r\n');
      if (h < 0) break;
      const len = Number(/Content-Length: (\d+)/i.exec(rest.subarray(0, h).toString())?.[1]);
      if (rest.length < h + 4 + len) break;
      msgs.push(JSON.parse(rest.subarray(h + 4, h + 4 + len).toString('utf8')));
      rest = rest.subarray(h + 4 + len);
    }
    return msgs;
  };
  return {
    write: (b) => proc.stdin.write(b),
    end: () => proc.stdin.end(),
    exit: (ms = 10_000) => Promise.race([exited, new Promise<'alive'>((r) => setTimeout(() => r('alive'), ms))]),
    stderr: () => err,
    messages: parse,
    async until(match, ms = 10_000) {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
        const m = parse().find(match);
        if (m) return m;
      }
      throw new Error(`no such message; got ${JSON.stringify(parse())}; stderr ${err}`);
    },
    kill: () => proc.kill(),
  };
}

function frame(body: unknown): string {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  return `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } };

describe('stdio framing', () => {
  for (const [name, bytes, reason] of [
    ['a Content-Length that is not a number', 'Content-Length: abc\r\n\r\n{}', /Content-Length "abc" is not a number of bytes/],
    ['a negative Content-Length', 'Content-Length: -5\r\n\r\n{}', /Content-Length "-5" is not a number/],
    ['no Content-Length', 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}', /no Content-Length header/],
    ['a header line without a colon', 'Content-Length 2\r\n\r\n{}', /malformed header line "Content-Length 2"/],
    ['headers that never end', `Content-Length: 2\r\n${'X-Pad: y\r\n'.repeat(1000)}`, /no end of the headers/],
    ['another charset', 'Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=latin1\r\n\r\n{}', /charset "latin1" is not supported/],
  ] as const) {
    it(`ends the connection on ${name}, with the reason and a non-zero exit`, async () => {
      const s = server();
      s.write(frame(INIT));
      await s.until((m) => m.id === 1);
      s.write(bytes);
      const code = await s.exit();
      expect(code, `stderr: ${s.stderr()}`).toBe(1);
      expect(s.stderr()).toMatch(reason);
      expect(s.stderr()).toContain('closing the connection');
      // The reason also went to the client's log, before the exit.
      expect(s.messages().some((m) => m.method === 'window/logMessage' && reason.test(m.params.message))).toBe(true);
    });
  }

  it('answers a body that is not JSON with a parse error and keeps serving', async () => {
    const s = server();
    s.write(frame('{"jsonrpc": "2.0", "id": 7, "method": '));
    const err = await s.until((m) => m.error && m.id === null);
    expect(err.error.code).toBe(-32700);
    expect(err.error.message).toMatch(/not JSON/);
    // A message the connection cannot read (a cancellation without params) is that message's problem only.
    s.write(frame({ jsonrpc: '2.0', method: '$/cancelRequest' }));
    s.write(frame(INIT));
    const init = await s.until((m) => m.id === 1);
    expect(init.result.capabilities.hoverProvider).toBe(true);
    expect(await s.exit(300)).toBe('alive');
    s.kill();
  });

  it('reads messages split anywhere, several in one chunk, and UTF-8 lengths in bytes', async () => {
    const s = server();
    const text = 'network N { input 3x8x8; conv 4 k=3 } // ünïcödé → ✓\n';
    const all = frame(INIT) + frame({ jsonrpc: '2.0', method: 'initialized', params: {} }) + frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///u.cnn', languageId: 'cnn', version: 1, text } } }) + frame({ jsonrpc: '2.0', id: 2, method: 'textDocument/inlayHint', params: { textDocument: { uri: 'file:///u.cnn' }, range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } } } });
    const bytes = Buffer.from(all, 'utf8');
    for (let i = 0; i < bytes.length; i += 7) s.write(bytes.subarray(i, i + 7));
    const hints = await s.until((m) => m.id === 2);
    expect(hints.result.map((h: { label: string }) => h.label)).toEqual(['→ 4×6×6']);
    s.kill();
  });

  it('exits 0 after shutdown and exit, 1 when stdin ends without shutdown', async () => {
    const a = server();
    a.write(frame(INIT));
    await a.until((m) => m.id === 1);
    a.write(frame({ jsonrpc: '2.0', id: 2, method: 'shutdown' }) + frame({ jsonrpc: '2.0', method: 'exit' }));
    expect(await a.exit()).toBe(0);
    const b = server();
    b.write(frame(INIT));
    await b.until((m) => m.id === 1);
    b.end();
    expect(await b.exit()).toBe(1);
    expect(b.stderr()).toContain('closed the connection without shutdown');
  });
});

describe('parseHeaders', () => {
  it('takes the headers LSP defines, in any case and order', () => {
    expect(parseHeaders('Content-Length: 12')).toBe(12);
    expect(parseHeaders('content-type: application/vscode-jsonrpc; charset=utf8\r\ncontent-length:3')).toBe(3);
    expect(parseHeaders('Content-Length: 0\r\nX-Other: whatever')).toBe(0);
  });
  it('refuses anything else with the reason', () => {
    expect(() => parseHeaders('Content-Length: 5abc')).toThrow(FramingError);
    expect(() => parseHeaders('Content-Length: 99999999999')).toThrow(/larger than/);
    expect(() => parseHeaders(': 3')).toThrow(/malformed header line/);
  });
});
