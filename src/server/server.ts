/**
 * The language server, shared by the Node (stdio, IPC) and the browser (web worker) entries.
 * It owns no analysis logic: it runs the foundation's `analyzeText` once per document content
 * and adapts the result to LSP, for the client that `initialize` describes.
 */
import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  LSPErrorCodes,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  type CancellationToken,
  TextDocumentSyncKind,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type InlayHint,
  type Location,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ExpansionCache, type CacheStats } from '../analysis';
import { IncrementalParser } from '../language';
import { diagnosticLine, humanReport } from '../analysis/format';
import {
  AnalysisStatsRequest,
  AnalysisTableRequest,
  ProcessUsageRequest,
  ServerCommands,
  type AnalysisStats,
  type AnalysisTableResult,
  type ProcessUsage,
} from '../protocol/lsp-ext';
import { codeActions } from './actions';
import { NO_FEATURES, clientFeatures, type ClientFeatures } from './client';
import { completions, signatureHelp } from './completion';
import { lspRange, publishedDiagnostics } from './convert';
import { formatText, indentUnit } from './formatting';
import { HintJob, hintTooltip } from './hints';
import { hover } from './hover';
import { codeLenses } from './lens';
import { buildModel, failedModel, type DocModel } from './model';
import * as P from './params';
import { prepareRename, renameEdits } from './rename';
import { DEFAULT_SETTINGS, normalizeSettings, type Settings } from './settings';
import { LEGEND, documentSymbols, foldingRanges, occurrenceAt, referencesOf, semanticTokens } from './symbols';

export interface ServerHooks {
  /** Called after each analysis with its duration, for benchmarks and logs. */
  onAnalysis?: (uri: string, version: number, ms: number, cache?: CacheStats) => void;
}

/** One open document and what the server keeps for it. */
interface OpenDoc {
  uri: string;
  /** Small and unique for the session: inlay hints carry it (not the uri) for `inlayHint/resolve`. */
  id: number;
  doc: TextDocument;
  /**
   * Bumped by every open and change. A model is for one revision, not one version: a client may
   * send two changes with the same version number.
   */
  revision: number;
  model?: DocModel;
  modelRevision: number;
  /**
   * Kept from one content to the next: block expansions (see graph/cache.ts) and the parser
   * that takes over the statements an edit did not touch.
   */
  expansions: ExpansionCache;
  parser: IncrementalParser;
  stats?: AnalysisStats;
  timer?: ReturnType<typeof setTimeout>;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The longest range whose hints carry their tooltips for a client that cannot resolve them. */
const EAGER_TOOLTIP_LINES = 1_000;

/** A whole-file hint request yields to other messages after this much work. */
const HINT_SLICE_MS = 8;

/** Lets the messages that arrived meanwhile in (a cancellation, a change, another document's request). */
const yieldNow: () => Promise<void> =
  typeof setImmediate === 'function' ? () => new Promise((r) => setImmediate(r)) : () => new Promise((r) => setTimeout(r, 0));

function cancelled(): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled by the client');
}

function superseded(uri: string): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.ContentModified, `${uri} changed while the request ran`);
}

/** Why an analysis threw, for the user: a stack overflow is a nesting too deep for the parser. */
function failureText(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return 'this file could not be analysed: it nests blocks, calls or parentheses too deeply for the analysis (the stack overflowed)';
  }
  return `this file could not be analysed: ${e instanceof Error ? e.message : String(e)}`;
}

export function startServer(connection: Connection, hooks: ServerHooks = {}): void {
  const docs = new Map<string, OpenDoc>();
  const byId = new Map<number, OpenDoc>();
  let nextId = 1;
  let settings: Settings = DEFAULT_SETTINGS;
  let client: ClientFeatures = NO_FEATURES;

  // ── the analysis of a document ─────────────────────────────────────────────

  const dtypeHolds = (m: DocModel) => m.analysis.networks.every((n) => n.dtype === settings.memory.dtype);

  /** The analysis of the document's current content: kept, or computed now (never waits for the debounce). */
  function modelOf(d: OpenDoc): DocModel {
    let hit = d.model;
    if (hit && d.modelRevision === d.revision && dtypeHolds(hit)) return hit;
    const t0 = now();
    const text = d.doc.getText();
    const version = d.doc.version;
    // Same text (an undo, a save, a change sent twice): the analysis still holds.
    const reused = !!hit && !hit.failure && hit.text === text && dtypeHolds(hit);
    let model: DocModel;
    const parsedBefore = d.parser.reused;
    if (reused) model = reuse(hit!, version);
    else {
      // The new parse takes statements over from the last model's tree: that model is spent,
      // and with no reference left the collector can take it while the new one is built.
      d.model = hit = undefined;
      try {
        model = buildModel(text, version, { dtype: settings.memory.dtype, cache: d.expansions, parser: d.parser });
      } catch (e) {
        // What an analysis that threw left in the caches is not to be built on.
        d.expansions = new ExpansionCache();
        d.parser = new IncrementalParser();
        model = failedModel(text, version, failureText(e));
        const unexpected = !(e instanceof RangeError);
        connection.console.error(`cnn-lsp: ${d.uri} (version ${version}): ${model.failure}${unexpected && e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
      }
    }
    d.model = model;
    d.modelRevision = d.revision;
    const ms = now() - t0;
    const cacheStats = reused ? undefined : model.analysis.cacheStats;
    d.stats = { version, ms, reused, cache: cacheStats, reusedStatements: d.parser.reused - parsedBefore };
    hooks.onAnalysis?.(d.uri, version, ms, cacheStats);
    return model;
  }

  function reuse(m: DocModel, version: number): DocModel {
    return Object.assign(Object.create(Object.getPrototypeOf(m)), m, { version });
  }

  function publish(d: OpenDoc): void {
    d.timer = undefined;
    if (docs.get(d.uri) !== d) return;
    const m = modelOf(d);
    const diagnostics = publishedDiagnostics(m.analysis.diagnostics, d.uri);
    if (m.failure) diagnostics.unshift({ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: 1, code: 'analysis-failed', source: 'cnn', message: m.failure });
    void connection.sendDiagnostics({ uri: d.uri, version: d.doc.version, diagnostics }).catch(() => undefined);
  }

  function schedule(d: OpenDoc, delay: number): void {
    if (d.timer) clearTimeout(d.timer);
    d.timer = setTimeout(() => {
      try {
        publish(d);
      } catch (e) {
        connection.console.error(`cnn-lsp: diagnostics of ${d.uri}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }, delay);
  }

  // ── requests: checked params, then the handler ─────────────────────────────

  /**
   * Runs a request handler: malformed params are answered with InvalidParams and the reason,
   * a ResponseError goes to the client as it is, anything else is a bug of ours: logged with its
   * stack, and the client gets the fallback (an empty answer) rather than an error popup.
   */
  async function handle<R>(method: string, run: () => R | Promise<R>, fallback: R, token: CancellationToken): Promise<R> {
    // A request the client cancelled while it waited is not started.
    if (token.isCancellationRequested) throw cancelled();
    try {
      return await run();
    } catch (e) {
      if (e instanceof P.ParamsError) throw P.invalid(method, e.message);
      if (e instanceof ResponseError) throw e;
      connection.console.error(`cnn-lsp: ${method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fallback;
    }
  }

  function openDoc(uri: string): OpenDoc {
    const d = docs.get(uri);
    if (!d) throw new P.ParamsError(`${JSON.stringify(uri)} is not an open document (the server answers for documents sent with textDocument/didOpen)`);
    return d;
  }

  /** The open document a request names in `params.textDocument.uri`. */
  function docOf(params: unknown): OpenDoc {
    return openDoc(P.documentUri(params));
  }

  /** An LSP position's offset; a character past the end of its line means the line's end (LSP's rule). */
  function offsetOf(m: DocModel, p: P.Pos): number {
    const lines = m.analysis.parsed.lines;
    if (p.line >= lines.lineCount) return m.text.length;
    const start = lines.offsetAt(p.line, 0);
    let end = p.line + 1 < lines.lineCount ? lines.offsetAt(p.line + 1, 0) - 1 : m.text.length;
    if (end > start && m.text.charCodeAt(end - 1) === 13) end--;
    return Math.min(start + p.character, end);
  }

  /** `textDocument` and `position`: the document, its model and the offset. */
  function at(params: unknown): { d: OpenDoc; m: DocModel; offset: number } {
    const d = docOf(params);
    const pos = P.position((params as Record<string, unknown>).position, 'params.position');
    const m = modelOf(d);
    return { d, m, offset: offsetOf(m, pos) };
  }

  // ── settings ───────────────────────────────────────────────────────────────

  async function refreshSettings(): Promise<void> {
    if (!client.pullConfiguration) return;
    try {
      const raw = await connection.workspace.getConfiguration({ section: 'cnn' });
      settings = normalizeSettings(raw);
    } catch {
      /* the client may not answer: keep what we have */
    }
  }

  function settingsChanged(): void {
    for (const d of docs.values()) schedule(d, 0);
    // Only to clients that said they take these requests.
    if (client.inlayHintRefresh) void connection.languages.inlayHint.refresh().catch(() => undefined);
    if (client.codeLensRefresh) void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const p: InitializeParams = P.isObject(params) ? params : ({} as InitializeParams);
    client = clientFeatures(p);
    const init = P.isObject(p.initializationOptions) ? p.initializationOptions : undefined;
    if (init?.settings) settings = normalizeSettings(init.settings);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['=', '(', ',', ' '] },
        signatureHelpProvider: { triggerCharacters: ['(', ',', ' '], retriggerCharacters: ['='] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        semanticTokensProvider: { legend: LEGEND, full: true },
        codeLensProvider: { resolveProvider: false },
        // Tooltips wait for resolve where the client can ask for them: a whole-file request
        // (Neovim asks for the whole buffer) then carries labels only.
        inlayHintProvider: { resolveProvider: client.resolveHintTooltips },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
        executeCommandProvider: { commands: Object.values(ServerCommands) },
      },
      serverInfo: { name: 'cnn-lsp', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (!client.pullConfiguration) return;
    if (client.registerConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'cnn' }).catch(() => undefined);
    void refreshSettings().then(settingsChanged, () => undefined);
  });

  connection.onDidChangeConfiguration((change) => {
    if (client.pullConfiguration) void refreshSettings().then(settingsChanged, () => undefined);
    else {
      const s = P.isObject(change) && P.isObject(change.settings) ? change.settings.cnn : undefined;
      if (s) settings = normalizeSettings(s);
      settingsChanged();
    }
  });

  // ── document sync ──────────────────────────────────────────────────────────

  /** A notification's problem: logged in one line (there is no one to answer). */
  function notify(method: string, run: () => void): void {
    try {
      run();
    } catch (e) {
      if (e instanceof P.ParamsError) connection.console.error(`cnn-lsp: ${method}: ${e.message}; ignored`);
      else connection.console.error(`cnn-lsp: ${method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  function version(v: unknown, what: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new P.ParamsError(`${what} must be an integer (got ${JSON.stringify(v) ?? 'nothing'})`);
    return v;
  }

  connection.onDidOpenTextDocument((params) =>
    notify('textDocument/didOpen', () => {
      const td = P.object(P.object(params, 'params').textDocument, 'params.textDocument');
      const uri = P.string(td.uri, 'params.textDocument.uri');
      const text = P.string(td.text, 'params.textDocument.text');
      const v = version(td.version, 'params.textDocument.version');
      const old = docs.get(uri);
      if (old?.timer) clearTimeout(old.timer);
      if (old) byId.delete(old.id);
      const d: OpenDoc = {
        uri,
        id: nextId++,
        doc: TextDocument.create(uri, typeof td.languageId === 'string' ? td.languageId : 'cnn', v, text),
        revision: 1,
        modelRevision: 0,
        expansions: new ExpansionCache(),
        parser: new IncrementalParser(),
      };
      docs.set(uri, d);
      byId.set(d.id, d);
      schedule(d, 0);
    }),
  );

  connection.onDidChangeTextDocument((params) =>
    notify('textDocument/didChange', () => {
      const p = P.object(params, 'params');
      const td = P.object(p.textDocument, 'params.textDocument');
      const uri = P.string(td.uri, 'params.textDocument.uri');
      const v = version(td.version, 'params.textDocument.version');
      const changes = P.array(p.contentChanges, 'params.contentChanges').map((c, i): TextDocumentContentChangeEvent => {
        const what = `params.contentChanges[${i}]`;
        const o = P.object(c, what);
        const text = P.string(o.text, `${what}.text`);
        return o.range === undefined ? { text } : { range: P.range(o.range, `${what}.range`), text };
      });
      const d = docs.get(uri);
      if (!d) throw new P.ParamsError(`${JSON.stringify(uri)} is not open`);
      if (!changes.length) return;
      d.doc = TextDocument.update(d.doc, changes, v);
      d.revision++;
      schedule(d, settings.debounceMs);
    }),
  );

  connection.onDidCloseTextDocument((params) =>
    notify('textDocument/didClose', () => {
      const uri = P.documentUri(params);
      const d = docs.get(uri);
      if (!d) return;
      if (d.timer) clearTimeout(d.timer);
      docs.delete(uri);
      byId.delete(d.id);
      void connection.sendDiagnostics({ uri, diagnostics: [] }).catch(() => undefined);
    }),
  );

  // ── language features ──────────────────────────────────────────────────────

  connection.languages.inlayHint.on((params, token) =>
    handle(
      'textDocument/inlayHint',
      async (): Promise<InlayHint[]> => {
        const d = docOf(params);
        const range = P.range(params.range, 'params.range');
        if (token.isCancellationRequested) throw cancelled();
        const m = modelOf(d);
        const revision = d.revision;
        // A client that cannot resolve tooltips gets them with the hints of a range someone can
        // look at; the whole of a long file (Neovim asks for the whole buffer, and shows no
        // tooltips) gets the labels only, a third of the bytes. Hovers say more anyway.
        const eager = !client.resolveHintTooltips && Math.min(range.end.line, m.analysis.parsed.lines.lineCount - 1) - range.start.line < EAGER_TOOLTIP_LINES;
        const job = new HintJob(m, range, settings, d.uri, client.resolveHintTooltips ? { tooltips: false, data: [d.id, revision] } : { tooltips: eager });
        // Between slices (and once after the analysis, however long it took) the messages that
        // came meanwhile are handled: a cancellation, a change, other documents' requests.
        for (;;) {
          await yieldNow();
          if (token.isCancellationRequested) throw cancelled();
          if (docs.get(d.uri) !== d || d.revision !== revision) throw superseded(d.uri);
          if (job.run(HINT_SLICE_MS)) return job.hints;
        }
      },
      [],
      token,
    ),
  );

  connection.languages.inlayHint.resolve((hint, token) =>
    handle(
      'inlayHint/resolve',
      () => {
        const h = P.object(hint, 'params') as unknown as InlayHint;
        const pos = P.position(h.position, 'params.position');
        const data = h.data;
        if (!Array.isArray(data) || data.length !== 2 || !data.every((x) => typeof x === 'number')) return h;
        const d = byId.get(data[0]);
        // A hint of an earlier content (or a closed document) stays as it was.
        if (!d || d.revision !== data[1]) return h;
        const tip = hintTooltip(modelOf(d), pos.line, settings);
        if (tip) h.tooltip = tip;
        return h;
      },
      hint,
      token,
    ),
  );

  connection.onHover((params, token) =>
    handle(
      'textDocument/hover',
      () => {
        const { m, offset } = at(params);
        const h = hover(m, offset, settings);
        if (h && !client.markdownHover && typeof h.contents === 'object' && 'kind' in h.contents) h.contents = { kind: 'plaintext', value: h.contents.value };
        return h ?? null;
      },
      null,
      token,
    ),
  );

  connection.onCompletion((params, token) =>
    handle(
      'textDocument/completion',
      () => {
        const { m, offset } = at(params);
        return completions(m, offset, client);
      },
      [],
      token,
    ),
  );

  connection.onSignatureHelp((params, token) =>
    handle(
      'textDocument/signatureHelp',
      () => {
        const { m, offset } = at(params);
        return signatureHelp(m, offset) ?? null;
      },
      null,
      token,
    ),
  );

  connection.onDefinition((params, token) =>
    handle(
      'textDocument/definition',
      () => {
        const { d, m, offset } = at(params);
        const o = occurrenceAt(m, offset);
        if (!o?.sym) return null;
        const decl = referencesOf(m, o.sym).find((r) => r.decl);
        return decl ? ({ uri: d.uri, range: lspRange(decl.range) } satisfies Location) : null;
      },
      null,
      token,
    ),
  );

  connection.onReferences((params, token) =>
    handle(
      'textDocument/references',
      () => {
        const { d, m, offset } = at(params);
        const includeDeclaration = P.boolean(P.object(params.context, 'params.context').includeDeclaration, 'params.context.includeDeclaration');
        const o = occurrenceAt(m, offset);
        if (!o?.sym) return [];
        return referencesOf(m, o.sym)
          .filter((r) => includeDeclaration || !r.decl)
          .map((r) => ({ uri: d.uri, range: lspRange(r.range) }));
      },
      [],
      token,
    ),
  );

  connection.onPrepareRename((params, token) =>
    handle(
      'textDocument/prepareRename',
      () => {
        const { m, offset } = at(params);
        return prepareRename(m, offset);
      },
      null,
      token,
    ),
  );

  connection.onRenameRequest((params, token) =>
    handle(
      'textDocument/rename',
      () => {
        const { d, m, offset } = at(params);
        const newName = P.string(params.newName, 'params.newName');
        return renameEdits(m, offset, newName, d.uri);
      },
      null,
      token,
    ),
  );

  connection.onDocumentSymbol((params, token) => handle('textDocument/documentSymbol', () => documentSymbols(modelOf(docOf(params))), [], token));

  connection.onFoldingRanges((params, token) => handle('textDocument/foldingRange', () => foldingRanges(modelOf(docOf(params))), [], token));

  connection.languages.semanticTokens.on((params, token) => handle('textDocument/semanticTokens/full', () => ({ data: semanticTokens(modelOf(docOf(params))) }), { data: [] }, token));

  connection.onDocumentFormatting((params, token) =>
    handle(
      'textDocument/formatting',
      () => {
        const d = docOf(params);
        const options = P.object(params.options, 'params.options');
        const indent = indentUnit(P.uinteger(options.tabSize, 'params.options.tabSize'), P.boolean(options.insertSpaces, 'params.options.insertSpaces'));
        const m = modelOf(d);
        if (m.failure) throw new ResponseError(LSPErrorCodes.RequestFailed, m.failure);
        const text = m.text;
        const formatted = formatText(text, { indent });
        if (formatted === undefined || formatted === text) return [];
        return [{ range: { start: { line: 0, character: 0 }, end: d.doc.positionAt(text.length) }, newText: formatted }];
      },
      [],
      token,
    ),
  );

  connection.onCodeLens((params, token) =>
    handle(
      'textDocument/codeLens',
      () => {
        const d = docOf(params);
        return codeLenses(modelOf(d), d.uri, settings, client.commands);
      },
      [],
      token,
    ),
  );

  connection.onCodeAction((params, token) =>
    handle(
      'textDocument/codeAction',
      () => {
        const d = docOf(params);
        const range = P.range(params.range, 'params.range');
        const context = P.object(params.context, 'params.context');
        const diagnostics = P.array(context.diagnostics, 'params.context.diagnostics') as typeof params.context.diagnostics;
        const only = context.only === undefined ? undefined : (P.array(context.only, 'params.context.only').map((k, i) => P.string(k, `params.context.only[${i}]`)) as string[]);
        return codeActions(modelOf(d), d.uri, range, diagnostics, only);
      },
      [],
      token,
    ),
  );

  // ── the server's own requests and commands ─────────────────────────────────

  function analysisTable(d: OpenDoc, network: string | undefined): AnalysisTableResult & { text: string } {
    const m = modelOf(d);
    const file = decodeURIComponent(d.uri.replace(/^.*\//, ''));
    const nets = m.analysis.networks.filter((n) => network === undefined || n.graph.network === network);
    const parts = [`# ${file}`, ''];
    const plain: string[] = [];
    for (const net of nets) {
      const report = humanReport(net, file);
      parts.push(`## ${net.graph.network}`, '', '```text', report, '```', '');
      plain.push(`${net.graph.network}\n${report}`);
    }
    if (!nets.length) {
      const why = m.failure ?? (network === undefined ? 'No network to analyse.' : `No network named '${network}'.`);
      parts.push(`_${why}_`, '');
      plain.push(why);
    }
    if (m.analysis.diagnostics.length) {
      const lines = m.analysis.diagnostics.map((d) => diagnosticLine(file, d));
      parts.push('## Diagnostics', '', '```text', ...lines, '```', '');
      plain.push(lines.join('\n'));
    }
    return { markdown: parts.join('\n'), networks: m.analysis.networks.map((n) => n.graph.network), text: plain.join('\n\n') };
  }

  connection.onRequest(AnalysisTableRequest, (params, token) =>
    handle(
      AnalysisTableRequest.method,
      (): AnalysisTableResult => {
        const p = P.object(params, 'params');
        const d = openDoc(P.string(p.uri, 'params.uri'));
        const { markdown, networks } = analysisTable(d, P.optionalString(p.network, 'params.network'));
        return { markdown, networks };
      },
      { markdown: '', networks: [] },
      token,
    ),
  );

  connection.onRequest(AnalysisStatsRequest, (params, token) =>
    handle(AnalysisStatsRequest.method, () => openDoc(P.string(P.object(params, 'params').uri, 'params.uri')).stats ?? null, null, token),
  );

  connection.onRequest(ProcessUsageRequest, (): ProcessUsage | null => {
    if (typeof process === 'undefined' || typeof process.memoryUsage !== 'function') return null;
    const u = process.memoryUsage();
    const r = typeof process.resourceUsage === 'function' ? process.resourceUsage() : undefined;
    const cpu = process.cpuUsage();
    return { rss: u.rss, peakRss: r ? r.maxRSS * 1024 : u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, cpuMs: (cpu.user + cpu.system) / 1000 };
  });

  connection.onExecuteCommand((params, token) =>
    handle(
      'workspace/executeCommand',
      (): AnalysisTableResult => {
        const p = P.object(params, 'params');
        const command = P.string(p.command, 'params.command');
        if (command !== ServerCommands.analysisTable) throw new P.ParamsError(`unknown command ${JSON.stringify(command)} (the server runs ${Object.values(ServerCommands).join(', ')})`);
        const args = p.arguments === undefined ? [] : P.array(p.arguments, 'params.arguments');
        const d = openDoc(P.string(args[0], 'params.arguments[0] (the document uri)'));
        const { markdown, networks, text } = analysisTable(d, P.optionalString(args[1], 'params.arguments[1] (the network)'));
        // Editors show a message as plain text: the table as `cnn analyze` prints it. A
        // notification: showInformationMessage is a request, which a client may not take.
        void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message: text }).catch(() => undefined);
        return { markdown, networks };
      },
      { markdown: '', networks: [] },
      token,
    ),
  );

  connection.listen();
}

