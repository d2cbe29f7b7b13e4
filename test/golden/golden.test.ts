/**
 * Golden files: what `cnn analyze --json`, `cnn params --json`, `cnn check`, the analysis table
 * and the hovers print for every example and test network, saved before the layer-registry
 * refactor. A change here must be a change someone meant: rerun with UPDATE_GOLDEN=1 and read
 * the diff of test/golden/expected/ before committing it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { DEFAULT_SETTINGS } from '../../src/server/settings';
import { buildModel } from '../../src/server/model';
import { hover } from '../../src/server/hover';
import { collectStatements } from '../../src/language/ast';
import { exportPytorch } from '../../src/export/pytorch';
import { ROOT, cli } from '../helpers';

const EXPECTED = join(ROOT, 'test', 'golden', 'expected');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Every tracked .cnn file: the examples, the export zoo, the grammar cases and the golden cases. */
const FILES = execFileSync('git', ['ls-files', '*.cnn'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f.endsWith('.cnn'))
  // Golden cases may be added before they are committed.
  .concat(['test/golden/cases/layers.cnn', 'test/golden/cases/errors.cnn', 'test/golden/cases/spatial.cnn'])
  .filter((f, i, all) => all.indexOf(f) === i && existsSync(join(ROOT, f)));

function golden(name: string, actual: string): void {
  const path = join(EXPECTED, name);
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE && process.env.CI) throw new Error(`missing golden file ${name}: run with UPDATE_GOLDEN=1 and commit it`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(path, 'utf8'));
}

function key(file: string): string {
  return file.replace(/\.cnn$/, '').replace(/[\\/]/g, '__');
}

/** Paths as the files are named in the repo, so the goldens do not depend on the checkout's place. */
function relative(text: string): string {
  return text.split(`${ROOT}/`).join('');
}

describe('golden outputs of every tracked network', () => {
  for (const file of FILES) {
    it(file, async () => {
      const abs = join(ROOT, file);
      const k = key(file);
      const analysis = analyzeText(readFileSync(abs, 'utf8'));
      if (analysis.networks.length) {
        const a = await cli('analyze', abs, '--json', '--all');
        golden(`${k}.analyze.json`, relative(a.out) + `\nexit ${a.code}\n`);
        const t = await cli('analyze', abs, '--all');
        golden(`${k}.analyze.txt`, relative(`${t.out}\n--- stderr\n${t.err}\nexit ${t.code}\n`));
        for (const n of analysis.networks) {
          const p = await cli('params', abs, '--json', '--network', n.graph.network);
          golden(`${k}.${n.graph.network}.params.json`, relative(p.out) + `\nexit ${p.code}\n`);
        }
      }
      const c = await cli('check', abs);
      golden(`${k}.check.txt`, relative(`${c.out}\n--- stderr\n${c.err}\nexit ${c.code}\n`));
    });
  }
});

/** Hovers at each statement's keyword, in files that use every layer kind and composition. */
const HOVERED = ['examples/googlenet.cnn', 'examples/resnet18.cnn', 'test/export/zoo.cnn', 'test/golden/cases/layers.cnn', 'test/golden/cases/errors.cnn', 'test/golden/cases/spatial.cnn'];

describe('golden hovers', () => {
  for (const file of HOVERED) {
    it(file, () => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const model = buildModel(text, 1);
      const parts: string[] = [];
      for (const def of model.file.definitions) {
        const at = [def.name.range.start.offset, ...collectStatements(def.body.statements).map((s) => s.keyword.range.start.offset)];
        for (const offset of at) {
          const h = hover(model, offset, DEFAULT_SETTINGS);
          const pos = model.analysis.parsed.lines.positionAt(offset);
          const value = h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '(none)';
          parts.push(`### ${pos.line + 1}:${pos.character + 1}\n${value}`);
        }
      }
      golden(`${key(file)}.hover.md`, `${parts.join('\n\n')}\n`);
    });
  }
});

it('the golden files cover every tracked network file', () => {
  expect(FILES.length).toBeGreaterThanOrEqual(15);
  expect(FILES.map((f) => basename(f))).toContain('resnet152.cnn');
});

/** The PyTorch modules exported from networks that use every layer kind. */
const EXPORTED = ['test/export/zoo.cnn', 'examples/googlenet.cnn', 'examples/resnet18.cnn', 'test/golden/cases/layers.cnn', 'test/golden/cases/spatial.cnn'];

describe('golden PyTorch exports', () => {
  for (const file of EXPORTED) {
    it(file, () => {
      const analysis = analyzeText(readFileSync(join(ROOT, file), 'utf8'));
      const parts = analysis.networks.map((n) => exportPytorch(n, { source: file }));
      golden(`${key(file)}.pytorch.py`, parts.join('\n# ----\n'));
    });
  }
});
