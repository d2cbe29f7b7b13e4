/**
 * The house as docs/architecture.md draws it: imports that point one way with no circles
 * (.dependency-cruiser.cjs), and one home per layer kind.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYER_DEFS } from '../src/layers';
import { ROOT } from './helpers';

describe('imports', () => {
  it('have no circle and point the way the pipeline goes', async () => {
    const { cruise } = await import('dependency-cruiser');
    const config = (await import(join(ROOT, '.dependency-cruiser.cjs'))).default;
    const result = await cruise(['src', 'webview/src'], { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden } }, undefined, {
      tsConfig: JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')),
    });
    const output = typeof result.output === 'string' ? JSON.parse(result.output) : result.output;
    const violations = (output.summary.violations as { from: string; to: string; rule: { name: string }; cycle?: { name: string }[] }[]).map(
      (v) => `${v.rule.name}: ${v.from} → ${v.cycle?.length ? v.cycle.map((c) => c.name).join(' → ') : v.to}`,
    );
    expect(violations).toEqual([]);
    expect(output.summary.totalCruised).toBeGreaterThan(100);
  });
});

describe('one home per layer kind', () => {
  const sources = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src', 'webview/src'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts'));
  const texts = new Map(sources.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));

  /**
   * A kind's name as a string lives in its module and one entry per backend, exporter and
   * importer. `input` and the merges are also statements of the grammar (keywords the parsers,
   * the expansion and the editor spell), so they are held to their own rule: none of the
   * engines' or exporters' generic code names them.
   */
  const GRAMMAR = new Set(['input', 'add', 'concat', 'mul']);

  for (const kind of Object.keys(LAYER_DEFS)) {
    if (GRAMMAR.has(kind)) continue;
    it(`'${kind}' is spelt in at most 7 source files`, () => {
      const quoted = new RegExp(`['"\`]${kind}['"\`]`);
      const files = [...texts].filter(([, t]) => quoted.test(t)).map(([f]) => f);
      expect(files.length, files.join(', ')).toBeLessThanOrEqual(7);
      expect(files).toContain(`src/layers/${kind}.ts`);
    });
  }
});
