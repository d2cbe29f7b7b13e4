/**
 * Seeded fuzzing of the whole pipeline (issue 10): mutations of every example (tokens and
 * characters inserted, deleted and doubled, random bytes, deep nesting, line ends, truncation)
 * through `analyzeText`, fresh and as the language server runs it. No case may throw, give an
 * internal error or a diagnostic that is not one positioned line, take over 5 s, or differ
 * between the two ways. About half a minute here; `npx tsx scripts/fuzz.ts` runs longer.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzzCase, problemsWith, seedTexts } from '../../scripts/fuzz-cases';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CASES = 800;

describe('fuzzing the pipeline', () => {
  it(`takes ${CASES} mutated examples without an exception, an internal error or a slow case`, () => {
    const texts = seedTexts(root);
    expect(texts.length).toBeGreaterThan(5);
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const c = fuzzCase(texts, 1, i);
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      const problems = problemsWith(c.text, c.base);
      if (problems.length) failures.push(`index ${i} (${c.kind}): ${problems.join('; ')}`);
    }
    expect(failures, 'reproduce with: npx tsx scripts/fuzz.ts --seed 1 --only INDEX').toEqual([]);
    // Every kind of mutation had its share.
    for (const kind of ['tokens', 'chars', 'bytes', 'deep', 'line ends', 'truncated']) expect(kinds.get(kind) ?? 0).toBeGreaterThan(25);
  }, 180_000);
});
