/**
 * Numbers written in a block's own terms. A fix inside a block holds for every call only if it
 * says `4*c`, not the `256` of the call it was computed for: the candidates are the expressions
 * the block already writes (first those written for the same argument, nearest the statement
 * first), then its parameters and small multiples of them; the first whose value in this
 * expansion is the number wins, else the number itself.
 */
import { argSpec, layerSpec } from '../layers';
import { evaluate, type Env, type Value } from '../graph/expr';
import type * as A from '../language/ast';
import type { Diagnostic } from '../language/diagnostics';
import { childStatements, isLayerCall, type DocModel, type Entry, type Instance } from './model';

/** The parameters' values along an expansion's call chain (empty at network level). */
export function envOf(model: DocModel, inst: Instance): Env | undefined {
  let env: Env = new Map();
  const sink: Diagnostic[] = [];
  for (const site of inst.calls) {
    const call = model.entryAt(site.range)?.stmt;
    const block = model.blocks.get(site.block);
    if (!call || call.kind !== 'call' || !block) return undefined;
    const bound = bind(call, block, env, sink);
    if (!bound) return undefined;
    env = bound;
  }
  return env;
}

/** A call's arguments bound to the block's parameters (as the expansion binds them), or undefined. */
function bind(call: A.CallStatement, block: A.BlockDef, env: Env, sink: Diagnostic[]): Env | undefined {
  const values = new Map<string, Value>();
  let pos = 0;
  for (const arg of call.args) {
    let param: A.Param | undefined;
    if (arg.name) param = block.params.find((p) => p.name.text === arg.name!.text);
    else {
      while (pos < block.params.length && values.has(block.params[pos].name.text)) pos++;
      param = block.params[pos++];
    }
    if (!param) return undefined;
    const v = evaluate(arg.value, env, sink);
    if (v === undefined) return undefined;
    values.set(param.name.text, v);
  }
  const bound = new Map<string, Value>();
  for (const p of block.params) {
    const v = values.get(p.name.text) ?? (p.default ? evaluate(p.default, bound, sink) : undefined);
    if (v === undefined) return undefined;
    bound.set(p.name.text, v);
  }
  return bound;
}

interface Candidate {
  text: string;
  expr?: A.Expr;
  role?: string;
}

/** Every argument a layer statement writes with a name in it, with the argument it is for. */
function written(model: DocModel, stmts: readonly A.Statement[], out: Candidate[]): void {
  for (const s of stmts) {
    if (isLayerCall(s)) {
      const spec = layerSpec(s.keyword.text)!;
      const positional = spec.args.filter((a) => a.positional);
      let i = 0;
      for (const arg of s.args) {
        const role = arg.name ? argSpec(spec, arg.name.text)?.name : positional[i++]?.name;
        if (arg.value.kind === 'number' || arg.value.kind === 'dims' || arg.value.kind === 'bool') continue;
        out.push({ text: model.text.slice(arg.value.range.start.offset, arg.value.range.end.offset), expr: arg.value, role });
      }
    } else written(model, childStatements(s), out);
  }
}

/** Numbers this small stand for anything (a stride, a group count): only an expression written for the same argument stands for them. */
const SMALL = 4;

/**
 * `express(values, role)` for a statement's expansions: the number (one per expansion, or one
 * for the first) in the terms of the block the statement is in, else the first number.
 */
export function expresser(model: DocModel, entry: Entry, insts: readonly Instance[]): (values: number | readonly number[], role?: string) => string {
  const def = entry.def;
  if (def.kind !== 'block' || !insts.length || !insts[0].calls.length) return (v) => String(typeof v === 'number' ? v : v[0]);
  const envs: (Env | undefined)[] = [];
  let candidates: Candidate[] | undefined;
  const sink: Diagnostic[] = [];
  return (values, role) => {
    const want = typeof values === 'number' ? [values] : values;
    const first = want[0];
    for (let i = envs.length; i < want.length; i++) envs.push(envOf(model, insts[i]));
    if (!want.length || envs.slice(0, want.length).some((e) => !e)) return String(first);
    if (!candidates) {
      const near: Candidate[] = [];
      const all: Candidate[] = [];
      if (entry.stmt) written(model, [entry.stmt], near);
      written(model, def.body.statements, all);
      near.reverse();
      const params: Candidate[] = def.params.map((p) => ({ text: p.name.text, expr: { kind: 'name', name: p.name.text, range: p.name.range } }));
      candidates = [...near, ...all, ...params];
    }
    const holds = (c: Candidate) => want.every((n, i) => evaluate(c.expr!, envs[i]!, sink) === n);
    const sameRole = candidates.find((c) => role !== undefined && c.role === role && holds(c));
    if (sameRole) return sameRole.text;
    if (want.every((n) => Math.abs(n) <= SMALL)) return String(first);
    const any = candidates.find(holds);
    if (any) return any.text;
    // A multiple of a parameter: `c*4`.
    for (const p of def.params) {
      for (let k = 2; k <= 8; k++) if (want.every((n, i) => envs[i]!.get(p.name.text) === n / k)) return `${p.name.text}*${k}`;
    }
    return String(first);
  };
}
