import { compareDiagnostics, type Diagnostic } from '../language/diagnostics';
import { expandFile } from '../graph/expand';
import type { Graph } from '../graph/types';
import { parse, type IncrementalParser, type ParseResult } from '../language';
import { analyzeGraph, type AnalysisOptions, type NetworkAnalysis } from './analyze';

export type { AnalysisOptions, NetworkAnalysis } from './analyze';
export { ExpansionCache } from '../graph/cache';
export * from './types';

export interface FileAnalysis {
  parsed: ParseResult;
  graphs: Graph[];
  networks: NetworkAnalysis[];
  /** Sorted by position; one per place and kind of problem. */
  diagnostics: Diagnostic[];
  /** With a cache: what this analysis took from it. */
  cacheStats?: CacheStats;
}

export interface CacheStats {
  /** Block calls copied from a template. */
  hits: number;
  /** Block calls expanded and kept as a template. */
  misses: number;
  /** Layers copied rather than expanded. */
  copiedLayers: number;
  /** Layers whose figures came from a template's analysis. */
  analysisHits: number;
  /** Templates kept after this analysis. */
  templates: number;
}

/**
 * A block used in several places can fail the same check at the same statement once per
 * call: keep the first and say how many calls share it.
 */
function mergeRepeats(ds: Diagnostic[]): Diagnostic[] {
  const byKey = new Map<string, { d: Diagnostic; count: number }>();
  const order: { d: Diagnostic; count: number }[] = [];
  for (const d of ds) {
    const key = `${d.code}|${d.range.start.offset}|${d.range.end.offset}`;
    const seen = byKey.get(key);
    if (seen) {
      if (seen.d.message !== d.message) seen.count++;
      continue;
    }
    const entry = { d, count: 1 };
    byKey.set(key, entry);
    order.push(entry);
  }
  return order.map(({ d, count }) => (count > 1 ? { ...d, message: `${d.message} (and ${count - 1} more call${count > 2 ? 's' : ''})` } : d));
}

/**
 * The whole pipeline: text → tokens → syntax tree → expanded graphs → analysis. With a cache
 * (`ExpansionCache`, kept by the caller from one version of a text to the next), block calls
 * it has seen are copied rather than expanded and analysed again; with an `IncrementalParser`
 * (likewise kept), statements the text shares with the last version are not parsed again.
 */
export function analyzeText(text: string, options: AnalysisOptions & { network?: string; parser?: IncrementalParser } = {}): FileAnalysis {
  const cache = options.cache;
  const before = cache && { hits: cache.hits, misses: cache.misses, copiedLayers: cache.copiedLayers, analysisHits: cache.analysisHits };
  const parsed = options.parser ? options.parser.parse(text) : parse(text);
  const expanded = expandFile(parsed.file, cache);
  const shapeDiagnostics: Diagnostic[] = [];
  const networks = expanded.graphs.map((g) =>
    analyzeGraph(g, options.network === undefined || options.network === g.network ? options : { dtype: options.dtype, cache }, shapeDiagnostics),
  );
  const diagnostics = mergeRepeats([...parsed.diagnostics, ...expanded.diagnostics, ...shapeDiagnostics]).sort(compareDiagnostics);
  if (!cache || !before) return { parsed, graphs: expanded.graphs, networks, diagnostics };
  cache.sweep();
  const cacheStats: CacheStats = {
    hits: cache.hits - before.hits,
    misses: cache.misses - before.misses,
    copiedLayers: cache.copiedLayers - before.copiedLayers,
    analysisHits: cache.analysisHits - before.analysisHits,
    templates: cache.size,
  };
  return { parsed, graphs: expanded.graphs, networks, diagnostics, cacheStats };
}
