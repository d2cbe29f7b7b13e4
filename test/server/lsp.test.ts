/**
 * The language server over the real protocol: spawns `node bin/cnn-lsp.js --stdio` (the built
 * bundle: run `npm run build` first) and speaks JSON-RPC to it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeAction, CompletionItem, DocumentSymbol, Hover, InlayHint, Location, SignatureHelp, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { AnalysisStatsRequest, AnalysisTableRequest } from '../../src/protocol/lsp-ext';
import { ROOT, applyEdits, startClient, type TestClient } from './client';

const example = (name: string) => readFileSync(resolve(ROOT, 'examples', name), 'utf8');
const ALL = { start: { line: 0, character: 0 }, end: { line: 10_000, character: 0 } };
const label = (h: InlayHint) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''));
const md = (h: Hover | null) => (h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '');

let c: TestClient;
let n = 0;
async function openDoc(text: string): Promise<string> {
  const uri = `file:///test/doc${n++}.cnn`;
  const d = c.nextDiagnostics(uri, 1);
  await c.open(uri, text);
  await d;
  return uri;
}
const hints = (uri: string) => c.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: ALL });
const hoverAt = (uri: string, line: number, character: number) => c.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });

beforeAll(async () => {
  c = await startClient();
});
afterAll(async () => {
  await c.close();
});

describe('diagnostics', () => {
  it('publishes the foundation diagnostics on open and again after a change (debounced)', async () => {
    const uri = `file:///test/diag.cnn`;
    const first = c.nextDiagnostics(uri, 1);
    await c.open(uri, 'network N {\n  input 3x32x32\n  conv 8 k=3\n  linear 10\n}\n');
    const d1 = await first;
    expect(d1.diagnostics.map((d) => d.code)).toContain('needs-flat');
    expect(d1.diagnostics[0].source).toBe('cnn');
    const second = c.nextDiagnostics(uri, 2);
    await c.change(uri, 2, [{ range: { start: { line: 3, character: 2 }, end: { line: 3, character: 2 } }, text: 'flatten\n  ' }]);
    const d2 = await second;
    expect(d2.diagnostics).toEqual([]);
  });
});

describe('inlay hints', () => {
  it('shows the output shape at the end of each layer line', async () => {
    const uri = await openDoc(example('alexnet.cnn'));
    const hs = await hints(uri);
    const conv1 = hs.find((h) => h.position.line === 4)!;
    expect(label(conv1)).toBe('→ 64×56×56');
    expect(conv1.position.character).toBe('    conv 64 k=11 s=4 p=2'.length);
    expect(hs.find((h) => h.position.line === 2)).toBeUndefined(); // the input line
    expect(hs.map(label)).toContain('→ 9216');
    // VS Code resolves tooltips when they are hovered: the hints themselves carry none.
    expect(conv1.tooltip).toBeUndefined();
    const resolved = await c.request<InlayHint>('inlayHint/resolve', conv1);
    expect((resolved.tooltip as { value: string }).value).toContain('params 23,296');
  });

  it('shows totals on block calls and repeats, and first-call figures inside blocks', async () => {
    const uri = await openDoc(example('resnet18.cnn'));
    const hs = await hints(uri);
    const layer1 = hs.find((h) => h.position.line === 7)!;
    expect(label(layer1)).toMatch(/^→ 64×56×56 · Σ 148K params · 462M MACs$/);
    const parts = layer1.label as { value: string; location?: Location }[];
    expect(parts[0].location?.range.start.line).toBe(17); // the block definition
    const inBlock = hs.find((h) => h.position.line === 19)!; // conv1 inside Basic
    expect(label(inBlock)).toBe('→ 64×56×56 (1 of 8)');
    const nav = (inBlock.label as { value: string; location?: Location }[]).at(-1)!;
    expect(nav.location?.range.start.line).toBe(7);
  });

  it('adds receptive field, MACs, params and memory when the settings ask', async () => {
    c.configuration = { inlayHints: { receptiveField: true, macs: true, params: true, memory: true, maxLength: 0 }, flops: '2xmac' };
    await c.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    await new Promise((r) => setTimeout(r, 200));
    const uri = await openDoc(example('alexnet.cnn'));
    const conv1 = (await hints(uri)).find((h) => h.position.line === 4)!;
    expect(label(conv1)).toBe('→ 64×56×56 · RF 11/4 · 146M FLOPs · 23.3K params · 784 KiB');
    // Within VS Code's 43 characters by default: whole figures, the first ones.
    c.configuration = { inlayHints: { receptiveField: true, macs: true, params: true, memory: true }, flops: '2xmac' };
    await c.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    await new Promise((r) => setTimeout(r, 200));
    expect(label((await hints(uri)).find((h) => h.position.line === 4)!)).toBe('→ 64×56×56 · RF 11/4 · 146M FLOPs');
    c.configuration = {};
    await c.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    await new Promise((r) => setTimeout(r, 200));
  });
});

describe('incremental analysis', () => {
  it('copies block expansions across edits elsewhere and re-expands an edited block, whose call sites then change', async () => {
    const text = [
      'network N {',
      '  input 3x32x32',
      '  stem: conv 16 k=3 p=1',
      '  a: Down(32)',
      '  b: Down(64)',
      '  repeat 2 { Down(64, s=1) }',
      '  gap',
      '}',
      'block Down(c, s=2) {',
      '  conv c k=3 s=s p=1',
      '  bn; relu',
      '}',
    ].join('\n');
    const stats = async (uri: string) => (await c.conn.sendRequest(AnalysisStatsRequest, { uri }))!;
    const at = (hs: InlayHint[], line: number) => label(hs.find((h) => h.position.line === line)!);
    const uri = await openDoc(text);
    const h1 = await hints(uri);
    expect(at(h1, 3)).toMatch(/^→ 32×16×16 · Σ /);
    expect(at(h1, 4)).toMatch(/^→ 64×8×8 · Σ /);
    // Three distinct calls (by argument values); the repeat's second call is a copy.
    expect((await stats(uri)).cache).toMatchObject({ misses: 3, hits: 1 });

    // An edit in the network: every block call is copied, the figures still follow the edit.
    await c.change(uri, 2, [{ range: { start: { line: 2, character: 13 }, end: { line: 2, character: 15 } }, text: '8' }]);
    const h2 = await hints(uri);
    const s2 = await stats(uri);
    expect(s2.version).toBe(2);
    expect(s2.cache).toMatchObject({ misses: 0, hits: 4 });
    // The statements before and after the edited line are taken over from the last tree.
    expect(s2.reusedStatements).toBeGreaterThanOrEqual(5);
    expect(at(h2, 2)).toBe('→ 8×32×32');
    expect(at(h2, 3)).toMatch(/^→ 32×16×16 · Σ /);
    expect(at(h2, 3)).not.toBe(at(h1, 3)); // fewer input channels: fewer parameters in a's conv

    // An edit inside the block: its calls are expanded anew and their hints change.
    await c.change(uri, 3, [{ range: { start: { line: 9, character: 7 }, end: { line: 9, character: 8 } }, text: '2*c' }]);
    const h3 = await hints(uri);
    expect((await stats(uri)).cache).toMatchObject({ misses: 3, hits: 1 });
    expect(at(h3, 3)).toMatch(/^→ 64×16×16 · Σ /);
    expect(at(h3, 4)).toMatch(/^→ 128×8×8 · Σ /);
    expect(at(h3, 9)).toBe('→ 64×16×16 (1 of 4)');

    // Undo the block edit: the earlier templates are gone (swept), so it is expanded again, correctly.
    await c.change(uri, 4, [{ range: { start: { line: 9, character: 7 }, end: { line: 9, character: 10 } }, text: 'c' }]);
    expect(at(await hints(uri), 3)).toBe(at(h2, 3));
  });
});

describe('hover', () => {
  it('substitutes the layer numbers into the seed formulas', async () => {
    const uri = await openDoc(example('alexnet.cnn'));
    const h = md(await hoverAt(uri, 4, 6)); // conv1
    expect(h).toContain("H' = W' = ⌊(227 + 2·2 − 11)/4⌋ + 1 = 56");
    expect(h).toContain('params = 64·3·11·11 + 64 = 23,296');
    expect(h).toContain('MACs = (64·56·56)·(3·11·11) = 72,855,552');
    expect(h).toContain('memory = 64·56·56·4 B = 802,816 B');
    expect(h).toContain('In the previous layer: 11×11 window, stride 4, padding 2');
    expect(h).toMatch(/In the input: 11×11 pixels, effective stride 4/);
  });

  it('gives the receptive field in the input with the effective stride deeper down', async () => {
    const uri = await openDoc(example('alexnet.cnn'));
    const h = md(await hoverAt(uri, 16, 4)); // pool5
    expect(h).toContain('In the input: 195×195 pixels, effective stride 32');
  });

  it('shows totals on a block call and on a network, with the top layers by MACs', async () => {
    const uri = await openDoc(example('resnet18.cnn'));
    expect(md(await hoverAt(uri, 8, 14))).toMatch(/block call\*\* `Basic\(c, s=1, down=false\)`[\s\S]*Expands to 9 layers → `128×28×28`/);
    const net = md(await hoverAt(uri, 1, 10));
    expect(net).toContain('**network ResNet18**');
    expect(net).toContain('Top layers by MACs');
    expect(net).toContain('11,689,512');
  });
});

describe('completion and signature help', () => {
  const text = 'network N {\n  input 3x32x32\n  conv 16 \n  B(\n}\nblock B(c, s=2) {\n  conv c k=3 s=\n}\n';
  it('offers layers, blocks and keywords at a statement start', async () => {
    const uri = await openDoc('network N {\n  input 3x32x32\n  \n}\nblock Down(c, s=2) {\n  relu\n}\n');
    const items = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 2, character: 2 } });
    const labels = items.map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(['conv', 'linear', 'maxpool', 'Down', 'repeat', 'residual']));
    expect(items.find((i) => i.label === 'Down')!.detail).toBe('block Down(c, s=2)');
  });
  it('offers argument names with defaults after a layer, and parameters in scope for values', async () => {
    const uri = await openDoc(text);
    const items = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 2, character: 10 } });
    const s = items.find((i) => i.label === 's=')!;
    expect(s.detail).toBe('default 1');
    expect(items.find((i) => i.label === 'k=')!.detail).toBe('required');
    const inBlock = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 6, character: 15 } });
    expect(inBlock.map((i) => i.label)).toEqual(expect.arrayContaining(['c', 's']));
    const callArgs = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 3, character: 4 } });
    expect(callArgs.map((i) => i.label)).toEqual(['c=', 's=']);
  });
  it('gives the block signature inside a call', async () => {
    const uri = await openDoc(text);
    const sh = await c.request<SignatureHelp>('textDocument/signatureHelp', { textDocument: { uri }, position: { line: 3, character: 4 } });
    expect(sh.signatures[0].label).toBe('B(c, s=2)');
    expect(sh.activeParameter).toBe(0);
  });
});

describe('definition, references, rename', () => {
  it('goes to a block and renames it, its parameters and named arguments', async () => {
    const src = example('resnet18.cnn');
    const uri = await openDoc(src);
    const def = await c.request<Location>('textDocument/definition', { textDocument: { uri }, position: { line: 7, character: 21 } });
    expect(def.range.start).toEqual({ line: 17, character: 6 });
    const refs = await c.request<Location[]>('textDocument/references', { textDocument: { uri }, position: { line: 17, character: 7 }, context: { includeDeclaration: true } });
    expect(refs).toHaveLength(8);
    const prep = await c.request<{ placeholder: string }>('textDocument/prepareRename', { textDocument: { uri }, position: { line: 17, character: 12 } });
    expect(prep.placeholder).toBe('c');
    const edit = await c.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: { line: 17, character: 15 }, newName: 'stride' });
    const out = applyEdits(src, edit.changes![uri]);
    expect(out).toContain('Basic(128, stride=2, down=true)');
    expect(out).toContain('block Basic(c, stride=1, down=false)');
    expect(out).toContain('conv c k=3 s=stride p=1');
    await expect(c.request('textDocument/rename', { textDocument: { uri }, position: { line: 17, character: 7 }, newName: 'conv' })).rejects.toThrow(/layer/);
  });
});

describe('labels that interpolate parameters', () => {
  it("renames a parameter inside a quoted label, but not a repeat index that hides it; hovers show the label as written", async () => {
    const src = 'network N {\n  input 3x8x8\n  S(2)\n}\nblock S(s, i=0) {\n  repeat 2 as i { "block{s}-{i}": conv 4 k=1 }\n  "x{i}": conv 4 k=1\n}\n';
    const uri = await openDoc(src);
    const edit = await c.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: { line: 4, character: 8 }, newName: 'stage' });
    expect(applyEdits(src, edit.changes![uri])).toContain('block S(stage, i=0) {\n  repeat 2 as i { "block{stage}-{i}": conv 4 k=1 }');
    const renamedI = await c.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: { line: 4, character: 11 }, newName: 'j' });
    // The parameter i is used in the second label only; the repeat's own i stays.
    expect(applyEdits(src, renamedI.changes![uri])).toContain('block S(s, j=0) {\n  repeat 2 as i { "block{s}-{i}": conv 4 k=1 }\n  "x{j}": conv 4 k=1');
    expect(md(await hoverAt(uri, 5, 36))).toContain('**"block{s}-{i}": conv**');
  });
  it('offers a repeat index as a value inside its body only', async () => {
    const src = 'network N {\n  input 3x8x8\n  repeat 2 as i { conv 4 k= }\n  conv 4 k= \n}\n';
    const uri = await openDoc(src);
    const inside = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 2, character: 26 } });
    expect(inside.find((i) => i.label === 'i')?.detail).toBe('repeat index');
    const outside = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 3, character: 11 } });
    expect(outside.map((i) => i.label)).not.toContain('i');
  });
});

describe('code actions', () => {
  const actionsAt = (uri: string, line: number) =>
    c.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line, character: 0 }, end: { line, character: 0 } }, context: { diagnostics: [] } });
  it("inserts 'flatten' before a linear layer on a spatial input", async () => {
    const src = 'network N {\n  input 3x32x32\n  conv 8 k=3\n  linear 10\n}\n';
    const uri = await openDoc(src);
    const a = (await actionsAt(uri, 3)).find((x) => x.title.includes('flatten'))!;
    expect(a.kind).toBe('quickfix');
    expect(applyEdits(src, a.edit!.changes![uri])).toContain('  flatten\n  linear 10');
  });
  it('sets p=same, fixes groups and stacks 3×3 convs for a 5×5', async () => {
    const src = 'network N {\n  input 16x32x32\n  conv 16 k=3\n  conv 32 k=5 p=2\n  conv 24 k=3 p=1 g=5\n}\n';
    const uri = await openDoc(src);
    const pad = (await actionsAt(uri, 2)).find((x) => x.title.startsWith('Set p=same'))!;
    expect(applyEdits(src, pad.edit!.changes![uri])).toContain('conv 16 k=3 p=same\n');
    const g = (await actionsAt(uri, 4)).find((x) => x.title.startsWith('Set g='))!;
    expect(g.title).toBe('Set g=4');
    expect(applyEdits(src, g.edit!.changes![uri])).toContain('conv 24 k=3 p=1 g=4');
    const stack = (await actionsAt(uri, 3)).find((x) => x.title.startsWith('Replace the 5×5'))!;
    expect(stack.title).toContain('params 12,832 → 13,888');
    expect(applyEdits(src, stack.edit!.changes![uri])).toContain('  conv 32 k=3 p=1\n  relu\n  conv 32 k=3 p=1\n');
  });
});

describe('formatting, symbols, folding, semantic tokens, code lens', () => {
  it('formats to the canonical style and keeps comments', async () => {
    const src = 'network  N{\n input   3x32x32 // in\n\n\n      conv 8 k = 3  p=( 1 , 1 )\n  Down( 8 ,s=2 )\n}\nblock Down(c,s=1){\n      residual { conv c k=3 s=s p=1 } shortcut {conv c k=1 s=s}\n}';
    const uri = await openDoc(src);
    const edits = await c.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    expect(applyEdits(src, edits)).toBe(
      'network N {\n  input 3x32x32 // in\n\n  conv 8 k=3 p=(1, 1)\n  Down(8, s=2)\n}\nblock Down(c, s=1) {\n  residual { conv c k=3 s=s p=1 } shortcut { conv c k=1 s=s }\n}\n',
    );
  });
  it('outlines networks, blocks and labelled layers', async () => {
    const uri = await openDoc(example('resnet18.cnn'));
    const syms = await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    expect(syms.map((s) => s.name)).toEqual(['ResNet18', 'Basic']);
    expect(syms[0].children!.map((s) => s.name)).toEqual(['conv1', 'bn1', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'fc']);
    expect(syms[0].children![0].detail).toBe('conv → 64×112×112');
    const folds = await c.request<{ startLine: number; endLine: number }[]>('textDocument/foldingRange', { textDocument: { uri } });
    expect(folds).toEqual(expect.arrayContaining([{ startLine: 1, endLine: 13 }]));
    const tokens = await c.request<{ data: number[] }>('textDocument/semanticTokens/full', { textDocument: { uri } });
    expect(tokens.data.length % 5).toBe(0);
    expect(tokens.data.length).toBeGreaterThan(50);
  });
  it('puts params · MACs · peak memory and the run, benchmark and graph commands above each network', async () => {
    const uri = await openDoc(example('alexnet.cnn'));
    const lenses = await c.request<{ command: { title: string; command: string; arguments: unknown[] } }[]>('textDocument/codeLens', { textDocument: { uri } });
    expect(lenses.map((l) => l.command.command)).toEqual(['cnn.showAnalysis', 'cnn.runOnImage', 'cnn.benchmark', 'cnn.showNetwork']);
    expect(lenses[0].command.title).toMatch(/^61\.1M params · 717M MACs · peak /);
    expect(lenses[1].command.arguments).toEqual([uri, 'AlexNet']);
  });
  it('answers the analysis table request the client commands use', async () => {
    const uri = await openDoc(example('alexnet.cnn'));
    const t = await c.conn.sendRequest(AnalysisTableRequest, { uri });
    expect(t.networks).toEqual(['AlexNet']);
    expect(t.markdown).toContain('## AlexNet');
    expect(t.markdown).toContain('23,296');
  });
});
