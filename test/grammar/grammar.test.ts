/**
 * Tests of the TextMate grammar (syntaxes/cnn.tmLanguage.json), the language configuration and
 * the snippets.
 *
 * The grammar runs in the real engine VS Code uses (vscode-textmate + vscode-oniguruma). The files
 * in test/grammar/cases/ are in the vscode-tmgrammar-test format, so the same files also work with
 * `npx vscode-tmgrammar-test -g syntaxes/cnn.tmLanguage.json 'test/grammar/cases/*.cnn'`:
 *
 *   // SYNTAX TEST "source.cnn" "description"      first line
 *   conv 16 k=3
 *   // <---- support.function.layer.cnn            columns 0..3 of the line above
 *   //   ^^ constant.numeric.integer.cnn           the columns under the carets
 *   //      ^ - constant.numeric                   scopes after '-' must be absent
 *
 * Every listed scope must occur, in order, in the scope stack of each marked character.
 */
import { allLayerNames } from '../../src/layers';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vsctm from 'vscode-textmate';
import onig from 'vscode-oniguruma';
import { beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const grammarPath = join(root, 'syntaxes/cnn.tmLanguage.json');
const casesDir = join(here, 'cases');

/** Every layer keyword and alias the registry knows: the grammar must scope each one. */
const LAYERS = allLayerNames();
const KEYWORDS = ['network', 'block', 'repeat', 'residual', 'shortcut', 'add', 'concat', 'branch', 'aux', 'if', 'else'];

interface Token {
  text: string;
  start: number;
  end: number;
  scopes: string[];
}

let grammar: vsctm.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await onig.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new onig.OnigScanner(patterns),
      createOnigString: (s: string) => new onig.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === 'source.cnn' ? vsctm.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  const loaded = await registry.loadGrammar('source.cnn');
  if (!loaded) throw new Error('source.cnn did not load');
  grammar = loaded;
});

/** Tokenises a whole text, line by line, carrying the rule stack as VS Code does. */
function tokenize(text: string): Token[][] {
  let stack = vsctm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({
      text: line.slice(t.startIndex, Math.min(t.endIndex, line.length)),
      start: t.startIndex,
      end: t.endIndex,
      scopes: t.scopes,
    }));
  });
}

/** The non-blank tokens of a one-line text as `text scope` pairs, the scope being the innermost. */
function tokensOf(line: string): [string, string][] {
  return tokenize(line)[0]
    .filter((t) => t.text.trim() !== '')
    .map((t) => [t.text, t.scopes[t.scopes.length - 1]]);
}

/** The scope stack of the token that is exactly `word` (the nth time it occurs as a token). */
function scopesOf(line: string, word: string, nth = 1): string[] {
  const hits = tokenize(line)[0].filter((t) => t.text === word);
  if (hits.length < nth) throw new Error(`no token ${JSON.stringify(word)} (#${nth}) in ${JSON.stringify(line)}`);
  return hits[nth - 1].scopes;
}

function hasInOrder(scopes: string[], wanted: string[]): boolean {
  let i = 0;
  for (const s of scopes) if (i < wanted.length && s === wanted[i]) i++;
  return i === wanted.length;
}

const ASSERTION = /^\/\/(?:(\s*)(\^+)|\s*<(~*)(-+))\s*(.*)$/;

/** Runs one vscode-tmgrammar-test style file; returns the failed assertions as readable lines. */
function runCaseFile(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (!/^\/\/ SYNTAX TEST "source\.cnn"/.test(lines[0])) return ['the first line must be // SYNTAX TEST "source.cnn" ...'];
  const tokens = tokenize(text);
  const failures: string[] = [];
  let source = -1;
  let checked = 0;
  lines.forEach((line, n) => {
    const m = ASSERTION.exec(line);
    if (!m) {
      source = n;
      return;
    }
    const [, pad, carets, tildes, dashes, rest] = m;
    const from = carets !== undefined ? 2 + pad.length : tildes.length;
    const to = from + (carets ?? dashes).length;
    const [pos, neg = ''] = rest.startsWith('-') ? ['', rest.slice(1)] : rest.split(/\s+-\s+/);
    const wanted = pos.split(/\s+/).filter(Boolean);
    const banned = neg.split(/\s+/).filter(Boolean);
    if (source < 1 || (wanted.length === 0 && banned.length === 0)) {
      failures.push(`line ${n + 1}: malformed assertion`);
      return;
    }
    for (let col = from; col < to; col++) {
      const tok = tokens[source].find((t) => t.start <= col && col < t.end);
      const where = `line ${source + 1} col ${col} (${JSON.stringify(lines[source].slice(col, col + 1))})`;
      if (!tok) {
        failures.push(`${where}: no token`);
        continue;
      }
      checked++;
      if (!hasInOrder(tok.scopes, wanted)) failures.push(`${where}: wanted ${wanted.join(' ')}, got ${tok.scopes.join(' ')}`);
      const present = banned.filter((b) => tok.scopes.some((s) => s === b || s.startsWith(b + '.')));
      if (present.length) failures.push(`${where}: must not have ${present.join(' ')}, got ${tok.scopes.join(' ')}`);
    }
  });
  if (checked === 0) failures.push('no assertions');
  return failures;
}

describe('grammar: assertion files in test/grammar/cases', () => {
  const files = readdirSync(casesDir).filter((f) => f.endsWith('.cnn'));
  it('has case files', () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    it(file, () => {
      expect(runCaseFile(readFileSync(join(casesDir, file), 'utf8'))).toEqual([]);
    });
  }
});

describe('grammar: tokens', () => {
  it('every pattern compiles in Oniguruma', () => {
    const bad: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (['match', 'begin', 'end', 'while'].includes(key) && typeof value === 'string') {
          try {
            new onig.OnigScanner([value]).dispose();
          } catch (e) {
            bad.push(`${value}: ${String(e)}`);
          }
        } else walk(value);
      }
    };
    const raw = JSON.parse(readFileSync(grammarPath, 'utf8'));
    expect(raw.scopeName).toBe('source.cnn');
    walk(raw);
    expect(bad).toEqual([]);
  });

  it('scopes every layer name as support.function', () => {
    for (const layer of LAYERS) {
      expect(tokensOf(`  ${layer}`), layer).toEqual([[layer, 'support.function.layer.cnn']]);
    }
  });

  it('scopes every keyword as a keyword, and not names that merely start with one', () => {
    for (const kw of KEYWORDS) {
      expect(scopesOf(`${kw} `, kw).at(-1), kw).toMatch(/^keyword\./);
      expect(scopesOf(`  ${kw}x`, `${kw}x`).at(-1), `${kw}x`).not.toMatch(/^keyword\./);
    }
    expect(scopesOf('  convx 3', 'convx').at(-1)).toBe('entity.name.function.call.cnn');
  });

  it('scopes mul as a keyword before its brace only, a name elsewhere', () => {
    expect(scopesOf('  mul { branch { } }', 'mul').at(-1)).toMatch(/^keyword\./);
    expect(scopesOf('  mul(4)', 'mul').at(-1)).not.toMatch(/^keyword\./);
    expect(scopesOf('block B(mul) { conv mul k=1 }', 'mul').at(-1)).not.toMatch(/^keyword\./);
  });

  it("scopes a choice argument's bare word as a constant, not as the layer or parameter it may be spelt like", () => {
    expect(tokensOf('  gelu approximate=tanh')).toEqual([
      ['gelu', 'support.function.layer.cnn'],
      ['approximate', 'variable.parameter.cnn'],
      ['=', 'keyword.operator.assignment.cnn'],
      ['tanh', 'constant.language.choice.cnn'],
    ]);
    expect(tokensOf('  gelu approximate = none').at(-1)).toEqual(['none', 'constant.language.choice.cnn']);
    // Elsewhere the same word is still a layer, and relu6 is not relu followed by a number.
    expect(tokensOf('  relu6; tanh')).toEqual([
      ['relu6', 'support.function.layer.cnn'],
      [';', 'punctuation.terminator.statement.cnn'],
      ['tanh', 'support.function.layer.cnn'],
    ]);
  });

  it('keeps numbers whole: dimensions, decimals and exponents', () => {
    expect(tokensOf('input 3x224x224')).toEqual([
      ['input', 'support.function.layer.cnn'],
      ['3x224x224', 'constant.numeric.dimensions.cnn'],
    ]);
    expect(tokensOf('bn eps=1e-5')).toEqual([
      ['bn', 'support.function.layer.cnn'],
      ['eps', 'variable.parameter.cnn'],
      ['=', 'keyword.operator.assignment.cnn'],
      ['1e-5', 'constant.numeric.float.cnn'],
    ]);
    for (const n of ['0.75', '.5', '3.', '2.5E+3', '1e-4']) expect(tokensOf(`x=${n}`).at(-1), n).toEqual([n, 'constant.numeric.float.cnn']);
    for (const n of ['7x7', '3X5', '1×1']) expect(tokensOf(`k=${n}`).at(-1), n).toEqual([n, 'constant.numeric.dimensions.cnn']);
    expect(tokensOf('  b2').at(-1)?.[1]).not.toMatch(/numeric/);
  });

  it('names definitions, calls and labels', () => {
    expect(scopesOf('network ResNet18 {', 'ResNet18').at(-1)).toBe('entity.name.type.network.cnn');
    expect(scopesOf('block Down(c, s=2) {', 'Down').at(-1)).toBe('entity.name.function.block.cnn');
    expect(scopesOf('block Down(c, s=2) {', 'c').at(-1)).toBe('variable.parameter.cnn');
    expect(scopesOf('  Down(128, s=2)', 'Down').at(-1)).toBe('entity.name.function.call.cnn');
    expect(scopesOf('  layer1: repeat 2 { Basic(64) }', 'layer1').at(-1)).toBe('entity.name.tag.label.cnn');
    expect(scopesOf('  layer1: repeat 2 { Basic(64) }', 'Basic').at(-1)).toBe('entity.name.function.call.cnn');
    expect(scopesOf('  features: {', 'features').at(-1)).toBe('entity.name.tag.label.cnn');
  });

  it('tells // comments from division, and k=3 from k == 3', () => {
    expect(tokensOf('conv c/2 k=1 // half')).toEqual([
      ['conv', 'support.function.layer.cnn'],
      ['c', 'variable.other.cnn'],
      ['/', 'keyword.operator.arithmetic.cnn'],
      ['2', 'constant.numeric.integer.cnn'],
      ['k', 'variable.parameter.cnn'],
      ['=', 'keyword.operator.assignment.cnn'],
      ['1', 'constant.numeric.integer.cnn'],
      ['//', 'punctuation.definition.comment.cnn'],
      [' half', 'comment.line.double-slash.cnn'],
    ]);
    expect(tokensOf('if k == 3 {').slice(1, 3)).toEqual([
      ['k', 'variable.other.cnn'],
      ['==', 'keyword.operator.comparison.cnn'],
    ]);
  });

  it('carries block comments and open parentheses across lines', () => {
    const lines = tokenize('/* one\nconv 3 k=3\n*/ relu\nDown(\n  c,\n  s=2)\nStem');
    expect(lines[1].every((t) => t.scopes.includes('comment.block.cnn'))).toBe(true);
    expect(lines[2].find((t) => t.text === 'relu')?.scopes.at(-1)).toBe('support.function.layer.cnn');
    expect(lines[4].find((t) => t.text === 'c')?.scopes.at(-1)).toBe('variable.other.cnn');
    expect(lines[5].find((t) => t.text === 's')?.scopes.at(-1)).toBe('variable.parameter.cnn');
    expect(lines[6].find((t) => t.text === 'Stem')?.scopes.at(-1)).toBe('entity.name.function.call.cnn');
  });

  it('does not let an unclosed ( run past the end of its braces', () => {
    const lines = tokenize('  Down(32 {\n  relu\n}');
    expect(lines[1].find((t) => t.text === 'relu')?.scopes.at(-1)).toBe('support.function.layer.cnn');
    expect(lines[1].find((t) => t.text === 'relu')?.scopes).not.toContain('punctuation.section.parens.begin.cnn');
  });
});

describe('language configuration', () => {
  const config = JSON.parse(readFileSync(join(root, 'language-configuration.json'), 'utf8'));

  it('declares the comment tokens and bracket pairs', () => {
    expect(config.comments).toEqual({ lineComment: '//', blockComment: ['/*', '*/'] });
    expect(config.brackets).toEqual([
      ['{', '}'],
      ['(', ')'],
    ]);
  });

  it('has a word pattern that keeps numbers, sizes and names whole', () => {
    const word = new RegExp(`^(?:${config.wordPattern})$`);
    for (const w of ['3x224x224', '7×7', '1e-5', '0.75', '.5', 'conv', 'layer_2']) expect(word.test(w), w).toBe(true);
    expect(new RegExp(config.wordPattern, 'g').exec('k=3')?.[0]).toBe('k');
  });

  it('indents after an open brace and outdents at a closing one', () => {
    const inc = new RegExp(config.indentationRules.increaseIndentPattern);
    const dec = new RegExp(config.indentationRules.decreaseIndentPattern);
    expect(inc.test('network A {')).toBe(true);
    expect(inc.test('  residual {  // body')).toBe(true);
    expect(inc.test('  } shortcut {')).toBe(true);
    expect(inc.test('  conv 3 k=3')).toBe(false);
    expect(inc.test('  { relu }')).toBe(false);
    expect(inc.test('  // {')).toBe(false);
    expect(dec.test('  }')).toBe(true);
    expect(dec.test('  } shortcut {')).toBe(true);
    expect(dec.test('  relu')).toBe(false);
  });

  it('has onEnter rules whose patterns compile', () => {
    for (const rule of config.onEnterRules) {
      for (const key of ['beforeText', 'afterText', 'previousLineText']) if (rule[key]) expect(() => new RegExp(rule[key])).not.toThrow();
    }
  });
});

describe('snippets', () => {
  const snippets: Record<string, { prefix: string | string[]; body: string[]; description: string }> = JSON.parse(
    readFileSync(join(root, 'snippets/cnn.json'), 'utf8'),
  );
  const prefixes = Object.values(snippets).flatMap((s) => (Array.isArray(s.prefix) ? s.prefix : [s.prefix]));

  it('covers the common building blocks', () => {
    for (const p of ['network', 'block', 'vgg', 'basicblock', 'bottleneck', 'inception', 'resnext', 'cbr']) expect(prefixes).toContain(p);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  for (const [name, s] of Object.entries(snippets)) {
    it(`${name}: well formed, and its text highlights without stray names`, () => {
      expect(s.description.length).toBeGreaterThan(0);
      const text = s.body.join('\n');
      // Balanced braces and parentheses once the placeholders are filled with their defaults.
      const filled = text.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
      const depth = (open: string, close: string) => [...filled].reduce((d, c) => (d < 0 ? d : d + (c === open ? 1 : c === close ? -1 : 0)), 0);
      expect(depth('{', '}')).toBe(0);
      expect(depth('(', ')')).toBe(0);
      // Every tab stop number used is a placeholder or $0; no literal '$' left unescaped.
      expect(filled).not.toContain('$');
      // Layer names in the body are layers; nothing outside the grammar's known words is called.
      const calls = tokenize(filled)
        .flat()
        .filter((t) => t.scopes.includes('entity.name.function.call.cnn'))
        .map((t) => t.text);
      expect(calls).toEqual([]);
    });
  }
});
