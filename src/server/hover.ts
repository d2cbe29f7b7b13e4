import type { Hover } from 'vscode-languageserver';
import type { LayerInfo, NetworkAnalysis } from '../analysis';
import { DTYPE_BYTES } from '../analysis/types';
import { argSpec, layerDef, layerSpec } from '../layers';
import { ratioText } from '../layers/ratio';
import type { GraphNode } from '../graph/types';
import type * as A from '../language/ast';
import { labelSource } from '../language/ast';
import type { Range } from '../language/range';
import { bytes, compact, compute, grouped, pair, plural, shapeText } from './format';
import { blockNote, callText, instanceShapes, summarize } from './hints';
import { isLayerCall, type DocModel, type Entry, type Instance } from './model';
import { symbolAt } from './symbols';
import type { Settings } from './settings';
import { doubtOf } from './problems';

const DOT = '·';

function within(r: Range, offset: number): boolean {
  return r.start.offset <= offset && offset <= r.end.offset;
}

export function signatureOf(b: A.BlockDef, text: string): string {
  return `${b.name.text}(${b.params.map((p) => (p.default ? `${p.name.text}=${text.slice(p.default.range.start.offset, p.default.range.end.offset)}` : p.name.text)).join(', ')})`;
}

function layerFormulas(net: NetworkAnalysis, node: GraphNode, info: LayerInfo, settings: Settings): string[] {
  const a = node.attrs;
  const x = info.inputShapes[0] ?? null;
  const y = info.shape;
  const lines: string[] = [];
  if (!y) {
    lines.push('The output shape is unknown: an error upstream (or here) stops the analysis.');
    return lines;
  }
  lines.push(`\`${shapeText(x)}\` → \`${shapeText(y)}\``);
  const def = layerDef(a);
  const f: string[] = x && def.formulas ? def.formulas(a, x, y, { params: info.params, buffers: info.buffers, macs: info.macs, flops: settings.flops, grouped }) : [];
  if (info.ops) f.push(`element-wise ops (apart from MACs) = ${grouped(info.ops)}`);
  const b = DTYPE_BYTES[net.dtype];
  f.push(`memory = ${y.join(DOT)}${DOT}${b} B = ${grouped(info.activationBytes)} B (${bytes(info.activationBytes)}, ${net.dtype})`);
  lines.push('```text\n' + f.join('\n') + '\n```');
  const rf: string[] = [];
  const own = info.ownField;
  if (own) rf.push(`In the previous layer: ${own.size[0]}×${own.size[1]} window, stride ${pair(own.stride)}, padding ${pair(own.padding)}`);
  const prev = node.inputs.length === 1 ? net.layers[node.inputs[0]].rf : null;
  if (info.rf) {
    if (prev && own && node.inputs.length === 1) {
      // After an upsampling, neighbouring pixels' fields differ and the size is counted pixel by pixel (analysis/field.ts), which the rule can miss.
      const dim = (i: 0 | 1) =>
        Math.abs(prev.size[i] + (own.size[i] - 1) * prev.stride[i] - info.rf!.size[i]) < 1e-9
          ? `r = ${prev.size[i]} + (${own.size[i]} − 1)${DOT}${ratioText(prev.stride[i])} = ${info.rf!.size[i]}, j = ${ratioText(prev.stride[i])}${DOT}${ratioText(own.stride[i])} = ${ratioText(info.rf!.stride[i])}`
          : `r = ${info.rf!.size[i]} counted pixel by pixel (r + (k − 1)${DOT}j gives ${+(prev.size[i] + (own.size[i] - 1) * prev.stride[i]).toFixed(3)}), j = ${ratioText(prev.stride[i])}${DOT}${ratioText(own.stride[i])} = ${ratioText(info.rf!.stride[i])}`;
      const same = prev.size[0] === prev.size[1] && prev.stride[0] === prev.stride[1] && own.size[0] === own.size[1] && own.stride[0] === own.stride[1];
      rf.push(`In the input: ${info.rf.size[0]}×${info.rf.size[1]} pixels, effective stride ${pair(info.rf.stride)}, effective padding ${pair(info.rf.padding)}`);
      rf.push('`' + (same ? dim(0) : `${dim(0)}; ${dim(1)}`) + '`');
    } else {
      rf.push(`In the input: ${pair(info.rf.size)} pixels, effective stride ${pair(info.rf.stride)}, effective padding ${pair(info.rf.padding)}${node.inputs.length > 1 ? ' (the largest over the merged paths)' : ''}`);
    }
  } else if (y.length === 1) rf.push('No receptive field: the tensor is flat.');
  if (rf.length) lines.push('**Receptive field**  \n' + rf.join('  \n'));
  return lines;
}

function layerHover(model: DocModel, entry: Entry, settings: Settings): string | undefined {
  const s = summarize(model, entry);
  const stmt = entry.stmt as A.CallStatement;
  const spec = layerSpec(stmt.keyword.text);
  const head = `**${stmt.label ? `${labelSource(stmt.label)}: ` : ''}${stmt.keyword.text}**${spec ? ` — ${spec.doc}` : ''}`;
  if (!s || s.output === undefined) return `${head}\n\n_Not expanded: ${entry.def.kind === 'block' ? 'the block is never called' : 'an error before it stops the expansion'}._`;
  const { net, node, info } = model.resolve(s.inst.network, s.output);
  const out = [head, `path \`${node.path}\`${s.inst.own.length > 1 ? ` (repeated ${s.inst.own.length}×, figures for the first)` : ''}`];
  const note = blockNote(model, entry, s.inst);
  if (note) out.push(`_${note}_`);
  out.push(...doubtLine(model, s.inst.network, [s.output]));
  out.push(...layerFormulas(net, node, info, settings));
  return out.join('\n\n');
}

function totalsLines(model: DocModel, inst: Instance, output: number | undefined, settings: Settings): string[] {
  const t = model.totals(inst);
  const net = model.analysis.networks[inst.network];
  const c = compute(t.macs, settings);
  const shape = output === undefined ? null : net.layers[output].shape;
  return [
    `Expands to ${plural(t.layers, 'layer')} → \`${shapeText(shape)}\``,
    '```text\n' +
      [
        `params      ${grouped(t.params)} (${compact(t.params)})${t.buffers ? `, buffers ${grouped(t.buffers)}` : ''}`,
        `${c.unit.padEnd(11)} ${grouped(c.value)} (${compact(c.value)})`,
        `activations ${grouped(t.bytes)} B (${bytes(t.bytes)}, ${net.dtype})`,
      ].join('\n') +
      '\n```',
  ];
}

function statementHover(model: DocModel, entry: Entry, settings: Settings): string | undefined {
  const stmt = entry.stmt!;
  const s = summarize(model, entry);
  const out: string[] = [];
  if (stmt.kind === 'call') {
    const b = model.blocks.get(stmt.keyword.text);
    out.push(b ? `**${stmt.label ? `${labelSource(stmt.label)}: ` : ''}block call** \`${signatureOf(b, model.text)}\`` : `**${stmt.keyword.text}**`);
  } else {
    out.push(`**${stmt.label ? `${labelSource(stmt.label)}: ` : ''}${stmt.kind}**`);
  }
  if (!s) {
    out.push('_Not expanded._');
    return out.join('\n\n');
  }
  out.push(...doubtLine(model, s.inst.network, [s.output, ...s.inst.nodes]));
  out.push(...totalsLines(model, s.inst, s.output, settings));
  if (s.output !== undefined) {
    const rf = model.analysis.networks[s.inst.network].layers[s.output].rf;
    if (rf) out.push(`Receptive field at its output: ${pair(rf.size)} pixels, effective stride ${pair(rf.stride)}`);
  }
  const note = blockNote(model, entry, s.inst);
  if (note) out.push(`_${note}_`);
  else if (entry.instances.length > 1) out.push(`${entry.instances.length} expansions give ${instanceShapes(model, entry)}.`);
  return out.join('\n\n');
}

/** The warning a hover starts with where its figures depend on an error. */
function doubtLine(model: DocModel, network: number, ids: readonly (number | undefined)[]): string[] {
  const { cause } = doubtOf(model, network);
  const d = ids.map((id) => (id === undefined ? undefined : cause[id])).find((x) => x);
  return d ? [`⚠ _Unreliable: these figures depend on the error on line ${d.range.start.line + 1} (${d.message}); the analysis carried on past it with a guess._`] : [];
}

export function networkHover(model: DocModel, net: NetworkAnalysis, settings: Settings): string {
  const t = net.totals;
  const c = compute(t.macs, settings);
  const first = doubtOf(model, model.analysis.networks.indexOf(net)).first;
  const lines = [
    `**network ${net.graph.network}** \`${shapeText(net.input)}\` → \`${shapeText(net.output)}\``,
    ...(first ? [`⚠ _Not the network's totals: the error on line ${first.range.start.line + 1} (${first.message}) makes every figure after it a guess._`] : []),
    '```text\n' +
      [
        `params         ${grouped(t.params)} (${compact(t.params)}), buffers ${grouped(t.buffers)}`,
        `${c.unit.padEnd(14)} ${grouped(c.value)} (${compact(c.value)})`,
        `element-wise   ${grouped(t.ops)} (apart)`,
        `activations    sum ${bytes(t.activationBytes)}, peak live ${bytes(t.peakActivationBytes)} (${net.dtype})`,
        `depth          ${t.depth} (conv + linear on the longest path)`,
        `layers         ${net.layers.length}`,
      ].join('\n') +
      '\n```',
  ];
  const top = [...net.layers].filter((l) => l.macs > 0).sort((a, b) => b.macs - a.macs).slice(0, 5);
  if (top.length && t.macs) {
    lines.push('**Top layers by ' + c.unit + '**');
    lines.push(
      '| layer | kind | output | ' + c.unit + ' | share |\n|---|---|---|--:|--:|\n' +
        top
          .map((l) => {
            const n = net.graph.nodes[l.node];
            const v = compute(l.macs, settings).value;
            return `| \`${n.path}\` (line ${(n.calls[0]?.range ?? n.range).start.line + 1}) | ${n.attrs.kind} | ${shapeText(l.shape)} | ${compact(v)} | ${((100 * l.macs) / t.macs).toFixed(1)}% |`;
          })
          .join('\n'),
    );
  }
  return lines.join('\n\n');
}

function blockDefHover(model: DocModel, def: A.BlockDef, settings: Settings): string {
  const entry = model.defEntries.get(def)!;
  const lines = [`**block** \`${signatureOf(def, model.text)}\``];
  const n = entry.instances.length;
  if (!n) {
    lines.push('_Never called from a network._');
    return lines.join('\n\n');
  }
  lines.push(`${plural(n, 'expansion')}; the first, \`${callText(model, entry.instances[0].calls.at(-1)!.range)}\`:`);
  const inst = model.firstInstance(entry)!;
  lines.push(...totalsLines(model, inst, model.outputOf(entry, inst), settings));
  const shapes = new Map<string, number>();
  for (const i of entry.instances) {
    const o = model.outputOf(entry, i);
    const s = shapeText(o === undefined ? null : model.analysis.networks[i.network].layers[o].shape);
    shapes.set(s, (shapes.get(s) ?? 0) + 1);
  }
  lines.push(`Outputs over all calls: ${[...shapes].map(([s, k]) => (k > 1 ? `${s} (×${k})` : s)).join(', ')}`);
  return lines.join('\n\n');
}

function argHover(model: DocModel, stmt: A.CallStatement, arg: A.Arg): string | undefined {
  const spec = layerSpec(stmt.keyword.text);
  if (spec && arg.name) {
    const a = argSpec(spec, arg.name.text);
    if (!a) return undefined;
    const names = [a.name, ...a.aliases].map((n) => `\`${n}\``).join(', ');
    return `**${stmt.keyword.text}** argument ${names}: ${a.doc}${a.default ? `\n\nDefault: \`${a.default}\`` : a.required ? '\n\nRequired.' : ''}`;
  }
  return undefined;
}

export function hover(model: DocModel, offset: number, settings: Settings): Hover | undefined {
  const value = hoverText(model, offset, settings);
  return value ? { contents: { kind: 'markdown', value } } : undefined;
}

function hoverText(model: DocModel, offset: number, settings: Settings): string | undefined {
  // Parameters and block names first: they resolve by name, wherever they stand.
  const sym = symbolAt(model, offset);
  if (sym?.kind === 'param') {
    const b = model.blocks.get(sym.block);
    const p = b?.params.find((x) => x.name.text === sym.name);
    if (b && p) {
      return `**parameter** \`${p.name.text}\` of \`${signatureOf(b, model.text)}\`${p.default ? `\n\nDefault: \`${model.text.slice(p.default.range.start.offset, p.default.range.end.offset)}\`` : '\n\nRequired.'}`;
    }
  }
  const entry = model.innermostAt(offset);
  if (!entry) return undefined;
  if (!entry.stmt) {
    const def = entry.def;
    if (offset > def.name.range.end.offset && def.kind === 'network') return undefined;
    if (def.kind === 'network') {
      const net = model.analysis.networks.find((n) => n.graph.range.start.offset === def.range.start.offset);
      return net ? networkHover(model, net, settings) : undefined;
    }
    if (def.body.range.start.offset <= offset) return undefined;
    return blockDefHover(model, def, settings);
  }
  const stmt = entry.stmt;
  if (stmt.kind === 'call') {
    const arg = stmt.args.find((a) => a.name && within(a.name.range, offset));
    if (arg) {
      const h = argHover(model, stmt, arg);
      if (h) return h;
    }
    return isLayerCall(stmt) ? layerHover(model, entry, settings) : statementHover(model, entry, settings);
  }
  // Composite statements: on the keyword or the label.
  if (within(stmt.keyword.range, offset) || (stmt.label && within(stmt.label.range, offset))) return statementHover(model, entry, settings);
  return undefined;
}
