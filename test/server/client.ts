/**
 * A minimal LSP client for tests and benchmarks: spawns `node bin/cnn-lsp.js --stdio` and
 * speaks JSON-RPC over its stdio, as Neovim or Helix would.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface TestClient {
  conn: MessageConnection;
  proc: ChildProcessWithoutNullStreams;
  diagnostics: Map<string, PublishDiagnosticsParams>;
  /** Resolves with the next diagnostics published for the uri (optionally for a version). */
  nextDiagnostics(uri: string, version?: number): Promise<PublishDiagnosticsParams>;
  open(uri: string, text: string, version?: number): Promise<void>;
  change(uri: string, version: number, changes: { range?: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }[]): Promise<void>;
  request<R>(method: string, params: unknown): Promise<R>;
  close(): Promise<void>;
  configuration: Record<string, unknown>;
}

export async function startClient(opts: { configuration?: Record<string, unknown>; initializationOptions?: unknown; pullConfiguration?: boolean } = {}): Promise<TestClient> {
  const proc = spawn(process.execPath, [resolve(ROOT, 'bin/cnn-lsp.js'), '--stdio'], { cwd: ROOT, stdio: 'pipe' });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += String(d)));
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const diagnostics = new Map<string, PublishDiagnosticsParams>();
  const waiters: { uri: string; version?: number; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  const client: TestClient = {
    conn,
    proc,
    diagnostics,
    configuration: opts.configuration ?? {},
    nextDiagnostics(uri, version) {
      return new Promise((res) => waiters.push({ uri, version, resolve: res }));
    },
    async open(uri, text, version = 1) {
      await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'cnn', version, text } });
    },
    async change(uri, version, changes) {
      await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    },
    request(method, params) {
      return conn.sendRequest(method, params);
    },
    async close() {
      try {
        await conn.sendRequest('shutdown');
        await conn.sendNotification('exit');
      } catch {
        /* already gone */
      }
      conn.dispose();
      proc.kill();
    },
  };
  conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
    diagnostics.set(p.uri, p);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w.uri === p.uri && (w.version === undefined || w.version === p.version)) {
        waiters.splice(i, 1);
        w.resolve(p);
      }
    }
  });
  conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => p.items.map(() => client.configuration));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/inlayHint/refresh', () => null);
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.onNotification('window/logMessage', () => undefined);
  conn.listen();
  proc.on('exit', (code) => {
    if (code && code !== 0) console.error(`cnn-lsp exited with ${code}: ${stderr}`);
  });
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: {
      workspace: { configuration: opts.pullConfiguration ?? true, inlayHint: { refreshSupport: true } },
      textDocument: {
        hover: { contentFormat: ['markdown', 'plaintext'] },
        inlayHint: {},
        completion: { completionItem: { snippetSupport: true } },
        publishDiagnostics: { relatedInformation: true, versionSupport: true },
      },
    },
    initializationOptions: opts.initializationOptions,
  });
  await conn.sendNotification('initialized', {});
  return client;
}
