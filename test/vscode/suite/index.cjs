// Loaded by VS Code's extension host: runs every *.e2e.cjs test in this folder with a tiny
// runner (no mocha needed), and fails the run on the first failing test.
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

exports.run = async function run() {
  const tests = [];
  global.test = (name, fn) => tests.push({ name, fn });
  for (const f of readdirSync(__dirname).filter((f) => f.endsWith('.e2e.cjs')).sort()) require(join(__dirname, f));
  let failed = 0;
  for (const t of tests) {
    try {
      await t.fn();
      console.log(`  ✓ ${t.name}`);
    } catch (e) {
      failed++;
      console.error(`  ✗ ${t.name}\n    ${e && e.stack ? e.stack : e}`);
    }
  }
  if (failed) throw new Error(`${failed} of ${tests.length} VS Code tests failed`);
};
