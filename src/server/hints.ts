import { InlayHintKind, type InlayHint, type InlayHintLabelPart, type MarkupContent, type Range as LspRange } from 'vscode-languageserver';
import { grouped, bytes, compact, compute, plural, rfShort, shapeText, pair } from './format';
import type { ReceptiveField, Shape } from '../analysis/types';
import type { BlockDef, Statement } from '../language/ast';
import { labelSource } from '../language/ast';
import type { Diagnostic } from '../language/diagnostics';
import { doubtOf } from './problems';
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

/** A statement's figures; one object filled again and again (a whole-file request makes tens of thousands). */
interface Figures {
  shape: Shape | null;
  rf: ReceptiveField | null;
  params: number;
  macs: number;
  mem: number;
  layers: number;
}

const blank = (): Figures => ({ shape: null, rf: null, params: 0, macs: 0, mem: 0, layers: 0 });
const forHint = blank();
const forTooltip = blank();

function figures(model: DocModel, s: Summary, f: Figures): Figures {
  const net = model.analysis.networks[s.inst.network];
  const l = s.output === undefined ? undefined : net.layers[s.output];
  f.shape = l?.shape ?? null;
  f.rf = l?.rf ?? null;
  if (!s.aggregate) {
    // A layer statement inside a repeat produced several layers: count them all.
    const own = s.inst.own;
    let params = 0;
    let macs = 0;
    let mem = 0;
    for (let i = 0; i < own.length; i++) {
      const o = net.layers[own[i]];
      params += o.params;
      macs += o.macs;
      mem += o.activationBytes;
    }
    f.params = params;
    f.macs = macs;
    f.mem = mem;
    f.layers = own.length;
    return f;
  }
  const t = model.totals(s.inst);
  f.params = t.params;
  f.macs = t.macs;
  f.mem = t.bytes;
  f.layers = t.layers;
  return f;
}

/** Per statement: head, figures and any note, as paragraphs; a blank paragraph between statements. */
function tooltip(model: DocModel, sums: Summary[], settings: Settings): string {
  const two = settings.flops === '2xmac';
  const unit = two ? 'FLOPs' : 'MACs';
  const shown = Math.min(sums.length, TOOLTIP_STATEMENTS);
  let out = '';
  for (let i = 0; i < shown; i++) {
    const s = sums[i];
    const f = figures(model, s, forTooltip);
    const net = model.analysis.networks[s.inst.network];
    const stmt = s.entry.stmt!;
    const what = stmt.label ? `${labelSource(stmt.label)}: ${stmt.keyword.text}` : stmt.keyword.text;
    const head = s.aggregate ? `**${what}** expands to ${plural(f.layers, 'layer')}` : f.layers > 1 ? `**${what}** (×${f.layers}, repeated)` : `**${what}**`;
    let text = `${head} → \`${shapeText(f.shape)}\`\n\nparams ${grouped(f.params)} · ${unit} ${grouped(two ? 2 * f.macs : f.macs)} · activations ${grouped(f.mem)} B (${bytes(f.mem)}, ${net.dtype})`;
    if (f.rf) text += ` · receptive field ${pair(f.rf.size)}, effective stride ${pair(f.rf.stride)}`;
    const note = blockNote(model, s.entry, s.inst);
    if (note) text += `\n\n_${note}_`;
    const doubt = doubtful(model, s);
    if (doubt) text = `⚠ _Unreliable: these figures depend on the error on line ${doubt.range.start.line + 1} (${doubt.message}); the analysis carried on past it with a guess._\n\n${text}`;
    out += i ? `\n\n\n\n${text}` : text;
  }
  if (shown < sums.length) out += `\n\n\n\n_…and ${grouped(sums.length - shown)} more statements on this line (the hint counts them all)._`;
  return out;
}

export interface HintOptions {
  /** Tooltips in the hints; without, `data` and the client asks `inlayHint/resolve`. */
  tooltips: boolean;
  /** Kept in each hint for `inlayHint/resolve`. */
  data?: unknown;
}

/** Whether a summary's figures depend on an error, and the first such error. */
function doubtful(model: DocModel, s: Summary): Diagnostic | undefined {
  const { cause } = doubtOf(model, s.inst.network);
  if (!cause.length) return undefined;
  if (s.output !== undefined && cause[s.output]) return cause[s.output];
  const ids = s.aggregate ? s.inst.nodes : s.inst.own;
  for (let i = 0; i < ids.length; i++) if (cause[ids[i]]) return cause[ids[i]];
  return undefined;
}

/** The first error any statement of the line depends on. */
function lineDoubt(model: DocModel, sums: readonly Summary[]): Diagnostic | undefined {
  for (const s of sums) {
    const d = doubtful(model, s);
    if (d) return d;
  }
  return undefined;
}

/**
 * The pieces of a label in the order they matter, each whole or not at all: VS Code cuts a
 * line's hints at `editor.inlayHints.maximumLength` (43 characters by default), mid-number, so
 * the label stops before the first piece that would pass the limit; the tooltip has them all.
 */
function fit(pieces: InlayHintLabelPart[], max: number): InlayHintLabelPart[] {
  if (max <= 0) return pieces;
  const out: InlayHintLabelPart[] = [pieces[0]];
  let used = pieces[0].value.length;
  for (let i = 1; i < pieces.length; i++) {
    const n = pieces[i].value.length;
    // Stop rather than skip: the same figures drop first on every line.
    if (used + n > max) break;
    used += n;
    out.push(pieces[i]);
  }
  return out;
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
  for (let i = 0; i < sums.length; i++) {
    const f = figures(model, sums[i], forHint);
    params += f.params;
    macs += f.macs;
    mem += f.mem;
    aggregate ||= sums[i].aggregate;
  }
  const f = figures(model, last, forHint);
  const stmt = last.entry.stmt!;
  const doubt = lineDoubt(model, sums);
  const pieces: InlayHintLabelPart[] = [];
  const block = opt.shape || aggregate || doubt ? firstBlockCalled(model, stmt) : undefined;
  if (doubt) {
    // Past an error the figures are guesses: no shape, no numbers, and where the error is.
    const at = doubt.range.start.line;
    pieces.push(block ? { value: '→ ?', location: { uri, range: lspRange(block.name.range) } } : { value: '→ ?' });
    pieces.push({
      value: at === line ? ' (error on this line)' : ` (unreliable: error on line ${at + 1})`,
      tooltip: md(`The figures here depend on the error on line ${at + 1}: ${doubt.message}`),
      location: { uri, range: lspRange(doubt.range) },
    });
  } else {
    const extras: string[] = [];
    if (opt.receptiveField && f.rf) extras.push(rfShort(f.rf));
    const c = compute(macs, settings);
    if (aggregate) {
      extras.push(`Σ ${compact(params)} params`);
      extras.push(`${compact(c.value)} ${c.unit}`);
    } else {
      if (opt.macs && macs) extras.push(`${compact(c.value)} ${c.unit}`);
      if (opt.params && params) extras.push(`${compact(params)} params`);
    }
    if (opt.memory && mem) extras.push(bytes(mem));
    const shape = opt.shape || aggregate ? `→ ${shapeText(f.shape)}` : undefined;
    if (shape === undefined && !extras.length) return undefined;
    if (shape !== undefined) pieces.push(block ? { value: shape, location: { uri, range: lspRange(block.name.range) } } : { value: shape });
    // Inside a block, which call the figures are for comes next: without it they mislead.
    const site = last.entry.def.kind === 'block' ? last.inst.calls[last.inst.calls.length - 1] : undefined;
    if (site) {
      const n = last.entry.instances.length;
      pieces.push({
        value: n > 1 ? ` (1 of ${n})` : ' (call)',
        tooltip: md(`Figures for the first call, \`${callText(model, site.range)}\` at line ${site.range.start.line + 1}; click to go there.`),
        location: { uri, range: lspRange(site.range) },
      });
    }
    for (const x of extras) pieces.push({ value: pieces.length ? ` · ${x}` : x });
  }
  const parts = fit(pieces, opt.maxLength);
  // Parts only where a part links somewhere or explains itself: a plain label is a third of the bytes.
  const label: string | InlayHintLabelPart[] = parts.some((p) => p.location || p.tooltip) ? merged(parts) : parts.map((p) => p.value).join('');
  const hint: InlayHint = { position: { line: stmt.range.end.line, character: stmt.range.end.character }, label, kind: InlayHintKind.Type, paddingLeft: true };
  if (options.tooltips) hint.tooltip = md(tooltip(model, sums, settings));
  else if (options.data !== undefined) hint.data = options.data;
  return hint;
}

/** Plain neighbouring parts as one. */
function merged(parts: InlayHintLabelPart[]): InlayHintLabelPart[] {
  const out: InlayHintLabelPart[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (prev && !prev.location && !prev.tooltip && !p.location && !p.tooltip) out[out.length - 1] = { value: prev.value + p.value };
    else out.push(p);
  }
  return out;
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
 * A model's hints by line, from its second request on: an editor asks for the same lines again
 * (every scroll in VS Code, the whole buffer on each mode change in Neovim) while the text
 * stays, but after an edit it asks once per version, and hints kept for nothing would only
 * lengthen the collector's work. One set of settings and options at a time.
 */
const hintCaches = new WeakMap<DocModel, { key: string; requests: number; lines?: (InlayHint | null | undefined)[] }>();

function lineCache(model: DocModel, settings: Settings, uri: string, options: HintOptions): (InlayHint | null | undefined)[] | undefined {
  const key = JSON.stringify([settings.inlayHints, settings.flops, uri, options.tooltips, options.data]);
  let c = hintCaches.get(model);
  if (!c || c.key !== key) hintCaches.set(model, (c = { key, requests: 0 }));
  if (++c.requests >= 2) c.lines ??= new Array(model.analysis.parsed.lines.lineCount);
  return c.lines;
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
    this.cache = lineCache(model, settings, uri, options);
  }

  private readonly cache: (InlayHint | null | undefined)[] | undefined;

  get done(): boolean {
    return this.line > this.end;
  }

  /** Computes lines until done or `budgetMs` have passed; true when done. */
  run(budgetMs: number): boolean {
    const t0 = budgetMs === Infinity ? 0 : performance.now();
    while (this.line <= this.end) {
      // The clock every 256 lines: reading it costs more than a short line's hint.
      const cache = this.cache;
      for (let k = 0; k < 256 && this.line <= this.end; k++, this.line++) {
        let h = cache?.[this.line];
        if (h === undefined) {
          h = lineHint(this.model, this.line, this.settings, this.uri, this.options) ?? null;
          if (cache) cache[this.line] = h;
        }
        if (h) this.hints.push(h);
      }
      if (budgetMs !== Infinity && performance.now() - t0 >= budgetMs) break;
    }
    return this.done;
  }
}
