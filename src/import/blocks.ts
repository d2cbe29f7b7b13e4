/**
 * Stage 4: blocks. The bodies of scopes (`layer1.0`, `inception3a`) and of labelled branches are
 * compared innermost first; bodies that are the same statements up to integer arguments
 * (channels, kernels, strides, paddings, a call's arguments) become one block, its parameters the
 * arguments that differ (one parameter for arguments that always agree, `c*4` for one that is
 * always a multiple of another), with the most common value as the default of those that do not
 * count channels. A numeric scope is a block call even when alone: nothing else opens a scope
 * that takes a number. Then runs of identical calls become `repeat`.
 */
import { LAYERS, type LayerAttrs } from '../layers';
import type { ImportLayer } from './ops';
import { isIdentifier, RESERVED_WORDS, type Out } from './naming';
import { layerText, sameValue, valueText, type ArgValue, type TextArg } from './text';

/** A value in a block's body: a literal, or a parameter times a whole number (`c`, `c*4`). */
export type Val = ArgValue | { param: string; mul: number };

export function isParam(v: Val): v is { param: string; mul: number } {
  return typeof v === 'object' && !Array.isArray(v);
}

export function valExpr(v: { param: string; mul: number }): string {
  return v.mul === 1 ? v.param : `${v.param}*${v.mul}`;
}

export interface FArg extends Omit<TextArg, 'value'> {
  value: Val;
}

export interface BlockParam {
  name: string;
  dflt?: number;
}

export interface BlockDef {
  name: string;
  params: BlockParam[];
  body: F[];
}

export type F =
  | { t: 'layer'; keyword: string; args: FArg[]; label?: string }
  /** `values`: one per parameter of the block, defaults included. */
  | { t: 'call'; block: BlockDef; values: Val[]; label?: string }
  | { t: 'group'; label?: string; numeric: boolean; path: string; body: F[]; decided?: boolean }
  | { t: 'residual'; body: F[]; shortcut: F[] }
  | { t: 'merge'; kind: 'add' | 'concat' | 'mul'; branches: Branch[] }
  | { t: 'repeat'; label?: string; count: number; body: F[] };

export interface Branch {
  label?: string;
  body: F[];
  decided?: boolean;
}

function toF(layers: ImportLayer[], body: Out[]): F[] {
  return body.map((s): F => {
    switch (s.t) {
      case 'layer': {
        const attrs: LayerAttrs = layers[s.id].attrs;
        const text = layerText(attrs);
        return { t: 'layer', keyword: text.keyword, args: text.args, label: s.label };
      }
      case 'scope':
        return { t: 'group', label: s.numeric ? s.label : s.seg, numeric: s.numeric, path: s.path, body: toF(layers, s.body) };
      case 'residual':
        return { t: 'residual', body: toF(layers, s.body), shortcut: toF(layers, s.shortcut) };
      case 'merge':
        return {
          t: 'merge',
          kind: layers[s.id].attrs.kind as 'add' | 'concat' | 'mul',
          // An unlabelled branch is numbered, a `_` one names its statements in the merge's scope: neither is a block's scope.
          branches: s.branches.map((b) => ({ label: b.label, body: toF(layers, b.body), decided: b.label === undefined || b.label === '_' })),
        };
    }
  });
}

type Candidate = { kind: 'group'; node: Extract<F, { t: 'group' }>; parent: F[]; index: number } | { kind: 'branch'; node: Branch };

const bodyOf = (c: Candidate) => c.node.body;

/** The undecided candidates whose bodies hold no undecided candidate. */
function readyCandidates(body: F[], out: Candidate[]): boolean {
  let pending = false;
  body.forEach((s, index) => {
    if (s.t === 'group') {
      const innerPending = readyCandidates(s.body, out);
      if (!s.decided) {
        if (!innerPending) out.push({ kind: 'group', node: s, parent: body, index });
        pending = true;
      } else pending ||= innerPending;
    } else if (s.t === 'residual') {
      pending = readyCandidates(s.body, out) || pending;
      pending = readyCandidates(s.shortcut, out) || pending;
    } else if (s.t === 'merge') {
      for (const b of s.branches) {
        const innerPending = readyCandidates(b.body, out);
        if (!b.decided) {
          if (!innerPending) out.push({ kind: 'branch', node: b });
          pending = true;
        } else pending ||= innerPending;
      }
    } else if (s.t === 'repeat') pending = readyCandidates(s.body, out) || pending;
  });
  return pending;
}

interface Slot {
  value: number;
  hint: string;
  channels: boolean;
}

/**
 * A body's shape with its integer arguments taken out: equal signatures are the same statements
 * up to those integers, which `slots` lists in order.
 */
function signature(body: F[], slots: Slot[]): string {
  const part = (s: F): string => {
    switch (s.t) {
      case 'layer': {
        const args = s.args.map((a) => {
          const v = a.value;
          if (a.slot && typeof v !== 'object') {
            if (typeof v === 'number') {
              slots.push({ value: v, hint: a.slot.hint, channels: !!a.slot.channels });
              return `${a.name}=#`;
            }
          }
          if (a.slot && Array.isArray(v) && v[0] === v[1]) {
            slots.push({ value: v[0], hint: a.slot.hint, channels: !!a.slot.channels });
            return `${a.name}=#`;
          }
          return `${a.name}=${isParam(v) ? valExpr(v) : valueText(v)}`;
        });
        return `${s.label ?? ''}:${s.keyword}(${args.join(',')})`;
      }
      case 'call':
        s.values.forEach((v, i) => {
          const p = s.block.params[i];
          slots.push({ value: v as number, hint: p.name, channels: p.dflt === undefined });
        });
        return `${s.label ?? ''}:${s.block.name}(${s.values.map(() => '#').join(',')})`;
      case 'group':
        return `${s.label ?? ''}:{${signature(s.body, slots)}}`;
      case 'residual':
        return `residual{${signature(s.body, slots)}}{${signature(s.shortcut, slots)}}`;
      case 'merge':
        return `${s.kind}{${s.branches.map((b) => `${b.label ?? ''}:[${signature(b.body, slots)}]`).join('')}}`;
      case 'repeat':
        return `${s.label ?? ''}:repeat${s.count}{${signature(s.body, slots)}}`;
    }
  };
  return body.map(part).join(';');
}

/** The same body with its slots replaced, in signature order, by `vals`. */
function substitute(body: F[], vals: Val[]): F[] {
  let k = 0;
  const next = () => vals[k++];
  const sub = (stmts: F[]): F[] =>
    stmts.map((s): F => {
      switch (s.t) {
        case 'layer':
          return {
            ...s,
            args: s.args.map((a) => {
              const v = a.value;
              if (a.slot && (typeof v === 'number' || (Array.isArray(v) && v[0] === v[1]))) return { ...a, value: next() };
              return a;
            }),
          };
        case 'call':
          return { ...s, values: s.values.map(() => next()) };
        case 'group':
          return { ...s, body: sub(s.body) };
        case 'residual': {
          const body = sub(s.body);
          return { ...s, body, shortcut: sub(s.shortcut) };
        }
        case 'merge':
          return { ...s, branches: s.branches.map((b) => ({ ...b, body: sub(b.body) })) };
        case 'repeat':
          return { ...s, body: sub(s.body) };
      }
    });
  return sub(body);
}

const LAYER_WORDS = new Set(LAYERS.flatMap((l) => [l.keyword, ...l.aliases]));

/**
 * A body worth a block of its own when it occurs twice: layers or compositions, more than one
 * statement of them or one composition. A list of calls reads better written out.
 */
function substantial(body: F[]): boolean {
  const own = body.filter((s) => s.t !== 'call' && s.t !== 'repeat');
  return own.length > 1 || own.some((s) => s.t !== 'layer') || (own.length === 1 && body.length > 1);
}

class Blocks {
  readonly defs: BlockDef[] = [];
  private readonly names = new Set<string>();

  /** Bodies by the name their blocks started from, to tell later ones apart by a label only they have. */
  private readonly byBase = new Map<string, F[][]>();

  /**
   * A name from the instances' labels (`inception3a` → Inception, the parent's for numbered ones:
   * `layer1.0` → Layer); a second block of the same name takes a label only it has
   * (LayerDownsample), else a number.
   */
  blockName(stems: string[], body: F[]): string {
    let base = 'Block';
    for (const s of stems) {
      const stem = s.replace(/\d+[a-z]?$/, '').replace(/^_+|_+$/g, '');
      if (/^[A-Za-z][A-Za-z0-9_]*$/.test(stem)) {
        base = stem[0].toUpperCase() + stem.slice(1);
        break;
      }
    }
    // A block may not be named like a layer: Conv would read as one.
    if (LAYER_WORDS.has(base.toLowerCase()) || base.toLowerCase() === 'input') base += 'Block';
    const others = this.byBase.get(base) ?? [];
    this.byBase.set(base, [...others, body]);
    let name = base;
    if (this.names.has(name)) {
      const theirs = new Set(others.flatMap(labelsIn));
      const own = labelsIn(body).find((l) => !theirs.has(l));
      if (own) name = `${base}${own[0].toUpperCase()}${own.slice(1)}`;
    }
    const first = name;
    for (let i = 2; this.names.has(name) || RESERVED_WORDS.has(name); i++) name = `${first}${i}`;
    this.names.add(name);
    return name;
  }

  /** One signature's instances: a block (each instance a call), or left as written. */
  decide(instances: { c: Candidate; slots: Slot[] }[]): void {
    const forced = instances.some((i) => i.c.kind === 'group' && i.c.node.numeric);
    const make = forced || (instances.length >= 2 && substantial(bodyOf(instances[0].c)));
    for (const i of instances) i.c.node.decided = true;
    if (!make) return;

    const stems = instances.map(({ c }) => (c.kind === 'group' ? (c.node.numeric ? c.node.path.split('.').slice(-2, -1)[0] ?? '' : c.node.label!) : c.node.label ?? ''));
    const name = this.blockName(stems, bodyOf(instances[0].c));
    const n = instances[0].slots.length;
    const params: (BlockParam & { column: number[] })[] = [];
    const exprs: Val[] = [];
    const used = new Set<string>();
    for (let j = 0; j < n; j++) {
      const column = instances.map((i) => i.slots[j].value);
      const slot = instances[0].slots[j];
      if (column.every((v) => v === column[0])) {
        exprs.push(column[0]);
        continue;
      }
      const same = params.find((p) => p.column.every((v, i) => v === column[i]));
      if (same) {
        exprs.push({ param: same.name, mul: 1 });
        continue;
      }
      const multiple = params.find((p) => {
        if (p.column.some((v) => v === 0)) return false;
        const m = column[0] / p.column[0];
        return Number.isInteger(m) && m >= 2 && p.column.every((v, i) => v * m === column[i]);
      });
      if (multiple) {
        exprs.push({ param: multiple.name, mul: column[0] / multiple.column[0] });
        continue;
      }
      let pname = isIdentifier(slot.hint) && slot.hint !== 'same' ? slot.hint : 'v';
      const base = pname;
      for (let i = 2; used.has(pname); i++) pname = `${base}${i}`;
      used.add(pname);
      const param: BlockParam & { column: number[] } = { name: pname, column };
      if (!slot.channels) param.dflt = mostCommon(column);
      params.push(param);
      exprs.push({ param: pname, mul: 1 });
    }
    // Parameters without a default first, as calls give them by position.
    const ordered = [...params.filter((p) => p.dflt === undefined), ...params.filter((p) => p.dflt !== undefined)];
    const def: BlockDef = { name, params: ordered.map(({ name, dflt }) => (dflt === undefined ? { name } : { name, dflt })), body: substitute(bodyOf(instances[0].c), exprs) };
    this.defs.push(def);
    for (const { c } of instances) {
      const byName = new Map(params.map((p) => [p.name, p.column[instances.findIndex((i) => i.c === c)]]));
      const call: F = { t: 'call', block: def, values: ordered.map((p) => byName.get(p.name)!) };
      if (c.kind === 'group') {
        if (c.node.label) call.label = c.node.label;
        c.parent[c.index] = call;
      } else c.node.body = [call];
    }
  }
}

/** The labels of a body's statements and compositions, outermost first. */
function labelsIn(body: F[]): string[] {
  const out: string[] = [];
  const walk = (stmts: F[]) => {
    for (const s of stmts) {
      // Numbers, `_` and quoted segments say nothing a block's name could use.
      if ('label' in s && s.label && /^[A-Za-z]\w*$/.test(s.label)) out.push(s.label);
      if (s.t === 'group' || s.t === 'repeat') walk(s.body);
      else if (s.t === 'residual') {
        walk(s.body);
        walk(s.shortcut);
      } else if (s.t === 'merge') for (const b of s.branches) {
        if (b.label && /^[A-Za-z]\w*$/.test(b.label)) out.push(b.label);
        walk(b.body);
      }
    }
  };
  walk(body);
  return out;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0];
  for (const [v, c] of counts) if (c > counts.get(best)! || (c === counts.get(best)! && v < best)) best = v;
  return best;
}

function sameVal(a: Val, b: Val): boolean {
  if (isParam(a) || isParam(b)) return isParam(a) && isParam(b) && a.param === b.param && a.mul === b.mul;
  return sameValue(a, b);
}

function sameCall(a: F, b: F): boolean {
  return a.t === 'call' && b.t === 'call' && !a.label && !b.label && a.block === b.block && a.values.every((v, i) => sameVal(v, b.values[i]));
}

/** A parameter's value at a call site put into a body written with parameters. */
function bindParams(body: F[], values: Map<string, Val>): F[] {
  const bind = (v: Val): Val => {
    if (!isParam(v)) return v;
    const b = values.get(v.param)!;
    if (isParam(b)) return { param: b.param, mul: b.mul * v.mul };
    return typeof b === 'number' ? b * v.mul : b;
  };
  const walk = (stmts: F[]): F[] =>
    stmts.map((s): F => {
      switch (s.t) {
        case 'layer':
          return { ...s, args: s.args.map((a) => ({ ...a, value: bind(a.value) })) };
        case 'call':
          return { ...s, values: s.values.map(bind) };
        case 'group':
        case 'repeat':
          return { ...s, body: walk(s.body) };
        case 'residual':
          return { ...s, body: walk(s.body), shortcut: walk(s.shortcut) };
        case 'merge':
          return { ...s, branches: s.branches.map((b) => ({ ...b, body: walk(b.body) })) };
      }
    });
  return walk(body);
}

/** Every body of the text: the network's and each block's. */
function forEachBranch(bodies: F[][], f: (b: Branch) => void): void {
  const walk = (stmts: F[]) => {
    for (const s of stmts) {
      if (s.t === 'group' || s.t === 'repeat') walk(s.body);
      else if (s.t === 'residual') {
        walk(s.body);
        walk(s.shortcut);
      } else if (s.t === 'merge')
        for (const b of s.branches) {
          f(b);
          walk(b.body);
        }
    }
  };
  for (const b of bodies) walk(b);
}

function callSites(bodies: F[][]): Map<BlockDef, number> {
  const n = new Map<BlockDef, number>();
  const walk = (stmts: F[]) => {
    for (const s of stmts) {
      if (s.t === 'call') n.set(s.block, (n.get(s.block) ?? 0) + 1);
      else if (s.t === 'group' || s.t === 'repeat') walk(s.body);
      else if (s.t === 'residual') {
        walk(s.body);
        walk(s.shortcut);
      } else if (s.t === 'merge') for (const b of s.branches) walk(b.body);
    }
  };
  for (const b of bodies) walk(b);
  return n;
}

/**
 * A block called once, as the whole of a branch, is written in the branch: it was a block while
 * its instances were many (GoogLeNet's pool branch in each Inception), and the block that holds
 * them now says it once. The branch's scope names the statements alike either way.
 */
function inlineSingleUse(body: F[], defs: BlockDef[]): BlockDef[] {
  const sites = callSites([body, ...defs.map((d) => d.body)]);
  const gone = new Set<BlockDef>();
  forEachBranch([body, ...defs.map((d) => d.body)], (b) => {
    const only = b.body.length === 1 ? b.body[0] : undefined;
    if (only?.t !== 'call' || only.label || sites.get(only.block) !== 1 || gone.has(only.block)) return;
    const def = only.block;
    b.body = bindParams(def.body, new Map(def.params.map((p, i) => [p.name, only.values[i]])));
    gone.add(def);
  });
  return defs.filter((d) => !gone.has(d));
}

/** Runs of identical calls as `repeat`; a labelled group of nothing else as a labelled repeat. */
function compactRepeats(body: F[]): F[] {
  const out: F[] = [];
  for (let i = 0; i < body.length; ) {
    let s = body[i];
    if (s.t === 'group') {
      const inner = compactRepeats(s.body);
      if (s.label && inner.length === 1 && inner[0].t === 'repeat' && !inner[0].label) s = { t: 'repeat', label: s.label, count: inner[0].count, body: inner[0].body };
      else s = { ...s, body: inner };
    } else if (s.t === 'residual') s = { ...s, body: compactRepeats(s.body), shortcut: compactRepeats(s.shortcut) };
    else if (s.t === 'merge') s = { ...s, branches: s.branches.map((b) => ({ ...b, body: compactRepeats(b.body) })) };
    let j = i + 1;
    while (j < body.length && sameCall(s, body[j])) j++;
    if (j - i >= 2) out.push({ t: 'repeat', count: j - i, body: [s] });
    else out.push(s);
    i = j;
  }
  return out;
}

/** Stage 4: the network body with blocks, and the blocks in the order the text introduces them. */
export function extractBlocks(layers: ImportLayer[], named: Out[]): { body: F[]; blocks: BlockDef[] } {
  let body = toF(layers, named);
  const blocks = new Blocks();
  for (;;) {
    const ready: Candidate[] = [];
    readyCandidates(body, ready);
    if (ready.length === 0) break;
    const bySignature = new Map<string, { c: Candidate; slots: Slot[] }[]>();
    for (const c of ready) {
      const slots: Slot[] = [];
      const sig = signature(bodyOf(c), slots);
      const list = bySignature.get(sig) ?? [];
      list.push({ c, slots });
      bySignature.set(sig, list);
    }
    for (const list of bySignature.values()) blocks.decide(list);
  }
  body = compactRepeats(body);
  for (const d of blocks.defs) d.body = compactRepeats(d.body);
  const defs = inlineSingleUse(body, blocks.defs);
  return { body, blocks: orderOfUse(body, defs) };
}

function orderOfUse(body: F[], defs: BlockDef[]): BlockDef[] {
  const seen: BlockDef[] = [];
  const walk = (stmts: F[]) => {
    for (const s of stmts) {
      if (s.t === 'call') {
        if (!seen.includes(s.block)) {
          seen.push(s.block);
          walk(s.block.body);
        }
      } else if (s.t === 'group' || s.t === 'repeat') walk(s.body);
      else if (s.t === 'residual') {
        walk(s.body);
        walk(s.shortcut);
      } else if (s.t === 'merge') for (const b of s.branches) walk(b.body);
    }
  };
  walk(body);
  return seen.length === defs.length ? seen : [...seen, ...defs.filter((d) => !seen.includes(d))];
}
