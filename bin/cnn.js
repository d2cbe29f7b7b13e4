#!/usr/bin/env node
// The bundle is CommonJS so that the same build serves VS Code; it runs the CLI when it is the main module.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { runCli } = require('../dist/cli.cjs');
runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
}).then((code) => {
  process.exitCode = code;
});
