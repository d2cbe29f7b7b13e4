/** Browser (web worker) entry of the language server, for vscode.dev and other web hosts. */
import { BrowserMessageReader, BrowserMessageWriter, ProposedFeatures, createConnection } from 'vscode-languageserver/browser';
import { startServer } from './server';

// The worker's global scope: typed as a Worker, which has the same message interface.
const scope = self as unknown as Worker;
const reader = new BrowserMessageReader(scope);
const writer = new BrowserMessageWriter(scope);
startServer(createConnection(ProposedFeatures.all, reader, writer));
