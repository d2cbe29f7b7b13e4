#!/usr/bin/env node
// The bundle is CommonJS so that the same build serves VS Code; main() handles pipes, stdin and exit statuses.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { main, runCli } = require('../dist/cli.cjs');
main(process.argv.slice(2), runCli);
