/**
 * Node entry of the language server: `cnn-lsp --stdio` for any LSP client, IPC when VS Code
 * starts it (`--node-ipc`), or `--socket=N`. `createConnection` reads the transport from argv.
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { startServer } from './server';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write('cnn-lsp: the .cnn language server\n\nusage: cnn-lsp --stdio | --node-ipc | --socket=PORT\n');
  process.exit(0);
}
if (!process.argv.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe'))) {
  // Without a transport, speak over stdio: what editors that forget the flag expect.
  process.argv.push('--stdio');
}
startServer(createConnection(ProposedFeatures.all));
