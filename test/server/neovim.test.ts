/**
 * The server driven by a real non-VS Code client: headless Neovim (0.7 or later) and its
 * built-in LSP client, started on `node bin/cnn-lsp.js --stdio` by a Lua script this test
 * writes. The script goes through diagnostics, inlay hints (requested directly: Neovim 0.7 has
 * no inlay-hint UI), hover, completion, code lens and its server command, rename and
 * formatting, applies the edits as Neovim applies them, and writes what it saw to a JSON file
 * that the assertions below read. Skipped where `nvim` is missing, except under CI=true, where
 * that is a failure (CI installs Debian's `neovim`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServerCommands } from '../../src/protocol/lsp-ext';
import { ROOT } from './client';

const NVIM = process.env.NVIM_BIN ?? 'nvim';
const version = (() => {
  const r = spawnSync(NVIM, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? /NVIM v(\d+)\.(\d+)/.exec(r.stdout) : null;
})();
const usable = !!version && (Number(version[1]) > 0 || Number(version[2]) >= 7);

const NETWORK = [
  'network Small {',
  '  input 3x32x32',
  '  conv 8 k=3 p=1',
  '  relu',
  '  Down(16)',
  '  linear 10',
  '}',
  'block Down(c, s=2) {',
  '    conv c k=3 s=s p=1',
  '  bn; relu',
  '}',
  '',
].join('\n');

/** The Lua side: every step under pcall, so that one failure still writes what the others saw. */
const SCRIPT = String.raw`
local cfg = vim.fn.json_decode(vim.fn.readfile(vim.env.CNN_TEST_CONFIG))
local out = { errors = {} }
local function step(name, f)
  local ok, err = pcall(f)
  if not ok then table.insert(out.errors, name .. ': ' .. tostring(err)) end
end
local function finish()
  vim.fn.writefile({ vim.fn.json_encode(out) }, cfg.out)
  vim.cmd('qall!')
end
-- Whatever happens, write and quit.
vim.defer_fn(function() table.insert(out.errors, 'timed out'); finish() end, cfg.timeout)

vim.cmd('edit ' .. vim.fn.fnameescape(cfg.file))
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = 'cnn'
local start = vim.lsp.start_client
local id = start({ name = 'cnn', cmd = { cfg.node, cfg.bin, '--stdio' }, root_dir = cfg.dir })
vim.lsp.buf_attach_client(buf, id)
local client = vim.lsp.get_client_by_id(id)

local function request(method, params)
  local res, err = vim.lsp.buf_request_sync(buf, method, params, 15000)
  if not res then error(method .. ': ' .. tostring(err)) end
  local r = res[id]
  if r == nil then error(method .. ': no answer') end
  if r.err or r.error then return { error = r.err or r.error } end
  return { result = r.result }
end
local function lines() return vim.api.nvim_buf_get_lines(buf, 0, -1, false) end
local function pos(line, col) return { textDocument = vim.lsp.util.make_text_document_params(buf), position = { line = line, character = col } } end

step('diagnostics', function()
  vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
  out.capabilities = client.server_capabilities
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out.diagnostics, { lnum = d.lnum, col = d.col, message = d.message, code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code), severity = d.severity })
  end
end)
step('inlayHint', function()
  out.hints = request('textDocument/inlayHint', { textDocument = vim.lsp.util.make_text_document_params(buf), range = { start = { line = 0, character = 0 }, ['end'] = { line = #lines(), character = 0 } } })
end)
step('hover', function() out.hover = request('textDocument/hover', pos(2, 3)) end)
step('completion', function()
  vim.api.nvim_buf_set_lines(buf, 3, 3, false, { '  ' })
  out.completion = request('textDocument/completion', pos(3, 2))
  vim.api.nvim_buf_set_lines(buf, 3, 4, false, {})
end)
step('codeLens', function()
  out.lenses = request('textDocument/codeLens', { textDocument = vim.lsp.util.make_text_document_params(buf) })
  local cmd = out.lenses.result[1].command
  out.executed = request('workspace/executeCommand', { command = cmd.command, arguments = cmd.arguments })
end)
step('rename', function()
  out.refused = request('textDocument/rename', { textDocument = vim.lsp.util.make_text_document_params(buf), position = { line = 7, character = 11 }, newName = 's' })
  local r = request('textDocument/rename', { textDocument = vim.lsp.util.make_text_document_params(buf), position = { line = 7, character = 11 }, newName = 'width' })
  out.rename = r
  vim.lsp.util.apply_workspace_edit(r.result, client.offset_encoding or 'utf-16')
  out.renamed = lines()
end)
step('formatting', function()
  local opts = { tabSize = 4, insertSpaces = true }
  if vim.lsp.buf.format then vim.lsp.buf.format({ formatting_options = opts, timeout_ms = 15000, bufnr = buf })
  else vim.lsp.buf.formatting_sync(opts, 15000) end
  out.formatted = lines()
end)
step('after the edits', function()
  -- The edits went to the server as didChange: its diagnostics follow the buffer.
  vim.wait(5000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do if d.lnum == 8 then return false end end
    return true
  end, 50)
  out.hintsAfter = request('textDocument/inlayHint', { textDocument = vim.lsp.util.make_text_document_params(buf), range = { start = { line = 0, character = 0 }, ['end'] = { line = #lines(), character = 0 } } })
end)
step('stop', function()
  vim.lsp.stop_client(id)
  vim.wait(5000, function() return vim.lsp.get_client_by_id(id) == nil end, 50)
end)
finish()
`;

interface Seen {
  errors: string[];
  capabilities?: Record<string, any>;
  diagnostics?: { lnum: number; col: number; message: string; code?: string; severity: number }[];
  hints?: { result?: { label: string | { value: string }[]; position: { line: number }; tooltip?: { value: string } }[] };
  hover?: { result?: { contents: { kind: string; value: string } } };
  completion?: { result?: { label: string; insertTextFormat?: number; insertText?: string; command?: unknown }[] | { items: unknown[] } };
  lenses?: { result?: { command: { command: string; title: string; arguments: unknown[] } }[] };
  executed?: { result?: { markdown: string; networks: string[] } };
  refused?: { error?: { code: number; message: string } };
  rename?: { result?: unknown };
  renamed?: string[];
  formatted?: string[];
  hintsAfter?: { result?: { label: string | { value: string }[]; position: { line: number } }[] };
}

/** A private Neovim home, the network file, the script and its configuration. */
function prepare(): { dir: string; out: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-nvim-'));
  for (const d of ['config', 'data', 'cache', 'state']) mkdirSync(join(dir, d));
  const file = join(dir, 'small.cnn');
  writeFileSync(file, NETWORK);
  writeFileSync(join(dir, 'test.lua'), SCRIPT);
  const out = join(dir, 'seen.json');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ file, out, dir, node: process.execPath, bin: resolve(ROOT, 'bin/cnn-lsp.js'), timeout: 50_000 }));
  const env = { ...process.env, CNN_TEST_CONFIG: join(dir, 'config.json'), XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), XDG_CACHE_HOME: join(dir, 'cache'), XDG_STATE_HOME: join(dir, 'state') };
  return { dir, out, env };
}

describe.runIf(usable || process.env.CI)('Neovim as the LSP client', () => {
  it('drives diagnostics, inlay hints, hover, completion, code lens, rename and formatting', async () => {
    if (!usable) throw new Error(`CI=true but '${NVIM} --version' did not give Neovim 0.7 or later: CI must install Debian's neovim package (apt-get install neovim)`);
    const { dir, out, env } = prepare();
    const proc = spawn(NVIM, ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${join(dir, 'test.lua')}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d) => (output += String(d)));
    proc.stderr.on('data', (d) => (output += String(d)));
    const code = await new Promise<number | null>((r) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 58_000);
      proc.on('exit', (c) => {
        clearTimeout(kill);
        r(c);
      });
    });
    expect(existsSync(out), `Neovim wrote no results (exit ${code}): ${output}`).toBe(true);
    const seen = JSON.parse(readFileSync(out, 'utf8')) as Seen;
    expect(seen.errors, output).toEqual([]);

    expect(seen.capabilities!.executeCommandProvider.commands).toEqual([ServerCommands.analysisTable]);
    // Neovim 0.7 declares no inlay-hint support at all: tooltips come with the hints.
    expect(seen.capabilities!.inlayHintProvider).toEqual({ resolveProvider: false });

    expect(seen.diagnostics).toEqual([expect.objectContaining({ lnum: 5, code: 'needs-flat', severity: 1 })]);

    const label = (h: { label: string | { value: string }[] }) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''));
    const hints = seen.hints!.result!;
    expect(hints.map((h) => [h.position.line, label(h)])).toEqual([
      [2, '→ 8×32×32'],
      [3, '→ 8×32×32'],
      [4, '→ 16×16×16 · Σ 1.2K params · 295K MACs'],
      [5, '→ ? (error on this line)'], // linear on an image: marked, not guessed
      [8, '→ 16×16×16 (call)'],
      [9, '→ 16×16×16 (call)'],
    ]);
    expect(hints[0].tooltip!.value).toContain('params 224');

    expect(seen.hover!.result!.contents.value).toContain('params = 8·3·3·3 + 8 = 224');

    const items = Array.isArray(seen.completion!.result) ? seen.completion!.result : (seen.completion!.result!.items as { label: string; insertTextFormat?: number; command?: unknown }[]);
    expect(items.map((i) => i.label)).toEqual(expect.arrayContaining(['conv', 'relu', 'Down', 'repeat']));
    // Neovim 0.7 declares no snippet support and runs no VS Code command.
    expect(items.filter((i) => i.insertTextFormat === 2 || i.command)).toEqual([]);

    const lens = seen.lenses!.result!;
    expect(lens.map((l) => l.command.command)).toEqual([ServerCommands.analysisTable]);
    expect(seen.executed!.result!.networks).toEqual(['Small']);
    expect(seen.executed!.result!.markdown).toContain('## Small');

    expect(seen.refused!.error!.message).toBe("'s' is already a parameter of Down (line 8)");
    expect(seen.renamed!.slice(7, 9)).toEqual(['block Down(width, s=2) {', '    conv width k=3 s=s p=1']);

    expect(seen.formatted).toEqual([
      'network Small {',
      '    input 3x32x32',
      '    conv 8 k=3 p=1',
      '    relu',
      '    Down(16)',
      '    linear 10',
      '}',
      'block Down(width, s=2) {',
      '    conv width k=3 s=s p=1',
      '    bn; relu',
      '}',
    ]);
    expect(seen.hintsAfter!.result!.map(label)).toEqual(hints.map(label));

    // The server logged nothing to Neovim's LSP log at error level.
    const log = ['cache', 'state'].map((d) => join(dir, d, 'nvim', 'lsp.log')).filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(log).not.toMatch(/cnn-lsp|TypeError|stack/i);
  });
});

if (!usable && !process.env.CI) {
  describe('Neovim as the LSP client', () => {
    it.skip(`skipped: '${NVIM}' (Neovim 0.7 or later) not found; install Debian's neovim to run it`, () => undefined);
  });
}
