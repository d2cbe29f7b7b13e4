// A long fuzz run of the whole pipeline (parse, expand, analyse, and the language server's
// incremental way) on seeded mutations of the examples:
//   npx tsx scripts/fuzz.ts [--seed N] [--count N] [--only INDEX]
// Prints each failing case (seed and index reproduce it) and a summary; exits 1 on any failure.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzCase, problemsWith, seedTexts } from './fuzz-cases';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const texts = seedTexts(root);
const seed = option('seed', Date.now() % 100_000);
const count = option('count', 10_000);
const only = option('only', -1);
const indices = only >= 0 ? [only] : Array.from({ length: count }, (_, i) => i);

let failed = 0;
let slowest = 0;
const t0 = performance.now();
for (const i of indices) {
  const c = fuzzCase(texts, seed, i);
  const start = performance.now();
  const problems = problemsWith(c.text, c.base);
  slowest = Math.max(slowest, performance.now() - start);
  if (problems.length) {
    failed++;
    console.log(`FAIL seed ${seed} index ${i} (${c.kind}, ${c.text.length} chars): ${problems.join('; ')}`);
    if (only >= 0) console.log(JSON.stringify(c.text));
  }
  if ((i + 1) % 1000 === 0) console.log(`${i + 1} cases, ${failed} failed, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`seed ${seed}: ${indices.length} cases, ${failed} failed, slowest ${slowest.toFixed(0)} ms, ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
process.exit(failed ? 1 : 0);
