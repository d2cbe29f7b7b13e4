/**
 * Node entry of the language server: `cnn-lsp --stdio` for any LSP client, IPC when VS Code
 * starts it (`--node-ipc`), or `--socket=N`. Over stdio the server reads messages itself
 * (transport.ts), so that a malformed header ends the connection with the reason instead of
 * leaving the server alive and deaf.
 */
import { format } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { ErrorCodes, ProposedFeatures, StreamMessageWriter, createConnection, type Connection, type ResponseMessage } from 'vscode-languageserver/node';
import { startServer } from './server';
import { BodyError, StrictMessageReader } from './transport';

// A promise someone forgot to catch is a bug to log, not a reason to drop the user's session.
process.on('unhandledRejection', (e) => {
  process.stderr.write(`cnn-lsp: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
});

// Each analysis of a long file leaves tens of MB of garbage beside a live set of about 30 MB,
// and V8 lets the old generation grow to several times its live size before it collects:
// 250–290 MB resident for a 10,000-line file edited with whole-file hints. With the next
// collection due at 1.5× the live size instead, the same session peaks about a third lower at no CPU
// cost we could measure (`npm run bench:lsp`). The flag is read at each collection, so setting
// it here, after start-up, takes effect; it bounds nothing, so a larger file still fits.
setFlagsFromString('--heap-growing-percent=50');

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write('cnn-lsp: the .cnn language server\n\nusage: cnn-lsp --stdio | --node-ipc | --socket=PORT\n');
  process.exit(0);
}

const other = process.argv.some((a) => a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe'));
// Without a transport, speak over stdio: what editors that forget the flag expect.
if (other) startServer(createConnection(ProposedFeatures.all));
else startStdio();

function startStdio(): void {
  const reader = new StrictMessageReader(process.stdin);
  const writer = new StreamMessageWriter(process.stdout);
  const connection: Connection = createConnection(ProposedFeatures.all, reader, writer);
  let shutdown = false;
  let ending = false;
  const end = (code: number, why?: string) => {
    if (ending) return;
    ending = true;
    if (why) process.stderr.write(`cnn-lsp: ${why}\n`);
    // Let what is being written (the log line above, a last answer) reach the client first.
    const exit = () => process.exit(code);
    if (process.stdout.writableLength === 0) setImmediate(exit);
    else {
      process.stdout.once('drain', exit);
      setTimeout(exit, 1000).unref();
    }
  };
  reader.onError((e) => {
    if (e instanceof BodyError) {
      connection.console.error(`cnn-lsp: ${e.message}; ignored`);
      // JSON-RPC's answer to a message it cannot parse (no id to answer to).
      const answer: ResponseMessage = { jsonrpc: '2.0', id: null, error: { code: ErrorCodes.ParseError, message: e.message } };
      void writer.write(answer).catch(() => undefined);
      return;
    }
    const why = `malformed input from the client: ${e instanceof Error ? e.message : String(e)}; closing the connection`;
    try {
      connection.console.error(`cnn-lsp: ${why}`);
    } catch {
      /* the connection may be gone */
    }
    end(1, why);
  });
  // The library exits on the end of stdin only for a stream it reads itself: the same here.
  reader.onClose(() => end(shutdown ? 0 : 1, shutdown ? undefined : 'the client closed the connection without shutdown'));
  connection.onShutdown(() => {
    shutdown = true;
  });
  // stdout carries the protocol: anything a dependency prints goes to the client's log instead.
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const to = level === 'debug' ? 'log' : level;
    console[level] = (...args: unknown[]) => connection.console[to](format(...args));
  }
  startServer(connection);
}
