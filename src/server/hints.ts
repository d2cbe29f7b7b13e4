import { InlayHintKind, type InlayHint, type InlayHintLabelPart, type MarkupContent, type Range as LspRange } from 'vscode-languageserver';
import { grouped, bytes, compact, compute, plural, rfShort, shapeText, pair } from './format';
import type { BlockDef, Statement } from '../language/ast';
import { childStatements, isLayerCall, type DocModel, type Entry, type Instance } from './model';
import type { Settings } from './settings';
import { lspRange } from './convert';

export interface Summary {
  entry: Entry;
  inst: Instance;
  output: number | undefined;
  aggregate: boolean;
}

/** The first expansion of a statement and what it gives. */
export function summarize(model: DocModel, entry: Entry): Summary | undefined {
  const inst = model.firstInstance(entry);
  if (!inst || !entry.stmt) return undefined;
  const layer = isLayerCall(entry.stmt);
  const output = layer ? inst.own[0] : model.outputOf(entry, inst);
  return { entry, inst, output, aggregate: !layer };
}

/** `Basic(64)` at line 8: the statement text of a call site, shortened. */
export function callText(model: DocModel, r: { start: { offset: number }; end: { offset: number } }): string {
  const t = model.text.slice(r.start.offset, r.end.offset).replace(/\s+/g, ' ');
  return t.length > 60 ? `${t.slice(0, 57)}…` : t;
}

/** The shapes a statement gives over all its expansions, grouped: `64×56×56 (×2), 128×28×28`. */
export function instanceShapes(model: DocModel, entry: Entry): string {
  const counts = new Map<string, number>();
  for (const inst of entry.instances) {
    const layer = entry.stmt && isLayerCall(entry.stmt);
    const ids = layer ? inst.own : [model.outputOf(entry, inst)];
    for (const id of ids) {
      if (id === undefined) continue;
      const s = shapeText(model.analysis.networks[inst.network].layers[id].shape);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
  }
  return [...counts].map(([s, n]) => (n > 1 ? `${s} (×${n})` : s)).join(', ');
}

/** The note a statement inside a block carries: which call the figures are for. */
export function blockNote(model: DocModel, entry: Entry, inst: Instance): string | undefined {
  if (entry.def.kind !== 'block') return undefined;
  const site = inst.calls[inst.calls.length - 1];
  if (!site) return undefined;
  const n = entry.instances.length;
  return (
    `Inside block \`${entry.def.name.text}\`: figures for the first call, \`${callText(model, site.range)}\` (line ${site.range.start.line + 1})` +
    (n > 1 ? `, 1 of ${n} expansions; they give ${instanceShapes(model, entry)}.` : '.')
  );
}

/** The block a statement calls, itself or as the first call inside it (`repeat 2 { Basic(64) }`). */
function firstBlockCalled(model: DocModel, s: Statement): BlockDef | undefined {
  if (s.kind === 'call') return model.blocks.get(s.keyword.text);
  for (const c of childStatements(s)) {
    const b = firstBlockCalled(model, c);
    if (b) return b;
  }
  return undefined;
}

function md(value: string): MarkupContent {
  return { kind: 'markdown', value };
}

/** A tooltip lists at most this many statements of its line: a line can hold thousands. */
const TOOLTIP_STATEMENTS = 12;

/**
 * The outermost statements that end on the line and expanded (inner ones are in their
 * totals), through the model's end-line index: the cost is the line's statements (and their
 * ancestors that end on it too), whatever the file's length.
 */
export function lineSummaries(model: DocModel, line: number): Summary[] | undefined {
  const { first, ids } = model.endIndex();
  if (line < 0 || line + 1 >= first.length) return undefined;
  const lo = first[line];
  const hi = first[line + 1];
  if (lo === hi) return undefined;
  let out: Summary[] | undefined;
  let lastEnd = -1;
  let sorted = true;
  for (let i = lo; i < hi; i++) {
    const e = model.entries[ids[i]];
    if (enclosedOnLine(e, line)) continue;
    const s = summarize(model, e);
    // An `input` line says its shape already.
    if (!s || (s.output !== undefined && !s.aggregate && model.analysis.networks[s.inst.network].graph.nodes[s.output].attrs.kind === 'input')) continue;
    if (e.range.end.offset < lastEnd) sorted = false;
    lastEnd = e.range.end.offset;
    (out ??= []).push(s);
  }
  if (out && !sorted) out.sort((a, b) => a.entry.range.end.offset - b.entry.range.end.offset);
  return out;
}

/** Whether a statement that expanded, strictly larger and ending on the same line, holds this one. */
function enclosedOnLine(e: Entry, line: number): boolean {
  for (let p = e.parent; p?.stmt && p.range.end.line === line; p = p.parent) {
    if (p.instances.length > 0 && (p.range.start.offset < e.range.start.offset || p.range.end.offset > e.range.end.offset)) return true;
  }
  return false;
}

function figures(model: DocModel, s: Summary) {
  const net = model.analysis.networks[s.inst.network];
  if (!s.aggregate) {
    const id = s.output;
    const l = id === undefined ? undefined : net.layers[id];
    // A layer statement inside a repeat produced several layers: count them all.
    let params = 0;
    let macs = 0;
    let mem = 0;
    for (const o of s.inst.own) {
      params += net.layers[o].params;
      macs += net.layers[o].macs;
      mem += net.layers[o].activationBytes;
    }
    return { shape: l?.shape ?? null, rf: l?.rf ?? null, params, macs, mem, layers: s.inst.own.length };
  }
  const t = model.totals(s.inst);
  const l = s.output === undefined ? undefined : net.layers[s.output];
  return { shape: l?.shape ?? null, rf: l?.rf ?? null, params: t.params, macs: t.macs, mem: t.bytes, layers: t.layers };
}

function tooltip(model: DocModel, sums: Summary[], settings: Settings): string {
  const lines: string[] = [];
  const shown = sums.length > TOOLTIP_STATEMENTS ? sums.slice(0, TOOLTIP_STATEMENTS) : sums;
  for (const s of shown) {
    const f = figures(model, s);
    const net = model.analysis.networks[s.inst.network];
    const c = compute(f.macs, settings);
    const stmt = s.entry.stmt!;
    const what = stmt.label ? `${stmt.label.text}: ${stmt.keyword.text}` : stmt.keyword.text;
    const head = s.aggregate ? `**${what}** expands to ${plural(f.layers, 'layer')}` : `**${what}**${f.layers > 1 ? ` (×${f.layers}, repeated)` : ''}`;
    lines.push(`${head} → \`${shapeText(f.shape)}\``);
    const parts = [`params ${grouped(f.params)}`, `${c.unit} ${grouped(c.value)}`, `activations ${grouped(f.mem)} B (${bytes(f.mem)}, ${net.dtype})`];
    if (f.rf) parts.push(`receptive field ${pair(f.rf.size)}, effective stride ${pair(f.rf.stride)}`);
    lines.push(parts.join(' · '));
    const note = blockNote(model, s.entry, s.inst);
    if (note) lines.push(`_${note}_`);
    lines.push('');
  }
  if (shown !== sums) lines.push(`_…and ${grouped(sums.length - shown.length)} more statements on this line (the hint counts them all)._`);
  return lines.join('\n\n').trim();
}

export interface HintOptions {
  /** Tooltips in the hints; without, `data` and the client asks `inlayHint/resolve`. */
  tooltips: boolean;
  /** Kept in each hint for `inlayHint/resolve`. */
  data?: unknown;
}

/** The hint at the end of one line, or none. */
function lineHint(model: DocModel, line: number, settings: Settings, uri: string, options: HintOptions): InlayHint | undefined {
  const sums = lineSummaries(model, line);
  if (!sums) return undefined;
  const opt = settings.inlayHints;
  const last = sums[sums.length - 1];
  let params = 0;
  let macs = 0;
  let mem = 0;
  let aggregate = false;
  for (const s of sums) {
    const f = figures(model, s);
    params += f.params;
    macs += f.macs;
    mem += f.mem;
    aggregate ||= s.aggregate;
  }
  const f = figures(model, last);
  const parts: InlayHintLabelPart[] = [];
  const stmt = last.entry.stmt!;
  let linked = false;
  if (opt.shape || aggregate) {
    const part: InlayHintLabelPart = { value: `→ ${shapeText(f.shape)}` };
    const block = firstBlockCalled(model, stmt);
    if (block) {
      part.location = { uri, range: lspRange(block.name.range) };
      linked = true;
    }
    parts.push(part);
  }
  const extra: string[] = [];
  if (opt.receptiveField && f.rf) extra.push(rfShort(f.rf));
  const c = compute(macs, settings);
  if (aggregate) {
    extra.push(`Σ ${compact(params)} params`, `${compact(c.value)} ${c.unit}`);
  } else {
    if (opt.macs && macs) extra.push(`${compact(c.value)} ${c.unit}`);
    if (opt.params && params) extra.push(`${compact(params)} params`);
  }
  if (opt.memory && mem) extra.push(bytes(mem));
  if (extra.length) parts.push({ value: `${parts.length ? ' · ' : ''}${extra.join(' · ')}` });
  if (!parts.length) return undefined;
  const n = last.entry.instances.length;
  const site = last.inst.calls[last.inst.calls.length - 1];
  if (last.entry.def.kind === 'block' && site) {
    parts.push({
      value: n > 1 ? ` (1 of ${n})` : ' (call)',
      tooltip: md(`Figures for the first call, \`${callText(model, site.range)}\` at line ${site.range.start.line + 1}; click to go there.`),
      location: { uri, range: lspRange(site.range) },
    });
    linked = true;
  }
  // Parts only where a part links somewhere: a plain label is a third of the bytes.
  const hint: InlayHint = {
    position: { line: stmt.range.end.line, character: stmt.range.end.character },
    label: linked ? parts : parts.length === 1 ? parts[0].value : parts.map((p) => p.value).join(''),
    kind: InlayHintKind.Type,
    paddingLeft: true,
  };
  if (options.tooltips) hint.tooltip = md(tooltip(model, sums, settings));
  else if (options.data !== undefined) hint.data = options.data;
  return hint;
}

/** The tooltip of the hint at the end of a line (`inlayHint/resolve`). */
export function hintTooltip(model: DocModel, line: number, settings: Settings): MarkupContent | undefined {
  const sums = lineSummaries(model, line);
  return sums ? md(tooltip(model, sums, settings)) : undefined;
}

/** The lines of a range that the document has. */
function lineSpan(model: DocModel, range: LspRange): [number, number] {
  const last = model.analysis.parsed.lines.lineCount - 1;
  return [Math.min(range.start.line, last + 1), Math.min(range.end.line, last)];
}

export function inlayHints(model: DocModel, range: LspRange, settings: Settings, uri: string, options: HintOptions = { tooltips: true }): InlayHint[] {
  const job = new HintJob(model, range, settings, uri, options);
  job.run(Infinity);
  return job.hints;
}

/**
 * The hints of a range computed a slice at a time, so that the server can answer other
 * requests (and notice a cancellation) between slices of a long range.
 */
export class HintJob {
  readonly hints: InlayHint[] = [];
  private line: number;
  private readonly end: number;

  constructor(
    private readonly model: DocModel,
    range: LspRange,
    private readonly settings: Settings,
    private readonly uri: string,
    private readonly options: HintOptions,
  ) {
    [this.line, this.end] = lineSpan(model, range);
  }

  get done(): boolean {
    return this.line > this.end;
  }

  /** Computes lines until done or `budgetMs` have passed; true when done. */
  run(budgetMs: number): boolean {
    const t0 = budgetMs === Infinity ? 0 : performance.now();
    while (this.line <= this.end) {
      // The clock every 256 lines: reading it costs more than a short line's hint.
      for (let k = 0; k < 256 && this.line <= this.end; k++, this.line++) {
        const h = lineHint(this.model, this.line, this.settings, this.uri, this.options);
        if (h) this.hints.push(h);
      }
      if (budgetMs !== Infinity && performance.now() - t0 >= budgetMs) break;
    }
    return this.done;
  }
}
