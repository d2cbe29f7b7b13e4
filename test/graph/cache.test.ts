/**
 * The expansion cache (src/graph/cache.ts) must change nothing but the time: with it, from a
 * fresh one or one an earlier version of the text filled, every graph, figure, diagnostic and
 * the server's statement-to-layer map are what a plain analysis gives.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeText, ExpansionCache, type FileAnalysis } from '../../src/analysis';
import { IncrementalParser } from '../../src/language';
import { mulberry32 } from '../../src/engine/weights/init';
import { DocModel } from '../../src/server/model';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.cnn'))
  .map((f) => readFileSync(join(root, 'examples', f), 'utf8'));

/** Everything an analysis gives, as plain data; call sites by the identity the model uses. */
function snapshot(text: string, a: FileAnalysis): unknown {
  const model = new DocModel(text, 1, a);
  return {
    diagnostics: a.diagnostics,
    networks: a.networks.map((n) => ({
      nodes: n.graph.nodes.map(({ id, attrs, inputs, path, range, nameRange, calls, aux, residual }) => ({ id, attrs, inputs, path, range, nameRange, calls, aux, residual: !!residual })),
      output: n.graph.output,
      auxOutputs: n.graph.auxOutputs,
      layers: n.layers,
      totals: n.totals,
      tensors: n.tensors,
      input: n.input,
      output_: n.output,
    })),
    instances: model.entries.map((e) => e.instances.map((i) => [i.network, i.calls.map((c) => c.range.start.offset), i.nodes, i.own])),
  };
}

function same(text: string, cache: ExpansionCache, parser?: IncrementalParser): FileAnalysis {
  const cached = analyzeText(text, { cache, parser });
  expect(snapshot(text, cached)).toEqual(snapshot(text, analyzeText(text)));
  return cached;
}

const BLOCKY = `network N {
  input 3x32x32
  stem: conv 16 k=3 p=1
  repeat 3 { Res(16) }
  Res(32, s=2, down=true)
  x: Res(32)
  aux { Head(10) }
  Mix(32)
  repeat 2 { Res(32) }
  gap; flatten; linear 10
}
block Res(c, s=1, down=false) {
  residual {
    conv c k=3 s=s p=1 bias=false; bn; relu
    conv c k=3 p=1 bias=false; bn
  } shortcut {
    if down { proj: { conv c k=1 s=s bias=false; bn } }
  }
  relu
}
block Head(n) { gap; flatten; linear n }
block Mix(c) {
  concat { a: branch { Inner(c / 2) } branch { conv c/2 k=1 } }
  add { branch { relu } branch { Inner(c) } }
}
block Inner(c) { conv c k=1; bn; repeat 2 { relu } }`;

describe('expansion cache', () => {
  it('changes nothing on the examples, from a fresh cache and from a filled one', () => {
    for (const text of [...examples, BLOCKY]) {
      const cache = new ExpansionCache();
      same(text, cache);
      const again = same(text, cache);
      // The second analysis expands no block call anew.
      expect(again.cacheStats!.misses).toBe(0);
      // Figures reused by input shape are still per element type.
      const half = analyzeText(text, { cache, dtype: 'float16' });
      expect(snapshot(text, half)).toEqual(snapshot(text, analyzeText(text, { dtype: 'float16' })));
    }
  });

  it('copies repeated calls within one analysis: ResNet-152 expands 8 distinct Bottlenecks for its 50 calls', () => {
    const text = examples.find((t) => t.includes('ResNet152'))!;
    const first = same(text, new ExpansionCache()).cacheStats!;
    expect(first.misses).toBe(8);
    expect(first.hits).toBe(42);
    expect(first.analysisHits).toBeGreaterThan(300);
  });

  it('re-expands an edited block, its callers, and nothing else', () => {
    const cache = new ExpansionCache();
    same(BLOCKY, cache);
    // An edit in the network: every call is copied.
    const net = same(BLOCKY.replace('stem: conv 16 k=3 p=1', 'stem: conv 16 k=5 p=2'), cache).cacheStats!;
    expect(net.misses).toBe(0);
    expect(net.hits).toBeGreaterThan(0);
    // An edit in Inner: Inner and Mix (which calls it) are expanded anew, Res and Head are not.
    const inner = same(BLOCKY.replace('block Inner(c) { conv c k=1;', 'block Inner(c) { conv c k=3 p=1;'), cache).cacheStats!;
    expect(inner.misses).toBe(3); // Mix(32), Inner(16), Inner(32)
    const edited = analyzeText(BLOCKY.replace('block Inner(c) { conv c k=1;', 'block Inner(c) { conv c k=3 p=1;'), { cache });
    expect(edited.cacheStats!.misses).toBe(0);
  });

  it('keeps the layers of a long network by statement across edits, and their figures follow the edits', () => {
    const lines = ['network L {', '  input 8x16x16'];
    for (let i = 0; i < 60; i++) lines.push(['  conv 8 k=3 p=1 bias=false', '  bn', '  relu', '  maxpool k=1'][i % 4]);
    lines.push('}');
    const cache = new ExpansionCache();
    const parser = new IncrementalParser();
    let text = lines.join('\n');
    for (const next of [
      (t: string) => t,
      (t: string) => t.replace('  bn\n  relu', '  bn \n  relu'),
      (t: string) => t.replace('conv 8 k=3 p=1 bias=false\n  bn \n', 'conv 16 k=3 p=1 bias=false\n  bn \n'),
      (t: string) => t.replace('  relu\n', '  relu\n  conv 8 k=5 p=1\n'),
      (t: string) => t.replace('  maxpool k=1\n', ''),
    ]) {
      text = next(text);
      same(text, cache, parser);
    }
  });

  it('never copies a call whose expansion would report something', () => {
    const cache = new ExpansionCache();
    const text = 'network A {\n input 3x8x8\n B(4)\n B(4)\n}\nblock B(c) { conv c k=3; Nope() }';
    const a = same(text, cache);
    expect(a.cacheStats!.hits).toBe(0);
    expect(a.diagnostics.some((d) => d.code === 'unknown-layer')).toBe(true);
    // A block that becomes recursive through an edit of another.
    same('network A {\n input 3x8x8\n X()\n X()\n}\nblock X() { Y() }\nblock Y() { relu }', cache);
    const r = same('network A {\n input 3x8x8\n X()\n X()\n}\nblock X() { Y() }\nblock Y() { X() }', cache);
    expect(r.diagnostics.some((d) => d.code === 'recursion')).toBe(true);
  });

  it('agrees with a plain analysis on random block programs and random edits of them', () => {
    const rand = mulberry32(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const blockNames = ['A', 'B', 'C'];
    const layerLine = (params: string[]) => {
      const c = params.length && rand() < 0.5 ? pick(params) : pick(['4', '8', '16']);
      return pick([`conv ${c} k=${pick(['1', '3'])} p=${pick(['0', '1', 'same'])}`, 'bn', 'relu', `maxpool k=2`, `conv ${c} k=3 s=2 p=1`, `x: conv ${c} k=1`, 'dropout 0.1']);
    };
    const body = (params: string[], depth: number, self: number): string => {
      const out: string[] = [];
      for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) {
        const r = rand();
        if (r < 0.45 || depth > 1) out.push(layerLine(params));
        else if (r < 0.6 && self < 2) out.push(`${blockNames[self + 1 + Math.floor(rand() * (2 - self))]}(${pick(['4', '8', params[0] ?? '2'])})`);
        else if (r < 0.7) out.push(`residual { ${body(params, depth + 1, self)} }`);
        else if (r < 0.78) out.push(`repeat ${pick(['0', '1', '2'])} { ${body(params, depth + 1, self)} }`);
        else if (r < 0.85) out.push(`concat { branch { ${body(params, depth + 1, self)} } branch { relu } }`);
        else if (r < 0.92) out.push(`aux { gap; flatten; linear ${pick(['2', '3'])} }`);
        else out.push(`if ${params.length ? `${pick(params)} > 4` : 'true'} { relu } else { ${body(params, depth + 1, self)} }`);
      }
      return out.join('\n  ');
    };
    const program = () => {
      const blocks = blockNames.map((b, i) => `block ${b}(c, s=1) {\n  ${body(['c', 's'], 0, i)}\n}`);
      const calls = Array.from({ length: 2 + Math.floor(rand() * 5) }, () => pick([`A(${pick(['4', '8'])})`, `repeat 2 { B(4) }`, `C(8)`, 'relu', `A(c=8, s=2)`]));
      return `network N {\n  input 3x${pick(['16x16', '32x32', '8x8'])}\n  ${calls.join('\n  ')}\n}\n${blocks.join('\n')}`;
    };
    const edit = (text: string) => {
      const lines = text.split('\n');
      const i = 1 + Math.floor(rand() * (lines.length - 2));
      const r = rand();
      if (r < 0.3) lines[i] = lines[i].replace(/\b(4|8|16)\b/, pick(['2', '6', '12']));
      else if (r < 0.5) lines.splice(i, 0, '  relu');
      else if (r < 0.6) lines.splice(i, 1);
      else if (r < 0.7) lines[i] = `${lines[i]} // note`;
      else if (r < 0.8) lines[i] = lines[i].replace('conv', 'cnv');
      else lines[i] = lines[i].replace(/k=3/, 'k=5');
      return lines.join('\n');
    };
    let hits = 0;
    for (let n = 0; n < 60; n++) {
      // As the server has it: one cache and one incremental parser per document.
      const cache = new ExpansionCache();
      const parser = n % 2 ? new IncrementalParser() : undefined;
      let text = program();
      for (let e = 0; e < 4; e++) {
        hits += same(text, cache, parser).cacheStats!.hits;
        text = edit(text);
      }
    }
    expect(hits).toBeGreaterThan(100);
  });
});
