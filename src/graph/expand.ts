import type { Diagnostic, RelatedInfo } from '../language/diagnostics';
import type * as A from '../language/ast';
import { childBodies, elseIf, isAnonymous } from '../language/ast';
import type { Range } from '../language/range';
import { resolveLayer } from './args';
import { blockIndex, envKey, type ExpansionCache, type Template, type TemplateNode, type TemplateSpan } from './cache';
import { describeValue as describe, evaluate, formatNumber, isTruthy, type Env, type Value } from './expr';
import { segmentProblem, staticLabel } from './labels';
import { allLayerNames, closest, defOfKeyword, layerDef, layerSpec } from '../layers';
import type { CallSite, Graph, GraphNode, LayerAttrs } from './types';

/** Expansion stops with an error past this many layers, rather than hang or exhaust memory. */
export const MAX_LAYERS = 100_000;
/** Statements expanded, layers or not: bounds `repeat` over empty bodies too. */
const MAX_STEPS = 1_000_000;
/** Block calls inside block calls: deeper chains are an error at the call, not a stack overflow. */
export const MAX_CALL_DEPTH = 200;

export interface ExpandResult {
  graphs: Graph[];
  diagnostics: Diagnostic[];
}

class LimitReached extends Error {}

function join(prefix: string, seg: string): string {
  return prefix ? `${prefix}.${seg}` : seg;
}

/** Statements that take a number in their scope's naming (see docs/naming.md). */
function isNumbered(s: A.Statement): boolean {
  if (isAnonymous(s.label)) return false;
  if (s.kind === 'call') return s.keyword.text !== 'input';
  if (s.kind === 'repeat') return !!s.label;
  return s.kind === 'aux';
}

/**
 * A namespace for parameter names: labels name statements, the others are numbered in order.
 * A scope whose body is one unlabelled numbered statement gives it the scope's own path.
 */
class Scope {
  private counter = 0;
  private merges?: Map<string, number>;
  private readonly elide: boolean;

  constructor(
    readonly prefix: string,
    statements: readonly A.Statement[],
  ) {
    this.elide = statements.length === 1 && !statements[0].label && isNumbered(statements[0]);
  }

  /** Labelled statements take a number too, so that adding a label renames nothing else. */
  take(label: string | undefined): string {
    const n = this.counter++;
    if (label !== undefined) return join(this.prefix, label);
    return this.elide && n === 0 && this.prefix ? this.prefix : join(this.prefix, String(n));
  }

  mergeName(kind: string): string {
    this.merges ??= new Map();
    const n = this.merges.get(kind) ?? 0;
    this.merges.set(kind, n + 1);
    return join(this.prefix, n ? `${kind}${n}` : kind);
  }
}

/** The tensor flowing through a sequence: a node id, or null after an error made it unknown. */
type Flow = number | null;

class Expander {
  readonly nodes: GraphNode[] = [];
  readonly auxOutputs: number[] = [];
  private calls: CallSite[] = [];
  private readonly blockStack: string[] = [];
  private aux = false;
  private steps = 0;
  private sawInput = false;
  /** Diagnostics of one argument check, reused from layer to layer. */
  private readonly sink: Diagnostic[] = [];
  /** Copies of templates (and calls recorded as one) not inside another: for the analysis. */
  readonly spans: TemplateSpan[] = [];
  /** Block calls that may become templates, being expanded now. */
  private recording = 0;
  /** Blocks expanded (or copied) so far, while recording: a template's dependencies. */
  private readonly expanded: string[] = [];
  /** Statements already reported as unknown names, and the guess for each name. */
  private readonly unknown = new Set<A.CallStatement>();
  private readonly guesses = new Map<string, string | null>();

  constructor(
    private readonly blocks: ReadonlyMap<string, A.BlockDef>,
    private readonly out: Diagnostic[],
    private readonly cache?: ExpansionCache,
  ) {}

  /** Problems found so far, reported or (a repeat of one already reported) not: a call with any is never cached. */
  private problems = 0;

  private report(d: Diagnostic): void {
    this.problems++;
    this.out.push(this.calls.length ? { ...d, related: [...(d.related ?? []), ...this.callChain()] } : d);
  }

  private callChain(): RelatedInfo[] {
    return this.calls.map((c) => ({ range: c.range, message: `in this call of ${c.block}` }));
  }

  /** Reports what a check left in `sink` (annotated with the call chain) and empties it. */
  private flush(sink: Diagnostic[]): void {
    for (const d of sink) this.report(d);
    sink.length = 0;
  }

  /** Runs an evaluation or argument check and annotates what it reports with the call chain. */
  private checked<T>(f: (sink: Diagnostic[]) => T): T {
    const sink: Diagnostic[] = [];
    const r = f(sink);
    for (const d of sink) this.report(d);
    return r;
  }

  /**
   * The path segment a label gives: its text, or a quoted label's text with its `{expr}`s
   * evaluated here (integers); undefined for none, for `_` (its callers open no scope) and
   * where an interpolation fails (reported; the statement is then numbered).
   */
  private labelOf(label: A.Label | undefined, env: Env): string | undefined {
    if (!label || isAnonymous(label)) return undefined;
    const fixed = staticLabel(label);
    if (fixed !== undefined) return fixed;
    let text = '';
    for (const piece of label.quoted!) {
      if (typeof piece === 'string') {
        text += piece;
        continue;
      }
      const v = this.checked((sink) => evaluate(piece, env, sink));
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        this.report({
          code: 'label',
          severity: 'error',
          range: piece.range,
          message: `a label's {expression} must be an integer, not ${typeof v === 'number' ? formatNumber(v) : describe(v)}`,
        });
        return undefined;
      }
      text += String(v);
    }
    const problem = segmentProblem(text);
    if (problem) {
      this.report({ code: 'label', severity: 'error', range: label.range, message: problem });
      return undefined;
    }
    return text;
  }

  private addNode(attrs: LayerAttrs, inputs: Flow[], path: string, range: Range, nameRange: Range): Flow {
    if (this.nodes.length >= MAX_LAYERS) throw new LimitReached();
    // An unknown input leaves the layer without inputs; the analysis then gives it no shape.
    let known = inputs as number[];
    for (const i of inputs) if (i === null) known = [];
    const id = this.nodes.length;
    this.nodes.push({ id, attrs, inputs: known, path, range, nameRange, calls: this.calls, aux: this.aux });
    return id;
  }

  sequence(statements: readonly A.Statement[], scope: Scope, env: Env, flow: Flow): Flow {
    for (const s of statements) flow = this.statement(s, scope, env, flow);
    return flow;
  }

  private statement(s: A.Statement, scope: Scope, env: Env, flow: Flow): Flow {
    if (++this.steps > MAX_STEPS) throw new LimitReached();
    switch (s.kind) {
      case 'call':
        return this.call(s, scope, env, flow);
      case 'repeat':
        return this.repeat(s, scope, env, flow);
      case 'residual': {
        // No one-statement shortcut here: the sum itself takes the label's path.
        const label = this.labelOf(s.label, env);
        const inner = label !== undefined ? new Scope(join(scope.prefix, label), []) : scope;
        const body = this.sequence(s.body.statements, inner, env, flow);
        const proj = s.shortcut ? this.sequence(s.shortcut.body.statements, inner, env, flow) : flow;
        const path = label !== undefined ? inner.prefix : scope.mergeName('add');
        const id = this.addNode({ kind: 'add' }, [body, proj], path, s.range, s.keyword.range);
        if (id !== null) this.nodes[id].residual = true;
        return id;
      }
      case 'add':
      case 'concat':
      case 'mul': {
        if (s.branches.length === 0) {
          this.report({
            code: 'argument-value',
            severity: 'error',
            range: s.keyword.range,
            message: `${s.kind} needs at least one 'branch { ... }'`,
          });
          return null;
        }
        const label = this.labelOf(s.label, env);
        const path = label !== undefined ? join(scope.prefix, label) : scope.mergeName(s.kind);
        const branchScope = label !== undefined ? new Scope(path, []) : scope;
        const outs = s.branches.map((b) => {
          // `_: branch { ... }` opens no scope: its statements are named as the merge's own.
          if (isAnonymous(b.label)) return this.sequence(b.body.statements, branchScope, env, flow);
          const bp = branchScope.take(this.labelOf(b.label, env));
          return this.sequence(b.body.statements, new Scope(bp, b.body.statements), env, flow);
        });
        return this.addNode({ kind: s.kind }, outs, path, s.range, s.keyword.range);
      }
      case 'aux': {
        const inner = isAnonymous(s.label) ? scope : new Scope(scope.take(this.labelOf(s.label, env)), s.body.statements);
        const wasAux = this.aux;
        this.aux = true;
        const end = this.sequence(s.body.statements, inner, env, flow);
        this.aux = wasAux;
        if (end !== null && end !== flow) this.auxOutputs.push(end);
        return flow;
      }
      case 'if': {
        const label = this.labelOf(s.label, env);
        const inner = label !== undefined ? new Scope(join(scope.prefix, label), []) : scope;
        return this.ifChain(s, inner, env, flow);
      }
      case 'group': {
        const label = this.labelOf(s.label, env);
        const inner = label !== undefined ? new Scope(join(scope.prefix, label), s.body.statements) : scope;
        return this.sequence(s.body.statements, inner, env, flow);
      }
    }
  }

  private ifChain(s: A.IfStatement, scope: Scope, env: Env, flow: Flow): Flow {
    const cond = this.checked((sink) => evaluate(s.condition, env, sink));
    if (cond === undefined) return null;
    if (isTruthy(cond)) return this.sequence(s.then.statements, scope, env, flow);
    const alt = s.else?.body;
    if (!alt) return flow;
    if ('kind' in alt) return this.ifChain(alt, scope, env, flow);
    return this.sequence(alt.statements, scope, env, flow);
  }

  /**
   * An unlabelled repeat is as if its body were written N times in the enclosing scope; a
   * labelled one is a scope of its own, with one numbered scope per iteration.
   */
  private repeat(s: A.RepeatStatement, scope: Scope, env: Env, flow: Flow): Flow {
    const label = this.labelOf(s.label, env);
    const path = label !== undefined ? join(scope.prefix, label) : undefined;
    const n = this.checked((sink) => evaluate(s.count, env, sink));
    if (n === undefined) return null;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      this.report({
        code: 'argument-type',
        severity: 'error',
        range: s.count.range,
        message: `repeat needs a non-negative integer count, not ${typeof n === 'number' ? formatNumber(n) : String(n)}`,
      });
      return null;
    }
    if (n > MAX_LAYERS) {
      this.report({
        code: 'expansion-limit',
        severity: 'error',
        range: s.count.range,
        message: `repeat ${n} is more than the ${MAX_LAYERS.toLocaleString('en-US')} layers a network may expand to`,
      });
      return null;
    }
    // `repeat N as i`: the body sees i = 0 .. N-1 (over any outer name i).
    const index = s.index?.text;
    for (let i = 0; i < n; i++) {
      if (++this.steps > MAX_STEPS) throw new LimitReached();
      const inner = path === undefined ? scope : new Scope(join(path, String(i)), s.body.statements);
      flow = this.sequence(s.body.statements, inner, index ? new Map(env).set(index, i) : env, flow);
    }
    return flow;
  }

  private call(s: A.CallStatement, scope: Scope, env: Env, flow: Flow): Flow {
    const name = s.keyword.text;
    const def = defOfKeyword(name);
    if (def) {
      // Without parameters in scope a statement always resolves the same: kept by statement.
      const memo = this.cache && env.size === 0 ? this.cache.layerAttrs : undefined;
      let attrs = memo?.get(s);
      if (!attrs) {
        const sink = this.sink;
        attrs = resolveLayer(s, def, env, sink);
        if (sink.length) this.flush(sink);
        else if (memo && attrs) memo.set(s, attrs);
      }
      if (def.kind === 'input') return this.input(s, attrs, scope, env);
      // `_: slice 0 58` takes no number (torchvision has no module there); it is named for
      // tables as merges are, by its kind. A layer with tensors needs a real name.
      let path: string;
      if (isAnonymous(s.label)) {
        if (def.tensors) {
          this.report({
            code: 'label',
            severity: 'error',
            range: s.label!.range,
            message: `'_' leaves this ${name} without a name, but its parameters need one: label it, or drop the '_' to number it`,
          });
          return null;
        }
        path = scope.mergeName(def.kind);
      } else path = scope.take(this.labelOf(s.label, env));
      if (!this.sawInput) {
        this.report({
          code: 'input',
          severity: 'error',
          range: s.keyword.range,
          message: "a network starts with 'input', such as 'input 3x224x224'",
        });
        return null;
      }
      if (!attrs) return null;
      return this.addNode(attrs, [flow], path, s.range, s.keyword.range);
    }
    const block = this.blocks.get(name);
    if (!block) {
      if (!isAnonymous(s.label)) scope.take(this.labelOf(s.label, env));
      // A repeated statement is reported once, and a name is guessed at once.
      if (this.unknown.has(s)) {
        this.problems++;
        return null;
      }
      this.unknown.add(s);
      let guess = this.guesses.get(name);
      if (guess === undefined) this.guesses.set(name, (guess = closest(name, [...allLayerNames(), ...this.blocks.keys()]) ?? null));
      this.report({
        code: 'unknown-layer',
        severity: 'error',
        range: s.keyword.range,
        message: `unknown layer or block '${name}'${guess ? `; did you mean '${guess}'?` : ''}`,
        fixes: guess ? [{ title: `Change to '${guess}'`, edits: [{ range: s.keyword.range, newText: guess }] }] : undefined,
      });
      return null;
    }
    // `_: Block(...)` opens no scope: the block's statements are named as if written here.
    const anonymous = isAnonymous(s.label);
    const path = anonymous ? scope.prefix : scope.take(this.labelOf(s.label, env));
    if (this.blockStack.includes(name)) {
      const cycle = [...this.blockStack.slice(this.blockStack.indexOf(name)), name].join(' → ');
      this.report({
        code: 'recursion',
        severity: 'error',
        range: s.keyword.range,
        message: `block ${name} calls itself: ${cycle}; a block may not call itself, directly or not`,
      });
      return null;
    }
    if (this.blockStack.length >= MAX_CALL_DEPTH) {
      this.report({
        code: 'expansion-limit',
        severity: 'error',
        range: s.keyword.range,
        message: `block calls nest more than ${MAX_CALL_DEPTH} deep here (${this.blockStack[0]} → … → ${name}); a chain of blocks this long is almost surely a mistake`,
      });
      return null;
    }
    // What a call expands to depends on the block's parameters even when binding fails.
    if (this.recording > 0) this.expanded.push(name);
    const bound = this.checked((sink) => bindBlockArgs(s, block, env, sink));
    if (!bound) return null;
    // Memoised: only where nothing outside the block can change what it expands to (an
    // anonymous call's names depend on the numbers its scope has given out before it).
    const cache = this.cache;
    let key: string | undefined;
    if (cache && this.sawInput && flow !== null && !anonymous) {
      key = `${cache.fingerprintOf(block)}|${this.aux ? 'aux' : ''}|${envKey(bound)}`;
      const t = cache.get(key);
      if (t && this.usable(t)) return this.copy(t, s, path, flow);
    }
    const start = this.nodes.length;
    const reported = this.problems;
    const steps = this.steps;
    const auxStart = this.auxOutputs.length;
    const logStart = this.expanded.length;
    const saved = this.calls;
    const site: CallSite = { block: name, range: s.range };
    this.calls = [...saved, site];
    this.blockStack.push(name);
    if (key !== undefined) this.recording++;
    let result: Flow;
    try {
      result = this.sequence(block.body.statements, anonymous ? scope : new Scope(path, block.body.statements), bound, flow);
    } finally {
      this.blockStack.pop();
      this.calls = saved;
      if (key !== undefined) this.recording--;
    }
    if (key !== undefined && this.problems === reported) {
      const t = this.record(site, saved.length, path, flow!, result, start, steps, auxStart, logStart);
      if (t) {
        cache!.set(key, t);
        cache!.misses++;
        if (this.recording === 0) this.spans.push({ start, input: flow!, template: t });
      }
    }
    if (this.recording === 0) this.expanded.length = 0;
    return result;
  }

  /** A template fits here when its blocks are unchanged and none of them is being expanded. */
  private usable(t: Template): boolean {
    if (this.nodes.length + t.nodes.length > MAX_LAYERS || this.steps + t.steps > MAX_STEPS) return false;
    for (const [dep, fp] of t.deps) {
      const def = this.blocks.get(dep);
      if (!def || this.cache!.fingerprintOf(def) !== fp || this.blockStack.includes(dep)) return false;
    }
    return true;
  }

  private statementOf(block: string, index: number): A.Statement {
    return blockIndex(this.blocks.get(block)!).statements[index];
  }

  /** Expands a call as a copy of its template: new ids, paths, call sites; shared attributes. */
  private copy(t: Template, s: A.CallStatement, path: string, flow: number): Flow {
    const cache = this.cache!;
    const base = this.nodes.length;
    const outer = [...this.calls, { block: s.keyword.text, range: s.range }];
    const sites: CallSite[] = t.sites.map((x) => ({ block: x.block, range: this.statementOf(x.stmt.block, x.stmt.index).range }));
    const chains = t.chains.map((ch) => [...outer, ...ch.map((i) => sites[i])]);
    for (let i = 0; i < t.nodes.length; i++) {
      const tn = t.nodes[i];
      const st = this.statementOf(tn.stmt.block, tn.stmt.index);
      const inputs = tn.inputs.length === 1 ? [tn.inputs[0] < 0 ? flow : base + tn.inputs[0]] : tn.inputs.map((j) => (j < 0 ? flow : base + j));
      const node: GraphNode = {
        id: base + i,
        attrs: tn.attrs,
        inputs,
        path: path + tn.suffix,
        range: st.range,
        nameRange: st.keyword.range,
        calls: tn.chain < 0 ? outer : chains[tn.chain],
        aux: tn.aux,
      };
      if (tn.residual) node.residual = true;
      this.nodes.push(node);
    }
    for (const a of t.auxOutputs) this.auxOutputs.push(base + a);
    this.steps += t.steps;
    if (this.recording > 0) for (const [dep] of t.deps) this.expanded.push(dep);
    else this.spans.push({ start: base, input: flow, template: t });
    cache.hits++;
    cache.copiedLayers += t.nodes.length;
    return t.output === null ? null : t.output < 0 ? flow : base + t.output;
  }

  /**
   * The template of a call just expanded (nodes from `start`), or undefined where a layer does
   * not map back to a statement of the blocks (nothing is cached then).
   */
  private record(site: CallSite, depth: number, path: string, flow: number, result: Flow, start: number, steps: number, auxStart: number, logStart: number): Template | undefined {
    const cache = this.cache!;
    const nodes: TemplateNode[] = [];
    const siteIds = new Map<CallSite, number>();
    const chainIds = new Map<CallSite[], number>();
    const tsites: Template['sites'] = [];
    const chains: number[][] = [];
    const ref = (block: string, range: Range) => {
      const def = this.blocks.get(block);
      const index = def ? blockIndex(def).byRange.get(range) : undefined;
      return index === undefined ? undefined : { block, index };
    };
    const siteId = (calls: CallSite[], j: number): number | undefined => {
      const c = calls[j];
      let id = siteIds.get(c);
      if (id !== undefined) return id;
      const parent = j === depth + 1 ? -1 : siteId(calls, j - 1);
      const stmt = ref(calls[j - 1].block, c.range);
      if (parent === undefined || !stmt) return undefined;
      siteIds.set(c, (id = tsites.length));
      tsites.push({ block: c.block, stmt, parent });
      return id;
    };
    for (let id = start; id < this.nodes.length; id++) {
      const n = this.nodes[id];
      const calls = n.calls;
      if (calls.length <= depth || calls[depth] !== site) return undefined;
      if (n.path !== path && !n.path.startsWith(`${path}.`)) return undefined;
      const stmt = ref(calls[calls.length - 1].block, n.range);
      if (!stmt || this.statementOf(stmt.block, stmt.index).keyword.range !== n.nameRange) return undefined;
      let chain = -1;
      if (calls.length > depth + 1) {
        const known = chainIds.get(calls);
        if (known !== undefined) chain = known;
        else {
          const ids: number[] = [];
          for (let j = depth + 1; j < calls.length; j++) {
            const sid = siteId(calls, j);
            if (sid === undefined) return undefined;
            ids.push(sid);
          }
          chainIds.set(calls, (chain = chains.length));
          chains.push(ids);
        }
      }
      const inputs: number[] = [];
      for (const i of n.inputs) {
        if (i >= start) inputs.push(i - start);
        else if (i === flow) inputs.push(-1);
        else return undefined;
      }
      nodes.push({ attrs: n.attrs, inputs, suffix: n.path.slice(path.length), stmt, chain, aux: n.aux, residual: !!n.residual });
    }
    const auxOutputs: number[] = [];
    for (let i = auxStart; i < this.auxOutputs.length; i++) {
      if (this.auxOutputs[i] < start) return undefined;
      auxOutputs.push(this.auxOutputs[i] - start);
    }
    let output: number | null;
    if (result === null) output = null;
    else if (result === flow) output = -1;
    else if (result >= start) output = result - start;
    else return undefined;
    const deps: [string, number][] = [];
    for (const name of new Set(this.expanded.slice(logStart))) {
      const def = this.blocks.get(name);
      if (!def) return undefined;
      deps.push([name, cache.fingerprintOf(def)]);
    }
    return { deps, nodes, sites: tsites, chains, auxOutputs, output, steps: this.steps - steps, analyses: new Map() };
  }

  private input(s: A.CallStatement, attrs: LayerAttrs | undefined, scope: Scope, env: Env): Flow {
    if (this.calls.length) {
      this.report({
        code: 'input',
        severity: 'error',
        range: s.keyword.range,
        message: "'input' belongs in a network, not in a block",
      });
      return null;
    }
    if (this.sawInput) {
      this.report({
        code: 'input',
        severity: 'error',
        range: s.keyword.range,
        message: "a network has one 'input'; remove this one",
      });
      return null;
    }
    this.sawInput = true;
    if (!attrs) return null;
    return this.addNode(attrs, [], join(scope.prefix, this.labelOf(s.label, env) ?? 'input'), s.range, s.keyword.range);
  }
}

/**
 * Labels are checked once per written sequence, however often expansion visits it. Returns
 * whether any is `_`, quoted or a number: only such labels can put two layers at one path
 * where no sequence repeats a label, so only their files pay for `checkModulePaths`.
 */
function checkAllLabels(body: A.Body, out: Diagnostic[]): boolean {
  let mayClash = checkLabels(body.statements, out);
  for (const s of body.statements) {
    if (s.kind === 'call') continue;
    if (s.kind === 'add' || s.kind === 'concat' || s.kind === 'mul') mayClash = checkLabels(s.branches, out) || mayClash;
    for (const b of childBodies(s)) mayClash = checkAllLabels(b, out) || mayClash;
    const alt = elseIf(s);
    if (alt) mayClash = checkAllLabels({ statements: [alt], range: alt.range }, out) || mayClash;
  }
  return mayClash;
}

/**
 * Labels of one sequence: each well formed, and unique (`x:` and `"x":` are one name; two
 * interpolated labels are compared as written, their values only once expanded, by the analysis).
 */
function checkLabels(items: readonly { label?: A.Label }[], out: Diagnostic[]): boolean {
  let seen: Map<string, A.Label> | undefined;
  let mayClash = false;
  for (let i = 0; i < items.length; i++) {
    const label = items[i].label;
    if (!label) continue;
    if (label.quoted || isAnonymous(label) || /^[0-9]/.test(label.text)) mayClash = true;
    if (isAnonymous(label)) continue;
    const fixed = staticLabel(label);
    // A brace in a label without interpolations is a malformed one, which the lexer reported.
    const problem = fixed === undefined || /[{}]/.test(fixed) ? undefined : segmentProblem(fixed);
    if (problem) {
      out.push({ code: 'label', severity: 'error', range: label.range, message: problem });
      continue;
    }
    const key = fixed ?? `"${label.text}"`;
    seen ??= new Map();
    const first = seen.get(key);
    if (first) {
      out.push({
        code: 'duplicate-label',
        severity: 'error',
        range: label.range,
        message: `the label '${fixed ?? label.text}' is already used in this sequence; labels name parameters, so each must be unique`,
        related: [{ range: first.range, message: 'first used here' }],
      });
    } else seen.set(key, label);
  }
  return mayClash;
}

/**
 * Every layer but the input and the merges is a PyTorch module at its path, so no two may share
 * one and none may lie inside another (`x: relu` beside `x: { conv ... }` cannot happen with
 * unique labels, but can with `_:` and interpolated labels). Two layers with tensors at one path
 * are the analysis's to report, with their tensors' names; a bare parameter's path too.
 */
function checkModulePaths(nodes: readonly GraphNode[], out: Diagnostic[]): void {
  const at = new Map<string, GraphNode>();
  const clash = (n: GraphNode, other: GraphNode, message: string) =>
    out.push({ code: 'duplicate-label', severity: 'error', range: n.range, message, related: [{ range: other.range, message: 'the other layer' }] });
  for (const n of nodes) {
    const def = layerDef(n.attrs);
    if (def.merge || n.attrs.kind === 'input') continue;
    const first = at.get(n.path);
    if (!first) at.set(n.path, n);
    else if (!def.tensors || !layerDef(first.attrs).tensors) clash(n, first, `the name '${n.path}' is already taken by another layer; label one of them differently`);
  }
  // Once per outer layer: the first layer inside it.
  const reported = new Set<GraphNode>();
  for (const n of at.values()) {
    for (let i = n.path.indexOf('.'); i >= 0; i = n.path.indexOf('.', i + 1)) {
      const outer = at.get(n.path.slice(0, i));
      if (outer && !layerDef(outer.attrs).namedByPath && !reported.has(outer)) {
        reported.add(outer);
        clash(n, outer, `the name '${n.path}' lies inside the layer '${outer.path}', which PyTorch cannot hold; label one of them differently`);
        break;
      }
    }
  }
}

/** Binds a call's arguments to the block's parameters: by position, then by name, then defaults. */
function bindBlockArgs(call: A.CallStatement, block: A.BlockDef, env: Env, out: Diagnostic[]): Env | undefined {
  const values = new Map<string, Value>();
  const given = new Map<string, A.Arg>();
  let pos = 0;
  let ok = true;
  const signature = `${block.name.text}(${block.params.map((p) => p.name.text).join(', ')})`;
  for (const arg of call.args) {
    let param: A.Param | undefined;
    if (arg.name) {
      param = block.params.find((p) => p.name.text === arg.name!.text);
      if (!param) {
        const guess = closest(arg.name.text, block.params.map((p) => p.name.text));
        out.push({
          code: 'unknown-argument',
          severity: 'error',
          range: arg.name.range,
          message: `${block.name.text} has no parameter '${arg.name.text}'${guess ? ` (did you mean '${guess}'?)` : ''}: ${signature}`,
          fixes: guess ? [{ title: `Change to '${guess}'`, edits: [{ range: arg.name.range, newText: guess }] }] : undefined,
        });
        ok = false;
        continue;
      }
    } else {
      while (pos < block.params.length && given.has(block.params[pos].name.text)) pos++;
      param = block.params[pos++];
      if (!param) {
        out.push({
          code: 'too-many-arguments',
          severity: 'error',
          range: arg.range,
          message: `${block.name.text} takes ${block.params.length} argument${block.params.length === 1 ? '' : 's'}: ${signature}`,
        });
        ok = false;
        continue;
      }
    }
    if (given.has(param.name.text)) {
      out.push({ code: 'duplicate-argument', severity: 'error', range: arg.range, message: `'${param.name.text}' is given twice` });
      ok = false;
      continue;
    }
    given.set(param.name.text, arg);
    const v = evaluate(arg.value, env, out);
    if (v === undefined) ok = false;
    else values.set(param.name.text, v);
  }
  if (!ok) return undefined;
  const bound = new Map<string, Value>();
  for (const p of block.params) {
    const v = values.get(p.name.text);
    if (v !== undefined) {
      bound.set(p.name.text, v);
      continue;
    }
    if (!p.default) {
      out.push({
        code: 'missing-argument',
        severity: 'error',
        range: call.keyword.range,
        message: `${block.name.text} needs a value for '${p.name.text}': ${signature}`,
      });
      return undefined;
    }
    // Defaults see the parameters bound before them, so `block B(c, mid=c/4)` works.
    const dv = evaluate(p.default, bound, out);
    if (dv === undefined) return undefined;
    bound.set(p.name.text, dv);
  }
  return bound;
}

/** AST-level checks that need no expansion: duplicate definitions and parameters. */
function checkDefinitions(file: A.CnnFile, out: Diagnostic[]): { blocks: Map<string, A.BlockDef>; labelsMayClash: boolean } {
  const blocks = new Map<string, A.BlockDef>();
  const names = new Map<string, A.Definition>();
  let labelsMayClash = false;
  for (const def of file.definitions) {
    labelsMayClash = checkAllLabels(def.body, out) || labelsMayClash;
    const name = def.name.text;
    if (!name) continue;
    if (def.kind === 'block' && layerSpec(name)) {
      out.push({
        code: 'duplicate-definition',
        severity: 'error',
        range: def.name.range,
        message: `'${name}' is a layer; give the block another name`,
      });
      continue;
    }
    const first = names.get(name);
    if (first) {
      out.push({
        code: 'duplicate-definition',
        severity: 'error',
        range: def.name.range,
        message: `'${name}' is already defined`,
        related: [{ range: first.name.range, message: 'first defined here' }],
      });
      continue;
    }
    names.set(name, def);
    if (def.kind === 'block') {
      blocks.set(name, def);
      const seen = new Set<string>();
      for (const p of def.params) {
        if (seen.has(p.name.text)) {
          out.push({
            code: 'duplicate-definition',
            severity: 'error',
            range: p.name.range,
            message: `parameter '${p.name.text}' appears twice in ${name}`,
          });
        }
        seen.add(p.name.text);
      }
    }
  }
  return { blocks, labelsMayClash };
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.code}|${d.range.start.offset}|${d.range.end.offset}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `checkPaths`: whether the file has labels that can put two layers at one path (see checkAllLabels). */
export function expandNetwork(net: A.NetworkDef, blocks: ReadonlyMap<string, A.BlockDef>, out: Diagnostic[], cache?: ExpansionCache, checkPaths = true): Graph {
  const ex = new Expander(blocks, out, cache);
  let output: Flow = null;
  try {
    output = ex.sequence(net.body.statements, new Scope('', []), new Map(), null);
  } catch (e) {
    if (!(e instanceof LimitReached)) throw e;
    // A network past the limit reports the error, not the first 100,000 layers.
    ex.nodes.length = 0;
    ex.auxOutputs.length = 0;
    ex.spans.length = 0;
    output = null;
    out.push({
      code: 'expansion-limit',
      severity: 'error',
      range: net.name.text ? net.name.range : net.range,
      message: `${net.name.text || 'this network'} expands to more than ${MAX_LAYERS.toLocaleString('en-US')} layers (or ${MAX_STEPS.toLocaleString('en-US')} statements); check repeat counts`,
    });
  }
  if (ex.nodes.length === 0 && !out.some((d) => d.severity === 'error')) {
    out.push({
      code: 'empty-network',
      severity: 'error',
      range: net.name.text ? net.name.range : net.range,
      message: `${net.name.text || 'this network'} has no layers; start it with 'input', such as 'input 3x224x224'`,
    });
  }
  // A label used twice in a sequence is reported already, and gives two layers one path.
  if (checkPaths && !out.some((d) => d.code === 'duplicate-label')) checkModulePaths(ex.nodes, out);
  const graph: Graph = {
    network: net.name.text,
    range: net.range,
    nameRange: net.name.range,
    nodes: ex.nodes,
    output: output ?? ex.nodes.length - 1,
    auxOutputs: ex.auxOutputs,
  };
  if (cache) graph.spans = ex.spans;
  return graph;
}

/**
 * AST → one graph per network. With a cache, block calls seen before (in this file or in an
 * earlier version of it) are copied from their templates; see cache.ts.
 */
export function expandFile(file: A.CnnFile, cache?: ExpansionCache): ExpandResult {
  const diagnostics: Diagnostic[] = [];
  const { blocks, labelsMayClash } = checkDefinitions(file, diagnostics);
  const graphs: Graph[] = [];
  for (const def of file.definitions) {
    if (def.kind === 'network') graphs.push(expandNetwork(def, blocks, diagnostics, cache, labelsMayClash));
  }
  return { graphs, diagnostics: dedupe(diagnostics) };
}
