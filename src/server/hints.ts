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

function lineSummaries(model: DocModel, lo: number, hi: number): Map<number, Summary[]> {
  const byLine = new Map<number, Entry[]>();
  for (const e of model.entries) {
    if (!e.stmt || e.instances.length === 0) continue;
    const line = e.range.end.line;
    if (line < lo || line > hi) continue;
    let list = byLine.get(line);
    if (!list) byLine.set(line, (list = []));
    list.push(e);
  }
  const out = new Map<number, Summary[]>();
  for (const [line, list] of byLine) {
    // Keep the outermost statements that end on this line; inner ones are in their totals.
    const maximal = list.filter((e) => !list.some((o) => o !== e && o.range.start.offset <= e.range.start.offset && e.range.end.offset <= o.range.end.offset && (o.range.start.offset < e.range.start.offset || o.range.end.offset > e.range.end.offset)));
    maximal.sort((a, b) => a.range.end.offset - b.range.end.offset);
    const sums = maximal.map((e) => summarize(model, e)).filter((s): s is Summary => !!s);
    // An `input` line says its shape already.
    const useful = sums.filter((s) => !(s.output !== undefined && !s.aggregate && model.analysis.networks[s.inst.network].graph.nodes[s.output].attrs.kind === 'input'));
    if (useful.length) out.set(line, useful);
  }
  return out;
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
  for (const s of sums) {
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
  return lines.join('\n\n').trim();
}

export function inlayHints(model: DocModel, range: LspRange, settings: Settings, uri: string): InlayHint[] {
  const hints: InlayHint[] = [];
  const opt = settings.inlayHints;
  for (const [, sums] of lineSummaries(model, range.start.line, range.end.line)) {
    const last = sums[sums.length - 1];
    let params = 0;
    let macs = 0;
    let mem = 0;
    for (const s of sums) {
      const f = figures(model, s);
      params += f.params;
      macs += f.macs;
      mem += f.mem;
    }
    const f = figures(model, last);
    const aggregate = sums.some((s) => s.aggregate);
    const tip = md(tooltip(model, sums, settings));
    const parts: InlayHintLabelPart[] = [];
    const stmt = last.entry.stmt!;
    if (opt.shape || aggregate) {
      const part: InlayHintLabelPart = { value: `→ ${shapeText(f.shape)}`, tooltip: tip };
      const block = firstBlockCalled(model, stmt);
      if (block) part.location = { uri, range: lspRange(block.name.range) };
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
    if (extra.length) parts.push({ value: `${parts.length ? ' · ' : ''}${extra.join(' · ')}`, tooltip: tip });
    const n = last.entry.instances.length;
    const site = last.inst.calls[last.inst.calls.length - 1];
    if (last.entry.def.kind === 'block' && site && parts.length) {
      parts.push({
        value: n > 1 ? ` (1 of ${n})` : ' (call)',
        tooltip: md(`Figures for the first call, \`${callText(model, site.range)}\` at line ${site.range.start.line + 1}; click to go there.`),
        location: { uri, range: lspRange(site.range) },
      });
    }
    if (!parts.length) continue;
    hints.push({ position: { line: stmt.range.end.line, character: stmt.range.end.character }, label: parts, kind: InlayHintKind.Type, paddingLeft: true });
  }
  hints.sort((a, b) => a.position.line - b.position.line);
  return hints;
}
