#!/usr/bin/env node
// The bundle is CommonJS so that the same build serves VS Code; main() handles pipes, stdin and
// exit statuses. run and bench go through a quiet child (./quiet-child.js) that keeps GPU
// drivers' native output off stderr.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { needsQuietChild, runQuietChild } from './quiet-child.js';

const argv = process.argv.slice(2);
const bundle = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
if (needsQuietChild(argv, process.env)) {
  runQuietChild(bundle, argv).then((code) => {
    process.exitCode = code;
  });
} else {
  const { main, runCli } = createRequire(import.meta.url)(bundle);
  main(argv, runCli);
}
