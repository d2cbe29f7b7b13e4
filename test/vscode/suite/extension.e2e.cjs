// Activation, hints, hover, diagnostics and commands inside VS Code (see test/vscode/run.mjs).
const assert = require('node:assert/strict');
const { join } = require('node:path');
const vscode = require('vscode');

const examples = join(__dirname, '../../../examples');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(f, what, ms = 15000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const v = await f();
    if (v) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}
async function openExample(name) {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(examples, name)));
  await vscode.window.showTextDocument(doc);
  return doc;
}

test('activates on a .cnn file and starts the server', async () => {
  const doc = await openExample('alexnet.cnn');
  assert.equal(doc.languageId, 'cnn');
  const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'cnn-designer');
  assert.ok(ext, 'extension found');
  await until(() => ext.isActive, 'activation');
});

test('shows the output shape as an inlay hint', async () => {
  const doc = await openExample('alexnet.cnn');
  const hints = await until(async () => {
    const hs = await vscode.commands.executeCommand('vscode.executeInlayHintProvider', doc.uri, new vscode.Range(0, 0, doc.lineCount, 0));
    return hs && hs.length ? hs : undefined;
  }, 'inlay hints');
  const conv1 = hints.find((h) => h.position.line === 4);
  const text = typeof conv1.label === 'string' ? conv1.label : conv1.label.map((p) => p.value).join('');
  assert.equal(text, '→ 64×56×56');
});

test('hovers with the substituted formulas', async () => {
  const doc = await openExample('alexnet.cnn');
  const hovers = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(4, 6));
  const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
  assert.match(text, /⌊\(227 \+ 2·2 − 11\)\/4⌋ \+ 1 = 56/);
});

test('publishes diagnostics live', async () => {
  const doc = await vscode.workspace.openTextDocument({ language: 'cnn', content: 'network N {\n  input 3x32x32\n  conv 8 k=3\n  linear 10\n}\n' });
  await vscode.window.showTextDocument(doc);
  const ds = await until(() => {
    const d = vscode.languages.getDiagnostics(doc.uri);
    return d.length ? d : undefined;
  }, 'diagnostics');
  assert.equal(ds[0].code, 'needs-flat');
});

test('registers the CNN commands and opens the analysis table', async () => {
  const all = await vscode.commands.getCommands(true);
  for (const id of ['cnn.showAnalysis', 'cnn.showNetwork', 'cnn.runOnImage', 'cnn.benchmark']) assert.ok(all.includes(id), id);
  const doc = await openExample('alexnet.cnn');
  await vscode.commands.executeCommand('cnn.showAnalysis', doc.uri.toString(), 'AlexNet');
  const table = await until(() => vscode.workspace.textDocuments.find((d) => d.languageId === 'markdown' && d.getText().includes('## AlexNet')), 'analysis table');
  assert.match(table.getText(), /23,296/);
});
