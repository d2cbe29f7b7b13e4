/**
 * Inlay hints through the model's end-line index (src/server/hints.ts) against the way they
 * were found before it, a scan of every statement with a pairwise test of which ones enclose
 * which: the same statements on every line, for the examples and random programs; in slices
 * the same hints as at once; resolved tooltips the same as eager ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HintJob, hintTooltip, inlayHints, lineSummaries } from '../../src/server/hints';
import { buildModel, type DocModel, type Entry } from '../../src/server/model';
import { DEFAULT_SETTINGS } from '../../src/server/settings';
import { ROOT } from './client';
import { program, rng } from './programs';

const examples = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.cnn'))
  .map((f) => readFileSync(join(ROOT, 'examples', f), 'utf8'));

/** The statements each line's hint is about, found the old way: every entry, every pair. */
function oracle(model: DocModel): Map<number, number[]> {
  const byLine = new Map<number, Entry[]>();
  for (const e of model.entries) {
    if (!e.stmt || e.instances.length === 0) continue;
    const list = byLine.get(e.range.end.line) ?? [];
    list.push(e);
    byLine.set(e.range.end.line, list);
  }
  const out = new Map<number, number[]>();
  for (const [line, list] of byLine) {
    const maximal = list.filter(
      (e) => !list.some((o) => o !== e && o.range.start.offset <= e.range.start.offset && e.range.end.offset <= o.range.end.offset && (o.range.start.offset < e.range.start.offset || o.range.end.offset > e.range.end.offset)),
    );
    maximal.sort((a, b) => a.range.end.offset - b.range.end.offset);
    const useful = maximal.filter((e) => {
      const inst = e.instances[0];
      const layer = e.stmt!.kind === 'call' && model.analysis.networks[inst.network].graph.nodes[inst.own[0]]?.attrs.kind === 'input';
      return !layer;
    });
    if (useful.length) out.set(line, useful.map((e) => e.id));
  }
  return out;
}

function indexed(model: DocModel): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let line = 0; line < model.analysis.parsed.lines.lineCount; line++) {
    const sums = lineSummaries(model, line);
    if (sums) out.set(line, sums.map((s) => s.entry.id));
  }
  return out;
}

const ALL = { start: { line: 0, character: 0 }, end: { line: 100_000, character: 0 } };

describe('inlay hints by the end-line index', () => {
  it('find the statements the all-pairs scan finds, on the examples and on random programs', () => {
    const r = rng(7);
    const texts = [...examples, ...Array.from({ length: 80 }, () => program(r))];
    let lines = 0;
    for (const text of texts) {
      const model = buildModel(text, 1);
      const want = oracle(model);
      expect(indexed(model)).toEqual(want);
      lines += want.size;
    }
    expect(lines).toBeGreaterThan(1000);
  });

  it('give in slices what they give at once, and resolve to the tooltips they would carry', () => {
    const long = ['network L {', '  input 8x16x16', ...Array.from({ length: 1500 }, (_, i) => ['  conv 8 k=3 p=1', '  bn; relu', '  Down(8, s=1)'][i % 3]), '}', 'block Down(c, s=2) {', '  conv c k=3 s=s p=1', '}'];
    for (const text of [examples.find((t) => t.includes('ResNet152'))!, long.join('\n')]) {
      const model = buildModel(text, 1);
      const eager = inlayHints(model, ALL, DEFAULT_SETTINGS, 'file:///r.cnn');
      const job = new HintJob(model, ALL, DEFAULT_SETTINGS, 'file:///r.cnn', { tooltips: false, data: [1, 2] });
      let slices = 1;
      while (!job.run(0)) slices++;
      if (text.startsWith('network L')) expect(slices).toBeGreaterThan(3);
      expect(job.hints.length).toBe(eager.length);
      for (let i = 0; i < eager.length; i++) {
        const { tooltip, ...rest } = eager[i];
        expect(job.hints[i]).toEqual({ ...rest, data: [1, 2] });
        expect(hintTooltip(model, eager[i].position.line, DEFAULT_SETTINGS)).toEqual(tooltip);
      }
    }
  });

  it('ask only the lines of the range', () => {
    const model = buildModel(examples.find((t) => t.includes('AlexNet'))!, 1);
    const part = inlayHints(model, { start: { line: 4, character: 0 }, end: { line: 6, character: 0 } }, DEFAULT_SETTINGS, 'x');
    expect(part.map((h) => h.position.line)).toEqual([4, 5, 6].filter((l) => lineSummaries(model, l)));
    expect(inlayHints(model, { start: { line: 500, character: 0 }, end: { line: 900, character: 0 } }, DEFAULT_SETTINGS, 'x')).toEqual([]);
  });

  it('sum every statement of a long line, and list a dozen of them in the tooltip', () => {
    const stmts = Array.from({ length: 3000 }, (_, i) => ['conv 8 k=3 p=1 bias=false', 'bn', 'relu'][i % 3]);
    const model = buildModel(`network N { input 8x8x8; ${stmts.join('; ')} }`, 1);
    const [h] = inlayHints(model, ALL, { ...DEFAULT_SETTINGS, inlayHints: { ...DEFAULT_SETTINGS.inlayHints, params: true } }, 'x');
    // 1,000 convs of 8·8·3·3 weights and 1,000 batch norms of 2·8.
    expect(h.label).toBe('→ 8×8×8 · 592K params');
    const tip = (h.tooltip as { value: string }).value;
    expect(tip.match(/\*\*(conv|bn|relu)\*\*/g)).toHaveLength(12);
    expect(tip).toContain('and 2,988 more statements on this line');
  });
});
