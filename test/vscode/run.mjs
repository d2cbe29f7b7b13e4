// Runs the VS Code integration suite (test/vscode/suite/*.e2e.cjs) inside a real VS Code.
// Needs @vscode/test-electron (not a dependency yet) and a VS Code binary: set
// VSCODE_EXECUTABLE=/path/to/code (or let test-electron download one where the network allows).
// Usage: npm run build && node test/vscode/run.mjs
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
let runTests;
try {
  ({ runTests } = await import('@vscode/test-electron'));
} catch {
  console.error('test:vscode needs @vscode/test-electron: npm install --save-dev @vscode/test-electron');
  process.exit(2);
}
try {
  await runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
    extensionDevelopmentPath: root,
    extensionTestsPath: resolve(here, 'suite/index.cjs'),
    launchArgs: [resolve(root, 'examples'), '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (e) {
  console.error(`VS Code tests failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
