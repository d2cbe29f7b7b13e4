#!/usr/bin/env node
// The language server (stdio or IPC); the bundle starts listening when loaded, so --version answers before loading it.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
if (process.argv.slice(2).some((a) => a === '--version' || a === '-V')) {
  // package.json sits one folder up from bin/ in the repository and in an installed package alike.
  process.stdout.write(`cnn-lsp ${require('../package.json').version}\n`);
} else {
  require('../dist/server-node.cjs');
}
