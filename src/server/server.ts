/**
 * The language server, shared by the Node (stdio, IPC) and the browser (web worker) entries.
 * It owns no analysis logic: it runs the foundation's `analyzeText` once per document version
 * and adapts the result to LSP.
 */
import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  LSPErrorCodes,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type Location,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ExpansionCache, type CacheStats } from '../analysis';
import { IncrementalParser } from '../language';
import { diagnosticLine, humanReport } from '../analysis/format';
import { codeActions } from './actions';
import { completions, signatureHelp } from './completion';
import { lspRange, toLspDiagnostic } from './convert';
import { formatText } from './formatting';
import { inlayHints } from './hints';
import { hover } from './hover';
import { codeLenses } from './lens';
import { buildModel, type DocModel } from './model';
import { DEFAULT_SETTINGS, normalizeSettings, type Settings } from './settings';
import { LEGEND, documentSymbols, foldingRanges, isValidName, occurrenceAt, referencesOf, semanticTokens } from './symbols';

export const ANALYSIS_TABLE_REQUEST = 'cnn/analysisTable';
/** The last analysis of a document: its version, its time and what it took from the cache. */
export const ANALYSIS_STATS_REQUEST = 'cnn/analysisStats';

export interface AnalysisStats {
  version: number;
  ms: number;
  /** True when the text was the last analysis's (an undo, a save): nothing was analysed. */
  reused: boolean;
  cache?: CacheStats;
  /** Statements taken over from the last version's tree rather than parsed. */
  reusedStatements?: number;
}

export interface AnalysisTableParams {
  uri: string;
  network?: string;
}

export interface AnalysisTableResult {
  markdown: string;
  networks: string[];
}

export interface ServerHooks {
  /** Called after each analysis with its duration, for benchmarks and logs. */
  onAnalysis?: (uri: string, version: number, ms: number, cache?: CacheStats) => void;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function startServer(connection: Connection, hooks: ServerHooks = {}): void {
  const documents = new TextDocuments(TextDocument);
  const models = new Map<string, DocModel>();
  /**
   * Per document, kept from one version to the next: block expansions (see graph/cache.ts) and
   * the parser that takes over the statements an edit did not touch.
   */
  const caches = new Map<string, { expansions: ExpansionCache; parser: IncrementalParser }>();
  const stats = new Map<string, AnalysisStats>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  let settings: Settings = DEFAULT_SETTINGS;
  let pullConfiguration = false;

  /** The analysis of the document's current version: cached, or computed now (never waits for the debounce). */
  function modelOf(uri: string): DocModel | undefined {
    const doc = documents.get(uri);
    if (!doc) return undefined;
    const hit = models.get(uri);
    if (hit && hit.version === doc.version && hit.analysis.networks.every((n) => n.dtype === settings.memory.dtype)) return hit;
    const t0 = now();
    const text = doc.getText();
    let cache = caches.get(uri);
    if (!cache) caches.set(uri, (cache = { expansions: new ExpansionCache(), parser: new IncrementalParser() }));
    // Same text (an undo, a save, a reopen): the analysis still holds.
    const reused = !!hit && hit.text === text && hit.analysis.networks.every((n) => n.dtype === settings.memory.dtype);
    let model: DocModel;
    const parsedBefore = cache.parser.reused;
    if (reused) model = reuse(hit!, doc.version);
    else {
      // The new parse takes statements over from the last model's tree: that model is spent.
      models.delete(uri);
      model = buildModel(text, doc.version, { dtype: settings.memory.dtype, cache: cache.expansions, parser: cache.parser });
    }
    models.set(uri, model);
    const ms = now() - t0;
    const cacheStats = reused ? undefined : model.analysis.cacheStats;
    stats.set(uri, { version: doc.version, ms, reused, cache: cacheStats, reusedStatements: cache.parser.reused - parsedBefore });
    hooks.onAnalysis?.(uri, doc.version, ms, cacheStats);
    return model;
  }

  function reuse(m: DocModel, version: number): DocModel {
    return Object.assign(Object.create(Object.getPrototypeOf(m)), m, { version });
  }

  function publish(uri: string): void {
    timers.delete(uri);
    const m = modelOf(uri);
    if (!m) return;
    void connection.sendDiagnostics({ uri, version: m.version, diagnostics: m.analysis.diagnostics.map((d) => toLspDiagnostic(d, uri)) });
  }

  function schedule(uri: string, delay: number): void {
    const t = timers.get(uri);
    if (t) clearTimeout(t);
    timers.set(uri, setTimeout(() => guard(() => publish(uri), undefined), delay));
  }

  function guard<T>(f: () => T, fallback: T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      connection.console.error(`cnn-lsp: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fallback;
    }
  }

  function offsetOf(m: DocModel, p: { line: number; character: number }): number {
    return m.analysis.parsed.lines.offsetAt(p.line, p.character);
  }

  async function refreshSettings(): Promise<void> {
    if (!pullConfiguration) return;
    try {
      const raw = await connection.workspace.getConfiguration({ section: 'cnn' });
      settings = normalizeSettings(raw);
    } catch {
      /* the client may not answer: keep what we have */
    }
  }

  function settingsChanged(): void {
    for (const d of documents.all()) schedule(d.uri, 0);
    void connection.languages.inlayHint.refresh().catch(() => undefined);
    void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    pullConfiguration = !!params.capabilities.workspace?.configuration;
    const init = params.initializationOptions as { settings?: unknown } | undefined;
    if (init?.settings) settings = normalizeSettings(init.settings);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
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
        inlayHintProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
      },
      serverInfo: { name: 'cnn-lsp', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (pullConfiguration) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: 'cnn' }).catch(() => undefined);
      void refreshSettings().then(settingsChanged);
    }
  });

  connection.onDidChangeConfiguration((change) => {
    if (pullConfiguration) void refreshSettings().then(settingsChanged);
    else {
      const s = (change.settings as { cnn?: unknown } | undefined)?.cnn;
      if (s) settings = normalizeSettings(s);
      settingsChanged();
    }
  });

  documents.onDidOpen((e) => schedule(e.document.uri, 0));
  documents.onDidChangeContent((e) => schedule(e.document.uri, settings.debounceMs));
  documents.onDidClose((e) => {
    const t = timers.get(e.document.uri);
    if (t) clearTimeout(t);
    timers.delete(e.document.uri);
    models.delete(e.document.uri);
    caches.delete(e.document.uri);
    stats.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.languages.inlayHint.on((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? inlayHints(m, p.range, settings, p.textDocument.uri) : [];
  }, []));

  connection.onHover((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? (hover(m, offsetOf(m, p.position), settings) ?? null) : null;
  }, null));

  connection.onCompletion((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? completions(m, offsetOf(m, p.position)) : [];
  }, []));

  connection.onSignatureHelp((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? (signatureHelp(m, offsetOf(m, p.position)) ?? null) : null;
  }, null));

  connection.onDefinition((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    if (!m) return null;
    const o = occurrenceAt(m, offsetOf(m, p.position));
    if (!o?.sym) return null;
    const decl = referencesOf(m, o.sym).find((r) => r.decl);
    return decl ? ({ uri: p.textDocument.uri, range: lspRange(decl.range) } satisfies Location) : null;
  }, null));

  connection.onReferences((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    if (!m) return [];
    const o = occurrenceAt(m, offsetOf(m, p.position));
    if (!o?.sym) return [];
    return referencesOf(m, o.sym)
      .filter((r) => p.context.includeDeclaration || !r.decl)
      .map((r) => ({ uri: p.textDocument.uri, range: lspRange(r.range) }));
  }, []));

  connection.onPrepareRename((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    if (!m) return null;
    const o = occurrenceAt(m, offsetOf(m, p.position));
    if (!o?.sym || o.sym.kind === 'network') return null;
    return { range: lspRange(o.range), placeholder: o.sym.name };
  }, null));

  connection.onRenameRequest((p) => guard((): WorkspaceEdit | null => {
    const m = modelOf(p.textDocument.uri);
    if (!m) return null;
    const o = occurrenceAt(m, offsetOf(m, p.position));
    if (!o?.sym) return null;
    const problem = isValidName(p.newName, o.sym);
    if (problem) throw new ResponseError(LSPErrorCodes.RequestFailed, problem);
    const edits: TextEdit[] = referencesOf(m, o.sym).map((r) => ({ range: lspRange(r.range), newText: p.newName }));
    return { changes: { [p.textDocument.uri]: edits } };
  }, null));

  connection.onDocumentSymbol((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? documentSymbols(m) : [];
  }, []));

  connection.onFoldingRanges((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? foldingRanges(m) : [];
  }, []));

  connection.languages.semanticTokens.on((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return { data: m ? semanticTokens(m) : [] };
  }, { data: [] }));

  connection.onDocumentFormatting((p) => guard(() => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return [];
    const text = doc.getText();
    const formatted = formatText(text);
    if (formatted === undefined || formatted === text) return [];
    return [{ range: { start: { line: 0, character: 0 }, end: doc.positionAt(text.length) }, newText: formatted }];
  }, []));

  connection.onCodeLens((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? codeLenses(m, p.textDocument.uri, settings) : [];
  }, []));

  connection.onCodeAction((p) => guard(() => {
    const m = modelOf(p.textDocument.uri);
    return m ? codeActions(m, p.textDocument.uri, p.range, p.context.diagnostics, p.context.only) : [];
  }, []));

  connection.onRequest(ANALYSIS_TABLE_REQUEST, (p: AnalysisTableParams): AnalysisTableResult | null =>
    guard(() => {
      const m = modelOf(p.uri);
      if (!m) return null;
      const file = decodeURIComponent(p.uri.replace(/^.*\//, ''));
      const nets = m.analysis.networks.filter((n) => !p.network || n.graph.network === p.network);
      const parts = [`# ${file}`, ''];
      for (const net of nets) parts.push(`## ${net.graph.network}`, '', '```text', humanReport(net, file), '```', '');
      if (!nets.length) parts.push('_No network to analyse._', '');
      if (m.analysis.diagnostics.length) {
        parts.push('## Diagnostics', '', '```text', ...m.analysis.diagnostics.map((d) => diagnosticLine(file, d)), '```', '');
      }
      return { markdown: parts.join('\n'), networks: m.analysis.networks.map((n) => n.graph.network) };
    }, null),
  );

  connection.onRequest(ANALYSIS_STATS_REQUEST, (p: { uri: string }): AnalysisStats | null => stats.get(p.uri) ?? null);

  documents.listen(connection);
  connection.listen();
}
