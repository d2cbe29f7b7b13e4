/**
 * A minimal LSP client for tests and benchmarks: spawns `node bin/cnn-lsp.js --stdio` and
 * speaks JSON-RPC over its stdio. By default it declares what VS Code's client declares (and
 * the extension's `clientCommands`); `editor: 'plain'` declares what a bare client such as
 * Neovim's or Helix's does: no snippets, no refresh requests, no dynamic registration.
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
import type { ClientCapabilities, InitializeResult, PublishDiagnosticsParams, TextEdit } from 'vscode-languageserver-protocol';
import { VSCODE_CLIENT_COMMANDS } from '../../src/protocol/lsp-ext';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface TestClient {
  conn: MessageConnection;
  proc: ChildProcessWithoutNullStreams;
  diagnostics: Map<string, PublishDiagnosticsParams>;
  /** Requests the server sent to the client, in order (method and params). */
  serverRequests: { method: string; params: unknown }[];
  /** `window/showMessage` and `window/logMessage` notifications, in order. */
  messages: { method: string; type: number; message: string }[];
  /** The server's answer to `initialize`. */
  initializeResult: InitializeResult;
  /** What the server wrote to stderr. */
  stderr(): string;
  /** Resolves with the next diagnostics published for the uri (optionally for a version). */
  nextDiagnostics(uri: string, version?: number): Promise<PublishDiagnosticsParams>;
  open(uri: string, text: string, version?: number): Promise<void>;
  change(uri: string, version: number, changes: { range?: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }[]): Promise<void>;
  request<R>(method: string, params: unknown): Promise<R>;
  close(): Promise<void>;
  configuration: Record<string, unknown>;
}

/** What VS Code's client (vscode-languageclient 9–11) declares, as far as the server reads it. */
export const VSCODE_CAPABILITIES: ClientCapabilities = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    inlayHint: { refreshSupport: true },
    codeLens: { refreshSupport: true },
    executeCommand: { dynamicRegistration: true },
  },
  textDocument: {
    hover: { contentFormat: ['markdown', 'plaintext'] },
    inlayHint: { dynamicRegistration: true, resolveSupport: { properties: ['tooltip', 'textEdits', 'label.tooltip', 'label.location', 'label.command'] } },
    completion: { completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'] } },
    publishDiagnostics: { relatedInformation: true, versionSupport: true },
    rename: { prepareSupport: true },
  },
};

/** A client that declares only the basics (Helix, or Neovim 0.7 without its snippet plugin). */
export const PLAIN_CAPABILITIES: ClientCapabilities = {
  workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false } },
  textDocument: {
    hover: { contentFormat: ['markdown', 'plaintext'] },
    completion: { completionItem: { snippetSupport: false, documentationFormat: ['markdown', 'plaintext'] } },
    publishDiagnostics: { relatedInformation: true },
  },
};

export interface ClientOptions {
  configuration?: Record<string, unknown>;
  /** Replaces the default (the VS Code extension's: `clientCommands`). */
  initializationOptions?: unknown;
  pullConfiguration?: boolean;
  editor?: 'vscode' | 'plain';
  capabilities?: ClientCapabilities;
}

export async function startClient(opts: ClientOptions = {}): Promise<TestClient> {
  const proc = spawn(process.execPath, [resolve(ROOT, 'bin/cnn-lsp.js'), '--stdio'], { cwd: ROOT, stdio: 'pipe' });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += String(d)));
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  const diagnostics = new Map<string, PublishDiagnosticsParams>();
  const waiters: { uri: string; version?: number; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  const serverRequests: { method: string; params: unknown }[] = [];
  const messages: { method: string; type: number; message: string }[] = [];
  const client: TestClient = {
    conn,
    proc,
    diagnostics,
    serverRequests,
    messages,
    stderr: () => stderr,
    initializeResult: undefined as unknown as InitializeResult,
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
  const record = (method: string, answer: (p: any) => unknown) =>
    conn.onRequest(method, (p: unknown) => {
      serverRequests.push({ method, params: p });
      return answer(p);
    });
  record('workspace/configuration', (p: { items: { section?: string }[] }) => p.items.map(() => client.configuration));
  record('client/registerCapability', () => null);
  record('workspace/inlayHint/refresh', () => null);
  record('workspace/codeLens/refresh', () => null);
  for (const method of ['window/logMessage', 'window/showMessage']) {
    conn.onNotification(method, (p: { type: number; message: string }) => {
      messages.push({ method, type: p.type, message: p.message });
    });
  }
  conn.listen();
  proc.on('exit', (code) => {
    if (code && code !== 0) console.error(`cnn-lsp exited with ${code}: ${stderr}`);
  });
  const plain = opts.editor === 'plain';
  const capabilities = structuredClone(opts.capabilities ?? (plain ? PLAIN_CAPABILITIES : VSCODE_CAPABILITIES));
  if (opts.pullConfiguration === false && capabilities.workspace) capabilities.workspace.configuration = false;
  client.initializeResult = await conn.sendRequest<InitializeResult>('initialize', {
    processId: process.pid,
    rootUri: null,
    clientInfo: plain ? { name: 'plain-test-client' } : { name: 'Visual Studio Code', version: '1.100.0' },
    capabilities,
    initializationOptions: opts.initializationOptions ?? (plain ? undefined : { clientCommands: [...VSCODE_CLIENT_COMMANDS] }),
  });
  await conn.sendNotification('initialized', {});
  return client;
}

/** Applies LSP text edits to a text (edits must not overlap). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((a, l) => a + l.length + 1, 0) + p.character;
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  for (const e of sorted) text = text.slice(0, offset(e.range.start)) + e.newText + text.slice(offset(e.range.end));
  return text;
}

/** An inlay hint's label as one string. */
export function hintLabel(h: { label: string | { value: string }[] }): string {
  return typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('');
}
