/**
 * The server for editors other than VS Code: what a client declares decides snippets,
 * commands, refresh requests, tooltips and Markdown; code lenses run server commands there;
 * rename refuses names that would change the file's meaning; formatting follows the editor's
 * indentation. Over the real protocol, with a client that declares what VS Code's does and one
 * that declares only the basics.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { CodeLens, CompletionItem, Hover, InlayHint, Location, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { analyzeText } from '../../src/analysis';
import { ServerCommands, type AnalysisTableResult } from '../../src/protocol/lsp-ext';
import { ROOT, applyEdits, startClient, type TestClient } from './client';

const example = (name: string) => readFileSync(resolve(ROOT, 'examples', name), 'utf8');
const ALL = { start: { line: 0, character: 0 }, end: { line: 10_000, character: 0 } };

let vs: TestClient;
let plain: TestClient;
let n = 0;
async function openIn(c: TestClient, text: string): Promise<string> {
  const uri = `file:///clients/doc${n++}.cnn`;
  const d = c.nextDiagnostics(uri, 1);
  await c.open(uri, text);
  await d;
  return uri;
}

async function failure(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ResponseError) return e;
    throw e;
  }
  throw new Error('the request succeeded');
}

beforeAll(async () => {
  [vs, plain] = await Promise.all([startClient(), startClient({ editor: 'plain' })]);
});
afterAll(async () => {
  await Promise.all([vs.close(), plain.close()]);
});

const BLOCKS = 'network N {\n  input 3x32x32\n  \n}\nblock Down(c, s=2) {\n  conv c k=3 s=s p=1\n}\n';

describe('capabilities as declared', () => {
  it('declares the server commands, and resolves tooltips only for a client that can ask', () => {
    for (const c of [vs, plain]) expect(c.initializeResult.capabilities.executeCommandProvider?.commands).toEqual([ServerCommands.analysisTable]);
    expect(vs.initializeResult.capabilities.inlayHintProvider).toEqual({ resolveProvider: true });
    expect(plain.initializeResult.capabilities.inlayHintProvider).toEqual({ resolveProvider: false });
  });

  it('sends snippets only to a client with snippet support, and plain names to one without', async () => {
    const at = { line: 2, character: 2 };
    const items = async (c: TestClient) => c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri: await openIn(c, BLOCKS) }, position: at });
    const rich = await items(vs);
    const bare = await items(plain);
    expect(rich.find((i) => i.label === 'Down')).toMatchObject({ insertText: 'Down(${1:c})$0', insertTextFormat: 2, command: { command: 'editor.action.triggerParameterHints' } });
    expect(rich.find((i) => i.label === 'repeat')).toMatchObject({ insertText: 'repeat ${1:2} {\n\t$0\n}', insertTextFormat: 2 });
    expect(bare.map((i) => i.label).sort()).toEqual(rich.map((i) => i.label).sort());
    for (const i of bare) {
      expect(i.insertTextFormat, i.label).not.toBe(2);
      expect(i.command, i.label).toBeUndefined();
      // What lands in the buffer is the label, or a plain text with no snippet syntax.
      expect(i.insertText ?? i.label, i.label).not.toMatch(/\$\{?\d|\t/);
    }
  });

  it('gives lenses with the extension commands to VS Code, and a server command to other editors', async () => {
    const text = example('alexnet.cnn');
    const lenses = async (c: TestClient, uri: string) => c.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    const vsUri = await openIn(vs, text);
    expect((await lenses(vs, vsUri)).map((l) => l.command!.command)).toEqual(['cnn.showAnalysis', 'cnn.runOnImage', 'cnn.benchmark', 'cnn.showNetwork']);
    const uri = await openIn(plain, text);
    const [lens, ...rest] = await lenses(plain, uri);
    expect(rest).toEqual([]);
    expect(lens.command).toMatchObject({ command: ServerCommands.analysisTable, arguments: [uri, 'AlexNet'] });
    expect(lens.command!.title).toMatch(/^61\.1M params · 717M MACs · peak /);
    // The editor sends the lens's command back; the server shows the table and returns it.
    const before = plain.messages.length;
    const result = await plain.request<AnalysisTableResult>('workspace/executeCommand', { command: lens.command!.command, arguments: lens.command!.arguments });
    expect(result.networks).toEqual(['AlexNet']);
    expect(result.markdown).toContain('## AlexNet');
    const shown = plain.messages.slice(before).find((m) => m.method === 'window/showMessage')!;
    expect(shown.type).toBe(3);
    expect(shown.message).toMatch(/^AlexNet\n/);
    expect(shown.message).toContain('23,296');
    const missing = await failure(plain.request('workspace/executeCommand', { command: lens.command!.command, arguments: ['file:///closed.cnn'] }));
    expect(missing.message).toMatch(/not an open document/);
  });

  it('asks for refreshes and registrations only of a client that declared them', async () => {
    for (const c of [vs, plain]) {
      c.serverRequests.length = 0;
      await c.conn.sendNotification('workspace/didChangeConfiguration', { settings: {} });
      await c.request('textDocument/hover', { textDocument: { uri: await openIn(c, BLOCKS) }, position: { line: 0, character: 0 } });
      for (let i = 0; i < 50 && !c.serverRequests.some((r) => r.method === 'workspace/configuration'); i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(vs.serverRequests.map((r) => r.method)).toEqual(['workspace/configuration', 'workspace/inlayHint/refresh', 'workspace/codeLens/refresh']);
    expect(plain.serverRequests.map((r) => r.method)).toEqual(['workspace/configuration']);
  });

  it('registers for configuration changes only with a client that registers dynamically', async () => {
    const c = await startClient({ editor: 'plain', capabilities: { workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } } } });
    for (let i = 0; i < 50 && !c.serverRequests.some((r) => r.method === 'workspace/configuration'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(c.serverRequests.map((r) => r.method)).toEqual(['client/registerCapability', 'workspace/configuration']);
    expect(plain.initializeResult).toBeDefined();
    await c.close();
  });

  it('puts tooltips in the hints of a client that cannot resolve them, and Markdown only where it renders', async () => {
    const uri = await openIn(plain, example('alexnet.cnn'));
    const conv1 = (await plain.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: ALL })).find((h) => h.position.line === 4)!;
    expect((conv1.tooltip as { value: string }).value).toContain('params 23,296');
    expect(conv1.data).toBeUndefined();
    // The whole of a long file (as Neovim asks) comes without them: a third of the bytes.
    const lines = ['network L {', '  input 8x16x16', ...Array.from({ length: 1500 }, () => '  conv 8 k=3 p=1'), '}'];
    const long = await openIn(plain, lines.join('\n'));
    const whole = await plain.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: long }, range: ALL });
    expect(whole).toHaveLength(1500);
    expect(whole.filter((h) => h.tooltip)).toEqual([]);
    const part = await plain.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: long }, range: { start: { line: 100, character: 0 }, end: { line: 1099, character: 0 } } });
    expect(part).toHaveLength(1000);
    expect(part.every((h) => (h.tooltip as { value: string }).value.includes('params 584'))).toBe(true);
    const text = await startClient({ editor: 'plain', capabilities: { textDocument: { hover: { contentFormat: ['plaintext'] }, completion: { completionItem: { documentationFormat: ['plaintext'] } } } } });
    const u = await openIn(text, example('alexnet.cnn'));
    const h = await text.request<Hover>('textDocument/hover', { textDocument: { uri: u }, position: { line: 4, character: 6 } }); // conv1
    expect(h.contents).toMatchObject({ kind: 'plaintext' });
    expect((h.contents as { value: string }).value).toContain('params = 64·3·11·11 + 64 = 23,296');
    const items = await text.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri: u }, position: { line: 4, character: 2 } });
    expect(items.length).toBeGreaterThan(10);
    expect(items.every((i) => i.documentation === undefined || typeof i.documentation === 'string')).toBe(true);
    await text.close();
  });

  it('trusts a VS Code that does not list its commands with signature help only', async () => {
    const c = await startClient({ initializationOptions: {} });
    const uri = await openIn(c, BLOCKS);
    const items = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 2, character: 2 } });
    expect(items.find((i) => i.label === 'Down')!.command?.command).toBe('editor.action.triggerParameterHints');
    const lenses = await c.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: await openIn(c, example('alexnet.cnn')) } });
    expect(lenses.map((l) => l.command!.command)).toEqual([ServerCommands.analysisTable]);
    await c.close();
  });
});

describe('rename', () => {
  const SRC = [
    'network N {',
    '  input 3x32x32',
    '  layer1: Bottleneck(16)',
    '  layer2: Bottleneck(32, s=2)',
    '  conv 8 k=1',
    '}',
    'block Bottleneck(c, n=1, s=1) {',
    '  repeat n { conv c k=3 s=s p=1; bn; relu }',
    '}',
    'block Layer(c) { conv c k=1 }',
    '',
  ].join('\n');
  const pos = (line: number, text: string) => ({ line, character: SRC.split('\n')[line].indexOf(text) + 1 });

  /** What renaming every reference would give, without the server's check. */
  async function naive(uri: string, at: { line: number; character: number }, newName: string): Promise<string> {
    const refs = await vs.request<Location[]>('textDocument/references', { textDocument: { uri }, position: at, context: { includeDeclaration: true } });
    return applyEdits(SRC, refs.map((r) => ({ range: r.range, newText: newName })));
  }
  const errors = (text: string) => analyzeText(text).diagnostics.filter((d) => d.severity === 'error');

  it('says where and what can be renamed, and why not elsewhere', async () => {
    const uri = await openIn(vs, SRC);
    const prep = (line: number, text: string) => vs.request<{ placeholder: string; range: unknown } | null>('textDocument/prepareRename', { textDocument: { uri }, position: pos(line, text) });
    expect(await prep(6, 'c,')).toMatchObject({ placeholder: 'c', range: { start: { line: 6, character: 17 }, end: { line: 6, character: 18 } } });
    expect(await prep(2, 'layer1')).toMatchObject({ placeholder: 'layer1' });
    expect(await prep(3, 'Bottleneck')).toMatchObject({ placeholder: 'Bottleneck' });
    expect(await prep(1, '  ')).toBeNull();
    expect((await failure(prep(4, 'conv'))).message).toBe("'conv' is a layer: blocks, parameters and labels can be renamed, layers cannot");
    expect((await failure(prep(4, 'k='))).message).toBe("'k' is an argument of the layer: its name is fixed");
    expect((await failure(prep(0, 'N'))).message).toMatch(/^network names are not renamed/);
  });

  for (const [what, line, at, newName, reason] of [
    ['a parameter to another parameter', 6, 'c,', 's', "'s' is already a parameter of Bottleneck (line 7)"],
    ['a block to another block', 6, 'Bottleneck', 'Layer', "'Layer' is already the name of a block (line 10)"],
    ['a block to a network', 2, 'Bottleneck', 'N', "'N' is already the name of a network (line 1)"],
    ['a block to a layer', 6, 'Bottleneck', 'conv', "'conv' is a layer: a block cannot take its name"],
    ['a label to a sibling label', 2, 'layer1', 'layer2', /^renaming 'layer1' to 'layer2' would make an error: the label 'layer2' is already used in this sequence.* \(line 4\)$/],
  ] as const) {
    it(`refuses to rename ${what}, which would break the file, with the reason`, async () => {
      const uri = await openIn(vs, SRC);
      const p = pos(line, at);
      // Without the check the file would have errors it has not now.
      expect(errors(SRC)).toEqual([]);
      expect(errors(await naive(uri, p, newName)).length).toBeGreaterThan(0);
      const e = await failure(vs.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: p, newName }));
      expect(e.code).toBe(-32803);
      if (typeof reason === 'string') expect(e.message).toBe(reason);
      else expect(e.message).toMatch(reason);
    });
  }

  it('refuses keywords and what is not a name, and renames what is fine', async () => {
    const uri = await openIn(vs, SRC);
    const rename = (at: { line: number; character: number }, newName: string) => vs.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: at, newName });
    expect((await failure(rename(pos(6, 'Bottleneck'), 'repeat'))).message).toBe("'repeat' is a keyword");
    expect((await failure(rename(pos(6, 'c,'), '2c'))).message).toMatch(/^'2c' is not a name/);
    expect((await failure(rename(pos(6, 'c,'), 'c d'))).message).toMatch(/^'c d' is not a name/);
    const ok = await rename(pos(6, 'c,'), 'width');
    const out = applyEdits(SRC, ok.changes![uri]);
    expect(out).toContain('block Bottleneck(width, n=1, s=1) {\n  repeat n { conv width k=3 s=s p=1; bn; relu }');
    expect(errors(out)).toEqual([]);
    const label = await rename(pos(2, 'layer1'), 'stage1');
    expect(applyEdits(SRC, label.changes![uri])).toContain('  stage1: Bottleneck(16)\n  layer2: Bottleneck(32, s=2)');
    expect((await rename(pos(2, 'layer1'), 'layer1')).changes![uri]).toEqual([]);
  });
});

describe('formatting', () => {
  const SRC = 'network N {\ninput 3x8x8\n  residual {\n conv 4 k=3 p=1\n  }\n}\n';
  it('indents by the editor tab size and with tabs when it asks for them', async () => {
    const uri = await openIn(plain, SRC);
    const format = (options: object) => plain.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options });
    expect(applyEdits(SRC, await format({ tabSize: 4, insertSpaces: true }))).toBe('network N {\n    input 3x8x8\n    residual {\n        conv 4 k=3 p=1\n    }\n}\n');
    expect(applyEdits(SRC, await format({ tabSize: 4, insertSpaces: false }))).toBe('network N {\n\tinput 3x8x8\n\tresidual {\n\t\tconv 4 k=3 p=1\n\t}\n}\n');
    expect(applyEdits(SRC, await format({ tabSize: 2, insertSpaces: true, trimTrailingWhitespace: true }))).toBe('network N {\n  input 3x8x8\n  residual {\n    conv 4 k=3 p=1\n  }\n}\n');
  });
});
