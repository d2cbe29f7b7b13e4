#!/usr/bin/env node
// The language server (stdio or IPC); the bundle starts listening when loaded.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
require('../dist/server-node.cjs');
