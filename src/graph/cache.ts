/**
 * Memoised block expansions. A block call's expansion depends only on the block's statements
 * (and those of the blocks it calls), its argument values and whether it runs inside `aux`;
 * its analysis, in addition, on the shape that flows in. A cache kept from one analysis to the
 * next (the language server keeps one per document) expands a call it has seen as a copy of
 * the recorded layers, and reuses their shapes and counts where the input shape matches: an
 * edit in a network re-expands none of its blocks, and `repeat 35 { Bottleneck(256) }`
 * expands its block once. Only calls that expanded (and analysed) without a diagnostic are
 * kept, so every message still comes from a real expansion at its real place.
 */
import * as A from '../language/ast';
import { collectStatements } from '../language/ast';
import { SAME, type Env, type Value } from './expr';
import type { LayerAttrs } from '../layers';
import type { Template } from './template';

export type { StatementRef, Template, TemplateLayer, TemplateNode, TemplateSpan } from './template';

export interface BlockIndex {
  statements: A.Statement[];
  /** A statement's place, by its range object (what graph nodes and call sites hold). */
  byRange: Map<unknown, number>;
}

const indexes = new WeakMap<A.BlockDef, BlockIndex>();

export function blockIndex(def: A.BlockDef): BlockIndex {
  let ix = indexes.get(def);
  if (!ix) {
    const statements: A.Statement[] = [];
    collectStatements(def.body.statements, statements); // what `StatementRef.index` counts
    const byRange = new Map<unknown, number>();
    statements.forEach((s, i) => byRange.set(s.range, i));
    indexes.set(def, (ix = { statements, byRange }));
  }
  return ix;
}

function exprKey(e: A.Expr): string {
  switch (e.kind) {
    case 'number':
      return Object.is(e.value, -0) ? '-0' : String(e.value);
    case 'bool':
      return e.value ? 'T' : 'F';
    case 'name':
      return `$${e.name}`;
    case 'dims':
      return `<${e.values.join('x')}>`;
    case 'tuple':
      return `(${e.items.map(exprKey).join(',')})`;
    case 'unary':
      return `(${e.op}${exprKey(e.operand)})`;
    case 'binary':
      return `(${exprKey(e.left)}${e.op}${exprKey(e.right)})`;
    case 'missing':
      return '?';
  }
}

function bodyKey(stmts: readonly A.Statement[]): string {
  return `{${stmts.map(statementKey).join(';')}}`;
}

/** A label as written: quoted ones keep their quotes (`_` is anonymous, `"_"` a name), interpolations as expressions. */
function labelKey(l: A.Label | undefined): string {
  if (!l) return '';
  if (!l.quoted) return `${l.text}:`;
  return `"${l.quoted.map((q) => (typeof q === 'string' ? q.replace(/[\\{]/g, '\\$&') : `{${exprKey(q)}}`)).join('')}":`;
}

function statementKey(s: A.Statement): string {
  let out = `${labelKey(s.label)}${s.kind} ${s.keyword.text}`;
  // What a statement says besides its bodies; the bodies follow, by the one tree walk.
  switch (s.kind) {
    case 'call':
      return `${out}${s.parenthesized ? '()' : ''} ${s.args.map((a) => `${a.name ? `${a.name.text}=` : ''}${exprKey(a.value)}`).join(' ')}`;
    case 'repeat':
      out += ` ${exprKey(s.count)}${s.index ? ` as ${s.index.text}` : ''}`;
      break;
    case 'if':
      out += ` ${exprKey(s.condition)}${s.else ? 'else' : ''}`;
      break;
    case 'residual':
      if (s.shortcut) out += 'shortcut';
      break;
    case 'add':
    case 'concat':
    case 'mul':
      out += `[${s.branches.map((b) => labelKey(b.label)).join('|')}]`;
      break;
    case 'aux':
    case 'group':
      break;
  }
  for (const b of A.childBodies(s)) out += bodyKey(b.statements);
  const alt = A.elseIf(s);
  return alt ? `${out}${statementKey(alt)}` : out;
}

/** Everything about a block that its expansion depends on, and nothing else (no positions). */
export function blockFingerprint(def: A.BlockDef): string {
  const params = def.params.map((p) => (p.default ? `${p.name.text}=${exprKey(p.default)}` : p.name.text)).join(',');
  return `${def.name.text}(${params})${bodyKey(def.body.statements)}`;
}

/** Bound parameter values, exactly (`String` of a number round-trips). */
export function envKey(env: Env): string {
  let out = '';
  for (const [name, v] of env) out += `${name}=${valueKey(v)};`;
  return out;
}

function valueKey(v: Value): string {
  if (v === SAME) return '$same';
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return `[${(v as number[]).join(',')}]`;
}

/** Memoised block expansions and their analyses; see the top of this file. */
export class ExpansionCache {
  /** Calls expanded from a template, and calls recorded as one: cumulative, for tests and logs. */
  hits = 0;
  misses = 0;
  /** Layers copied from templates rather than expanded. */
  copiedLayers = 0;
  /** Layer figures reused from a template's analysis. */
  analysisHits = 0;
  /**
   * Layers resolved outside any block parameter (an empty environment), by statement: the
   * incremental parser hands the same statement objects to the next analysis.
   */
  readonly layerAttrs = new WeakMap<A.CallStatement, LayerAttrs>();
  /** A conv's or pool's own window, by its attributes (it depends on nothing else). */
  readonly ownFields = new WeakMap<LayerAttrs, unknown>();
  private readonly templates = new Map<string, Template>();
  private readonly fingerprints = new Map<string, number>();
  private defIds = new WeakMap<A.BlockDef, number>();
  private used = new Set<Template>();

  /** A small number that stands for the block's fingerprint, stable across analyses. */
  fingerprintOf(def: A.BlockDef): number {
    let id = this.defIds.get(def);
    if (id === undefined) {
      const fp = blockFingerprint(def);
      id = this.fingerprints.get(fp);
      if (id === undefined) this.fingerprints.set(fp, (id = this.fingerprints.size));
      this.defIds.set(def, id);
    }
    return id;
  }

  get(key: string): Template | undefined {
    const t = this.templates.get(key);
    if (t) this.used.add(t);
    return t;
  }

  set(key: string, t: Template): void {
    this.templates.set(key, t);
    this.used.add(t);
  }

  get size(): number {
    return this.templates.size;
  }

  /** Ends an analysis: forgets the templates it did not use (an edited block's old ones). */
  sweep(): void {
    for (const [k, t] of this.templates) if (!this.used.has(t)) this.templates.delete(k);
    this.used = new Set();
    // Fingerprints of blocks long gone: start afresh (templates refer to fingerprints by number).
    if (this.fingerprints.size > 4 * (this.templates.size + 64)) {
      this.templates.clear();
      this.fingerprints.clear();
      this.defIds = new WeakMap();
    }
  }
}
