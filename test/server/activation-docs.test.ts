/** What the editor shows of the new activations: completion docs from their specs, gelu's choice values, hover formulas. */
import { describe, expect, it } from 'vitest';
import { NO_FEATURES } from '../../src/server/client';
import { completions } from '../../src/server/completion';
import { hover } from '../../src/server/hover';
import { buildModel } from '../../src/server/model';
import { DEFAULT_SETTINGS } from '../../src/server/settings';

const TEXT = 'network N {\n  input 3x8x8\n  conv 4 k=3 p=1\n  gelu approximate=\n  hardswish\n  silu\n}\n';

function hoverText(text: string, at: string): string {
  const h = hover(buildModel(text, 1), text.indexOf(at), DEFAULT_SETTINGS);
  return h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
}

describe('the new activations in the editor', () => {
  it('are offered at a statement start with their docs, swish as the alias of silu', () => {
    const text = 'network N {\n  input 3x8x8\n  \n}\n';
    const items = completions(buildModel(text, 1), text.indexOf('  \n}') + 2, NO_FEATURES);
    const byLabel = new Map(items.map((i) => [i.label, i]));
    for (const k of ['relu6', 'hardswish', 'hardsigmoid', 'silu', 'swish', 'gelu', 'identity']) expect(byLabel.has(k), k).toBe(true);
    expect(byLabel.get('swish')!.detail).toBe('alias of silu');
    const gelu = byLabel.get('gelu')!.documentation as { value: string };
    expect(gelu.value).toContain('as torch.nn.GELU');
    expect(gelu.value).toContain("- `approximate` = `none`: none: exact, 0.5·x·(1 + erf(x/√2)); tanh:");
  });

  it("offers gelu's two words after approximate=, and no block parameters", () => {
    const text = 'network N {\n  input 3x8x8\n  gelu approximate=\n}\nblock B(c) {\n  gelu approximate=\n}\n';
    const labels = (offset: number) => completions(buildModel(text, 1), offset, NO_FEATURES).map((i) => [i.label, i.detail]);
    const inNetwork = text.indexOf('approximate=') + 'approximate='.length;
    expect(labels(inNetwork)).toEqual([['none', 'default'], ['tanh', undefined]]);
    expect(labels(text.lastIndexOf('approximate=') + 'approximate='.length)).toEqual([['none', 'default'], ['tanh', undefined]]);
  });

  it('shows the function and its element-wise ops in the hover', () => {
    const text = TEXT.replace('approximate=', 'approximate=tanh');
    expect(hoverText(text, 'gelu')).toContain('gelu(x) ≈ 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))');
    expect(hoverText(text, 'gelu')).toContain('element-wise ops (apart from MACs) = 512');
    expect(hoverText(text.replace('approximate=tanh', ''), 'gelu')).toContain('gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2))');
    expect(hoverText(text, 'hardswish')).toContain('hardswish(x) = x·min(max(x + 3, 0), 6)/6');
    expect(hoverText(text, 'silu')).toContain('silu(x) = x·σ(x) = x/(1 + e^−x)');
  });
});
