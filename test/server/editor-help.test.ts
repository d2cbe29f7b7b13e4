/**
 * The editor's help as a new user meets it (issue 13): hints that fit VS Code's 43 characters
 * whole, hints and totals that say so past an error, quick fixes for a residual's mismatch (in
 * the block's own terms) and a pool's stride drop that leave the file clean, and completion
 * that knows where the cursor is.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CodeAction, InlayHint, InlayHintLabelPart, TextEdit } from 'vscode-languageserver';
import { LAYER_DEFS } from '../../src/layers';
import { codeActions } from '../../src/server/actions';
import { NO_FEATURES } from '../../src/server/client';
import { completions } from '../../src/server/completion';
import { inlayHints } from '../../src/server/hints';
import { hover } from '../../src/server/hover';
import { codeLenses } from '../../src/server/lens';
import { buildModel } from '../../src/server/model';
import { DEFAULT_SETTINGS, normalizeSettings, type Settings } from '../../src/server/settings';
import { documentSymbols } from '../../src/server/symbols';
import { ROOT, applyEdits } from './client';
import { program, randomChange, rng } from './programs';

const ALL = { start: { line: 0, character: 0 }, end: { line: 1_000_000, character: 0 } };
const examples = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.cnn'))
  .map((f) => [f, readFileSync(join(ROOT, 'examples', f), 'utf8')] as const);

const label = (h: InlayHint) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''));
const withAll = (maxLength?: number): Settings => ({
  ...DEFAULT_SETTINGS,
  inlayHints: { shape: true, receptiveField: true, macs: true, params: true, memory: true, maxLength: maxLength ?? DEFAULT_SETTINGS.inlayHints.maxLength },
});
const hintsOf = (text: string, settings: Settings = DEFAULT_SETTINGS) => inlayHints(buildModel(text, 1), ALL, settings, 'file:///t.cnn');
const byLine = (hs: InlayHint[]) => new Map(hs.map((h) => [h.position.line, label(h)]));

describe('inlay hints fit VS Code (editor.inlayHints.maximumLength = 43)', () => {
  it('keep every label within 43 characters, cut only between whole figures, the call first', () => {
    let lines = 0;
    let cut = 0;
    for (const [, text] of examples) {
      const full = byLine(hintsOf(text, withAll(0)));
      for (const [line, l] of byLine(hintsOf(text, withAll()))) {
        const whole = full.get(line)!;
        expect(l.length, l).toBeLessThanOrEqual(43);
        // A prefix of the whole label that ends at a figure's end: never mid-number.
        expect(whole.startsWith(l), `${l} | ${whole}`).toBe(true);
        expect(whole.length === l.length || whole.slice(l.length).startsWith(' · '), `${l} | ${whole}`).toBe(true);
        if (whole.length > l.length) cut++;
        // Inside a block, which call the figures are for comes right after the shape.
        if (/\(1 of \d+\)|\(call\)/.test(whole)) expect(l).toMatch(/^→ [\d×?]+ (\(1 of \d+\)|\(call\))/);
        lines++;
      }
    }
    expect(lines).toBeGreaterThan(200);
    expect(cut).toBeGreaterThan(50);
  });

  it("keeps a block hint's (1 of 16) with every figure turned on, and drops whole figures after it", () => {
    const hs = byLine(hintsOf(readFileSync(join(ROOT, 'examples/resnet50.cnn'), 'utf8'), withAll()));
    // conv1 of Bottleneck: 64×56×56, first of 16 calls, RF 11/4, then MACs fit and params do not.
    const conv1 = [...hs.values()].find((l) => l.startsWith('→ 64×56×56 (1 of 16) · RF 11/4'))!;
    expect(conv1).toBe('→ 64×56×56 (1 of 16) · RF 11/4 · 12.8M MACs');
  });

  it('takes cnn.inlayHints.maxLength (0: no limit) and moves nothing it drops out of the tooltip', () => {
    expect(normalizeSettings({}).inlayHints.maxLength).toBe(43);
    expect(normalizeSettings({ inlayHints: { maxLength: 0 } }).inlayHints.maxLength).toBe(0);
    expect(normalizeSettings({ 'inlayHints.maxLength': 20 }).inlayHints.maxLength).toBe(20);
    expect(normalizeSettings({ inlayHints: { maxLength: -3 } }).inlayHints.maxLength).toBe(43);
    const alex = examples.find(([f]) => f === 'alexnet.cnn')![1];
    const [short] = hintsOf(alex, withAll(20)).filter((h) => h.position.line === 4);
    expect(label(short)).toBe('→ 64×56×56 · RF 11/4');
    const tip = (short.tooltip as { value: string }).value;
    for (const figure of ['params 23,296', 'MACs 72,855,552', 'activations 802,816 B']) expect(tip).toContain(figure);
    // The shape stays even where nothing else fits.
    expect(label(hintsOf(alex, withAll(3)).find((h) => h.position.line === 4)!)).toBe('→ 64×56×56');
  });
});

describe('hints and totals past an error', () => {
  const broken = [
    'network N {', //              0
    '  input 64x56x56', //         1
    '  conv 64 k=3 p=1', //        2
    '  residual {', //             3
    '    conv 128 k=3 p=1', //     4
    '  }', //                      5
    '  conv 32 k=3', //            6
    '  gap', //                    7
    '}',
  ].join('\n');

  it('say the shapes after the error are unreliable, and the ones before it stay', () => {
    const hs = hintsOf(broken);
    const lines = byLine(hs);
    expect(lines.get(2)).toBe('→ 64×56×56');
    expect(lines.get(4)).toBe('→ 128×56×56'); // the body itself is fine
    expect(lines.get(5)).toBe('→ ? (unreliable: error on line 4)'); // the residual, which ends here
    expect(lines.get(6)).toBe('→ ? (unreliable: error on line 4)');
    expect(lines.get(7)).toBe('→ ? (unreliable: error on line 4)');
    // The part links to the error and says what it is.
    const part = (hs.find((h) => h.position.line === 6)!.label as InlayHintLabelPart[])[1];
    expect(part.location?.range.start.line).toBe(3);
    expect((part.tooltip as { value: string }).value).toContain('residual: the body gives 128×56×56 but the shortcut gives 64×56×56');
    const tip = (hs.find((h) => h.position.line === 6)!.tooltip as { value: string }).value;
    expect(tip).toMatch(/^⚠ _Unreliable: these figures depend on the error on line 4/);
  });

  it('mark the erring layer itself, and what a bad argument breaks', () => {
    const lines = byLine(hintsOf('network N {\n  input 3x32x32\n  conv 8 k=3\n  conv 8 k=3 g=3\n  relu\n}'));
    expect(lines.get(2)).toBe('→ 8×30×30');
    expect(lines.get(3)).toBe('→ ? (error on this line)');
    expect(lines.get(4)).toBe('→ ? (unreliable: error on line 4)');
    const arg = byLine(hintsOf('network N {\n  input 3x32x32\n  conv 8 k=3\n  conv 8 k=3 foo=1\n  relu\n}'));
    expect(arg.get(2)).toBe('→ 8×30×30');
    expect(arg.get(4)).toMatch(/^→ \? /);
    // An error of names leaves the figures as they are.
    const names = buildModel('network N {\n  input 3x8x8\n  x: conv 4 k=3\n  x: conv 4 k=3\n  relu\n}', 1);
    expect(names.analysis.diagnostics.map((d) => d.code)).toContain('duplicate-label');
    expect([...byLine(inlayHints(names, ALL, DEFAULT_SETTINGS, 'u')).values()]).toEqual(['→ 4×6×6', '→ 4×4×4', '→ 4×4×4']);
  });

  it('leave a branch that does not read the erring layer alone, and an error in one call of a block to that call', () => {
    const text = [
      'network N {',
      '  input 16x8x8',
      '  concat {',
      '    branch { conv 8 k=1 }',
      '    branch { conv 8 k=3 g=3 }',
      '  }',
      '}',
    ].join('\n');
    const lines = byLine(hintsOf(text));
    expect(lines.get(3)).toBe('→ 8×8×8');
    expect(lines.get(4)).toBe('→ ? (error on this line)');
    expect(lines.get(5)).toBe('→ ? (unreliable: error on line 5)');
    const calls = byLine(hintsOf(['network M {', '  input 8x8x8', '  B(8)', '  B(6)', '  relu', '}', 'block B(c) {', '  conv c k=1 g=4', '}'].join('\n')));
    expect(calls.get(2)).toBe('→ 8×8×8 · Σ 24 params · 1.02K MACs');
    expect(calls.get(3)).toBe('→ ? (unreliable: error on line 8)');
    expect(calls.get(4)).toBe('→ ? (unreliable: error on line 8)');
    expect(calls.get(7)).toBe('→ 8×8×8 (1 of 2)'); // the first call's figures, which hold
  });

  it('keep the totals lens and the network hover from claiming a full total', () => {
    const m = buildModel(broken, 1);
    const [lens] = codeLenses(m, 'u', DEFAULT_SETTINGS, new Set());
    // What does not read the sum: conv 64·64·9 + 64 = 36,928 and the body's 128·64·9 + 128 =
    // 73,856 params; 64·56·56·576 + 128·56·56·576 = 346.8M MACs.
    expect(lens.command!.title).toBe('⚠ no totals: error on line 4 · before it 111K params · 347M MACs');
    const h = hover(m, broken.indexOf('N {'), DEFAULT_SETTINGS)!;
    expect((h.contents as { value: string }).value).toContain("⚠ _Not the network's totals: the error on line 4");
    // A clean network's lens and hints are as they were.
    const alex = buildModel(examples.find(([f]) => f === 'alexnet.cnn')![1], 1);
    expect(codeLenses(alex, 'u', DEFAULT_SETTINGS, new Set())[0].command!.title).toMatch(/^61\.1M params · 717M MACs · peak /);
    expect(inlayHints(alex, ALL, DEFAULT_SETTINGS, 'u').some((x) => label(x).includes('?'))).toBe(false);
    // Nor does the outline give a guessed shape.
    const [net] = documentSymbols(buildModel(broken.replace('  conv 32 k=3', '  tail: conv 32 k=3'), 1));
    expect(net.detail).toBe('64×56×56 → ?');
    expect(net.children!.map((c) => [c.name, c.detail])).toEqual([['tail', 'conv → ?']]);
  });

  it('hold nothing back on the examples, which are clean', () => {
    for (const [f, text] of examples) {
      const hs = hintsOf(text);
      expect(hs.filter((h) => label(h).includes('unreliable') || label(h).includes('→ ?')), f).toEqual([]);
    }
  });
});

function actionsAt(text: string, line: number): CodeAction[] {
  return codeActions(buildModel(text, 1), 'u', { start: { line, character: 0 }, end: { line, character: 0 } }, []);
}

function apply(text: string, a: CodeAction): string {
  return applyEdits(text, a.edit!.changes!.u as TextEdit[]);
}

const problems = (text: string) => buildModel(text, 1).analysis.diagnostics.map((d) => `${d.code}: ${d.message}`);

describe('quick fixes', () => {
  it("project a residual's shortcut in the block's own terms, for every call at once", () => {
    const text = [
      'network N {',
      '  input 64x56x56',
      '  Bottleneck(64)',
      '  Bottleneck(128, s=2)',
      '}',
      'block Bottleneck(c, s=1) {',
      '  residual {',
      '    conv c k=1 bias=false; bn; relu',
      '    conv c k=3 s=s p=1 bias=false; bn; relu',
      '    conv c*4 k=1 bias=false; bn',
      '  }',
      '  relu',
      '}',
    ].join('\n');
    expect(problems(text)).toHaveLength(2);
    const [fix] = actionsAt(text, 6);
    expect(fix.title).toBe("Project the shortcut: 'conv c*4 k=1 s=s bias=false; bn' (gives 256×56×56)");
    expect(fix.kind).toBe('quickfix');
    expect(fix.isPreferred).toBe(true);
    expect(fix.diagnostics!.map((d) => d.code)).toEqual(['channel-mismatch', 'shape-mismatch']);
    const fixed = apply(text, fix);
    expect(fixed).toContain('  } shortcut { conv c*4 k=1 s=s bias=false; bn }\n');
    expect(problems(fixed)).toEqual([]);
    // Lines of the body offer no projection: the problem is at the keyword.
    expect(actionsAt(text, 8).filter((a) => a.title.startsWith('Project'))).toEqual([]);
  });

  it('write a literal at network level, and fill an empty shortcut', () => {
    const text = 'network N {\n  input 16x32x32\n  residual {\n    conv 32 k=3 s=2 p=1\n  } shortcut { }\n}';
    const [fix] = actionsAt(text, 2);
    expect(fix.title).toBe("Project the shortcut: 'conv 32 k=1 s=2 bias=false; bn' (gives 32×16×16)");
    const fixed = apply(text, fix);
    expect(fixed).toContain('} shortcut { conv 32 k=1 s=2 bias=false; bn }');
    expect(problems(fixed)).toEqual([]);
    // A shortcut with statements of its own is the user's: no projection is added to it.
    expect(actionsAt('network N {\n  input 16x32x32\n  residual { conv 32 k=3 p=1 } shortcut { relu }\n}', 2).filter((a) => a.title.startsWith('Project'))).toEqual([]);
  });

  it("project a differing branch of add to the other's shape, in the block's terms", () => {
    const text = ['network N {', '  input 16x8x8', '  B(8)', '}', 'block B(c) {', '  add {', '    branch { conv c k=3 p=1 }', '    branch { conv c*2 k=3 p=1 }', '  }', '}'].join('\n');
    expect(problems(text)).toEqual(['channel-mismatch: add: the branches give 8×8×8, 16×8×8; they must all match to be added']);
    const [fix] = actionsAt(text, 5);
    expect(fix.title).toBe("Project branch 2 to the first's 8×8×8: append 'conv c k=1 bias=false; bn'");
    expect(fix.kind).toBe('quickfix');
    const fixed = apply(text, fix);
    expect(fixed).toContain('    branch { conv c*2 k=3 p=1; conv c k=1 bias=false; bn }');
    expect(problems(fixed)).toEqual([]);
    // The second downsamples: the first is the one a strided 1×1 conv can bring to it.
    const down = text.replace('conv c*2 k=3 p=1', 'conv c*2 k=3 s=2 p=1');
    const [back] = actionsAt(down, 5);
    expect(back.title).toBe("Project branch 1 to the second's 16×4×4: append 'conv c*2 k=1 s=2 bias=false; bn'");
    expect(problems(apply(down, back))).toEqual([]);
  });

  it("fix a pool's stride drop with ceil=true or padding, as the warning says (PyTorch: both give 56×56 from 112)", () => {
    for (const kind of ['maxpool', 'avgpool']) {
      const text = `network N {\n  input 3x224x224\n  conv 64 k=7 s=2 p=3\n  ${kind} k=3 s=2\n}`;
      expect(problems(text).map((p) => p.split(':')[0])).toEqual(['stride-drops']);
      const acts = actionsAt(text, 3);
      expect(acts.map((a) => [a.title, a.kind, !!a.isPreferred])).toEqual([
        ['Set ceil=true (output 56×56: every input row is seen)', 'quickfix', true],
        ['Set p=1 (output 56×56: every input row is seen)', 'quickfix', false],
      ]);
      for (const a of acts) {
        const fixed = apply(text, a);
        expect(problems(fixed)).toEqual([]);
        const m = buildModel(fixed, 1);
        expect(m.analysis.networks[0].output).toEqual([64, 56, 56]);
      }
    }
  });

  it('keep conv fixes (groups in the block terms where written) and spell no layer kind in the server', () => {
    const g = actionsAt('network N {\n  input 16x8x8\n  conv 24 k=3 p=1 g=5\n}', 2).find((a) => a.title.startsWith('Set g='))!;
    expect(g.title).toBe('Set g=4');
    expect(g.isPreferred).toBe(true);
    // A conv's stride drop ("adjust the padding"): the padding that gives ⌈32/2⌉ = 16 and sees every row.
    const drop = 'network N {\n  input 3x32x32\n  conv 8 k=3 s=2\n}';
    expect(problems(drop).map((p) => p.split(':')[0])).toEqual(['stride-drops']);
    const [pad] = actionsAt(drop, 2);
    expect([pad.title, pad.kind, pad.isPreferred]).toEqual(['Set p=1 (gives 16×16 = ⌈input/stride⌉)', 'quickfix', true]);
    expect(problems(apply(drop, pad))).toEqual([]);
    const actions = readFileSync(join(ROOT, 'src/server/actions.ts'), 'utf8');
    for (const kind of Object.keys(LAYER_DEFS)) expect(actions, kind).not.toMatch(new RegExp(`['"\`]${kind}['"\`]`));
  });
});

describe('completion knows where it is', () => {
  const F = { ...NO_FEATURES, snippets: true, commands: new Set<string>() };
  const at = (t: string) => {
    const o = t.indexOf('|');
    const text = t.replace('|', '');
    return completions(buildModel(text, 1), o, F).map((i) => i.label);
  };

  it('offers network and block only at top level, also inside a network the parser has not closed', () => {
    expect(at('|')).toEqual(['network', 'block']);
    expect(at('network N { input 3x8x8 }\n// {\n|')).toEqual(['network', 'block']);
    for (const t of ['network N {\n  input 3x32x32\n  |\n}', 'network N {\n  input 3x32x32\n  conv 8 k=3\n  |', 'network N { input 3x8x8 /* } */\n  |']) {
      const items = at(t);
      expect(items).toContain('conv');
      expect(items).not.toContain('network');
      expect(items).not.toContain('block');
      expect(items).not.toContain('branch');
    }
  });

  it('offers only branch directly inside concat, add and mul, and statements inside a branch or a residual', () => {
    for (const m of ['concat', 'add', 'mul']) expect(at(`network N {\n  input 3x32x32\n  ${m} {\n    |\n  }\n}`)).toEqual(['branch']);
    expect(at('network N {\n  input 3x32x32\n  lbl: concat { br|')).toEqual(['branch']);
    const inBranch = at('network N {\n  input 3x32x32\n  concat {\n    branch { | }\n  }\n}');
    expect(inBranch).toContain('conv');
    expect(inBranch).not.toContain('branch');
    expect(at('network N {\n  input 3x32x32\n  residual { | }\n}')).not.toContain('branch');
    // After a residual's body: its shortcut first.
    expect(at('network N {\n  input 3x32x32\n  residual { conv 3 k=3 p=1 } sh|\n}')[0]).toBe('shortcut');
    expect(at('network N {\n  input 3x32x32\n  conv 3 k=3\n  |\n}')).not.toContain('shortcut');
  });

  it("offers each kind's named arguments after its keyword, from the registry", () => {
    expect(at('network N {\n  input 3x32x32\n  maxpool |\n}')).toEqual(['k=', 's=', 'p=', 'ceil=']);
    expect(at('network N {\n  input 3x32x32\n  maxpool 3 |\n}')).toEqual(['s=', 'p=', 'ceil=']);
    expect(at('network N {\n  input 3x32x32\n  conv 8 |\n}')).toEqual(['k=', 's=', 'p=', 'd=', 'g=', 'bias=']);
    expect(at('block B(c) {\n  conv c k=3 |')).toEqual(['s=', 'p=', 'd=', 'g=', 'bias=', 'c']);
    for (const def of Object.values(LAYER_DEFS)) {
      const spec = def.spec;
      if (!spec || spec.keyword === 'input') continue;
      expect(at(`network N {\n  input 3x32x32\n  ${spec.keyword} |\n}`)).toEqual(spec.args.map((a) => `${a.name}=`));
    }
  });
});

describe('on random programs and broken edits', () => {
  it('answers fixes, hints, hovers and completions without throwing, and every fix it offers for an error it attaches', () => {
    const r = rng(13);
    let fixes = 0;
    for (let n = 0; n < 60; n++) {
      let text = program(r);
      for (let k = 0; k < 3; k++) {
        const m = buildModel(text, 1);
        const lines = m.analysis.parsed.lines.lineCount;
        inlayHints(m, ALL, withAll(), 'u');
        codeLenses(m, 'u', DEFAULT_SETTINGS, new Set());
        for (let line = 0; line < lines; line++) {
          for (const a of codeActions(m, 'u', { start: { line, character: 0 }, end: { line, character: 0 } }, [])) {
            expect(a.edit?.changes?.u?.length, a.title).toBeGreaterThan(0);
            if (a.kind === 'quickfix') expect(a.diagnostics?.length, a.title).toBeGreaterThan(0);
            fixes++;
          }
        }
        for (let i = 0; i < 10; i++) {
          const o = r.int(0, text.length);
          completions(m, o, { ...NO_FEATURES, snippets: true });
          hover(m, o, DEFAULT_SETTINGS);
        }
        text = randomChange(r, text).text;
      }
    }
    expect(fixes).toBeGreaterThan(20);
  });
});
