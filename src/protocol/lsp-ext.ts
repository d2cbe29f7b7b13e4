/**
 * What the CNN language server speaks beyond LSP, declared once for the server (src/server),
 * the VS Code client (src/extension), the tests and the benchmarks: each custom request as a
 * typed `RequestType` (method, params, result), the commands the server runs itself, the
 * commands it may ask a client to run, and the initialization options a client may send.
 * (The pattern of rust-analyzer's editors/code/src/lsp_ext.ts.)
 *
 * Only plain JSON data crosses here: the server answers with these shapes, the client reads them.
 */
import { RequestType, RequestType0 } from 'vscode-languageserver-protocol';

// ── custom requests ───────────────────────────────────────────────────────────

export interface AnalysisTableParams {
  /** An open document. */
  uri: string;
  /** One network of the file; all of them when absent. */
  network?: string;
}

export interface AnalysisTableResult {
  /** The `cnn analyze` table of each network (in ```text fences) and the file's diagnostics. */
  markdown: string;
  /** Every network of the file, in source order. */
  networks: string[];
}

/** `cnn/analysisTable`: the per-layer table of an open document, as Markdown. */
export const AnalysisTableRequest = new RequestType<AnalysisTableParams, AnalysisTableResult, void>('cnn/analysisTable');

export interface AnalysisStatsParams {
  uri: string;
}

/** What the block-expansion cache gave one analysis (src/analysis `CacheStats`). */
export interface AnalysisCacheStats {
  hits: number;
  misses: number;
  copiedLayers: number;
  analysisHits: number;
  templates: number;
}

export interface AnalysisStats {
  /** The document version the analysis is for. */
  version: number;
  /** Milliseconds for parse, expansion, analysis and the server's indexes. */
  ms: number;
  /** True when the text was the last analysis's (an undo, a save): nothing was analysed. */
  reused: boolean;
  cache?: AnalysisCacheStats;
  /** Statements taken over from the last version's tree rather than parsed. */
  reusedStatements?: number;
}

/**
 * `cnn/analysisStats`: the last analysis of an open document; null when none has run yet (the
 * analysis runs when a request or the diagnostics need it).
 */
export const AnalysisStatsRequest = new RequestType<AnalysisStatsParams, AnalysisStats | null, void>('cnn/analysisStats');

export interface ProcessUsage {
  /** Bytes, from the server process (Node's `process.memoryUsage()` and `resourceUsage()`). */
  rss: number;
  /** The largest resident set of the process so far. */
  peakRss: number;
  heapUsed: number;
  heapTotal: number;
  /** CPU time of the process so far, user and system, in milliseconds. */
  cpuMs: number;
}

/** `cnn/processUsage`: the server's memory and CPU time, for benchmarks; null where the host does not say (a web worker). */
export const ProcessUsageRequest = new RequestType0<ProcessUsage | null, void>('cnn/processUsage');

// ── commands ──────────────────────────────────────────────────────────────────

/**
 * Commands the server executes itself (`workspace/executeCommand`, declared in its
 * `executeCommandProvider`), so that code lenses work in any editor.
 */
export const ServerCommands = {
  /**
   * Arguments `[uri, network?]`. Shows the analysis table (as plain text, `window/showMessage`)
   * and returns it as an `AnalysisTableResult`.
   */
  analysisTable: 'cnn.server.analysisTable',
} as const;

/** Commands of the VS Code extension (package.json `contributes.commands`) that code lenses use. */
export const ExtensionCommands = {
  showAnalysis: 'cnn.showAnalysis',
  showNetwork: 'cnn.showNetwork',
  runOnImage: 'cnn.runOnImage',
  benchmark: 'cnn.benchmark',
} as const;

/** VS Code's own command that opens signature help (after a completed block name). */
export const TRIGGER_PARAMETER_HINTS = 'editor.action.triggerParameterHints';

/** The client commands the VS Code extension can run: what it sends as `clientCommands`. */
export const VSCODE_CLIENT_COMMANDS: readonly string[] = [...Object.values(ExtensionCommands), TRIGGER_PARAMETER_HINTS];

// ── initialization ────────────────────────────────────────────────────────────

export interface InitializationOptions {
  /** The `cnn` settings, for clients that do not answer `workspace/configuration`. */
  settings?: unknown;
  /**
   * Client-side commands (`Command.command`) the client can execute. The server puts a client
   * command in a code lens or a completion item only when it is listed here; without the list,
   * only server commands (`ServerCommands`), which every client can ask the server to run.
   */
  clientCommands?: string[];
}
