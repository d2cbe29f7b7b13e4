import type { Diagnostic } from '../language/diagnostics';
import type { CallStatement, Expr } from '../language/ast';
import type { Range } from '../language/range';
import { SAME, describeValue, evaluate, formatNumber, hasDivision, type Env, type Value } from './expr';
import { argSpec, closest, pairOf, type ArgSpec, type ArgValue, type BoundArgs, type LayerAttrs, type LayerDef, type LayerSpec, type Pair } from '../layers';
import type { DiagnosticCode } from '../language/diagnostics';
import { MAX_DIM, approx, grouped } from '../layers/limits';

type Resolved = ArgValue;

function typeError(spec: ArgSpec, v: Value, e: Expr, what: string): Diagnostic {
  const inexact = typeof v === 'number' && !Number.isInteger(v) && hasDivision(e);
  return {
    code: inexact ? 'division' : 'argument-type',
    severity: 'error',
    range: e.range,
    message: inexact
      ? `'${spec.name}' needs ${what}, but this division gives ${formatNumber(v as number)}: it must divide exactly`
      : `'${spec.name}' needs ${what}, not ${describeValue(v)}`,
  };
}

export { pairOf };

function asPositiveInt(v: Value, min: number): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined;
}

/** An integer past MAX_DIM: reported at the argument, with the limit. */
function tooBig(spec: ArgSpec, v: Value, e: Expr, out: Diagnostic[]): boolean {
  const values = typeof v === 'number' ? [v] : Array.isArray(v) ? v : [];
  const big = values.find((x) => typeof x === 'number' && x > MAX_DIM);
  if (big === undefined) return false;
  out.push({
    code: 'too-large',
    severity: 'error',
    range: e.range,
    message: `'${spec.name}' is ${approx(big)}, more than the largest size the analysis takes (${grouped(MAX_DIM)})`,
  });
  return true;
}

/** Checks a value against its argument type; undefined (with a diagnostic) when it does not fit. */
/** Reports a value that does not fit its argument; undefined, for `?? bad(...)`. */
function bad(spec: ArgSpec, v: Value, e: Expr, out: Diagnostic[], what: string): undefined {
  out.push(typeError(spec, v, e, what));
  return undefined;
}

function coerce(spec: ArgSpec, v: Value, e: Expr, out: Diagnostic[]): Resolved | undefined {
  if (spec.type !== 'number' && spec.type !== 'prob' && spec.type !== 'bool' && tooBig(spec, v, e, out)) return undefined;
  switch (spec.type) {
    case 'int':
      return asPositiveInt(v, 1) ?? bad(spec, v, e, out, 'a positive integer');
    case 'count':
      return asPositiveInt(v, 0) ?? bad(spec, v, e, out, 'a non-negative integer');
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? v : bad(spec, v, e, out, 'a finite number');
    case 'bool':
      return typeof v === 'boolean' ? v : bad(spec, v, e, out, 'true or false');
    case 'prob':
      return typeof v === 'number' && v >= 0 && v < 1 ? v : bad(spec, v, e, out, 'a probability with 0 <= p < 1');
    case 'size':
    case 'pad': {
      const min = spec.type === 'pad' ? 0 : 1;
      const what = spec.type === 'pad' ? `a non-negative integer, HxW, or same` : 'a positive integer or HxW';
      if (v === SAME) return spec.type === 'pad' ? 'same' : bad(spec, v, e, out, what);
      let h: number | undefined;
      let w: number | undefined;
      if (typeof v === 'number') h = w = asPositiveInt(v, min);
      else if (Array.isArray(v) && (v.length === 1 || v.length === 2)) {
        h = asPositiveInt(v[0], min);
        w = asPositiveInt(v[v.length - 1], min);
      } else return bad(spec, v, e, out, what);
      if (h === undefined || w === undefined) return bad(spec, v, e, out, what);
      return pairOf(h, w);
    }
    case 'choice':
      return bad(spec, v, e, out, `one of ${(spec.choices ?? []).join(', ')}`);
    case 'shape': {
      const items = typeof v === 'number' ? [v] : Array.isArray(v) ? v : undefined;
      if (!items || (items.length !== 1 && items.length !== 3) || items.some((x) => asPositiveInt(x, 1) === undefined)) {
        return bad(spec, v, e, out, 'a shape: C x H x W (like 3x224x224) or N for a flat input');
      }
      return items;
    }
  }
}

/** A value checked against its argument's type, or undefined (reported). */
function coerceValue(spec: ArgSpec, e: Expr, env: Env, out: Diagnostic[]): Resolved | undefined {
  const v = evaluate(e, env, out);
  return v === undefined ? undefined : coerce(spec, v, e, out);
}

/** One of a few words (`mode=bilinear`), written as a bare name. */
function choiceOf(spec: ArgSpec, e: Expr, out: Diagnostic[]): Resolved | undefined {
  const choices = spec.choices ?? [];
  if (e.kind === 'name' && choices.includes(e.name)) return e.name;
  const guess = e.kind === 'name' ? closest(e.name, choices) : undefined;
  out.push({
    code: 'argument-value',
    severity: 'error',
    range: e.range,
    message: `'${spec.name}' is one of ${choices.join(', ')}${guess ? ` (did you mean '${guess}'?)` : ''}`,
    fixes: guess ? [{ title: `Change to '${guess}'`, edits: [{ range: e.range, newText: guess }] }] : undefined,
  });
  return undefined;
}

function argList(spec: LayerSpec): string {
  return spec.args.map((a) => a.name).join(', ');
}

const POSITIONAL = new Map<LayerSpec, ArgSpec[]>();
/** Values being bound, reused from statement to statement (no layer has more arguments). */
const SCRATCH: (Resolved | undefined)[] = new Array(16).fill(undefined);
const RANGES: (Range | undefined)[] = new Array(16).fill(undefined);

function positionalArgs(spec: LayerSpec): ArgSpec[] {
  let p = POSITIONAL.get(spec);
  if (!p) POSITIONAL.set(spec, (p = spec.args.filter((a) => a.positional)));
  return p;
}

/** The value bound to the spec's argument `name`, if any. */
function valueOf(spec: LayerSpec, values: (Resolved | undefined)[] | undefined, name: string): Resolved | undefined {
  if (!values) return undefined;
  const args = spec.args;
  for (let i = 0; i < args.length; i++) if (args[i].name === name) return values[i];
  return undefined;
}

/**
 * Binds a layer statement's arguments to its spec and checks each one: unknown names, repeats,
 * types and missing required arguments are errors at their own position.
 */
export function resolveLayer(
  stmt: CallStatement,
  def: LayerDef<LayerAttrs>,
  env: Env,
  out: Diagnostic[],
): LayerAttrs | undefined {
  const spec = def.spec!;
  // Bound values by the index of their spec in `spec.args`, and where each was written (scratch
  // arrays: the builder copies what it keeps).
  let values: (Resolved | undefined)[] | undefined;
  const positional = positionalArgs(spec);
  let pos = 0;
  let ok = true;
  for (const arg of stmt.args) {
    let target: ArgSpec | undefined;
    if (arg.name) {
      target = argSpec(spec, arg.name.text);
      if (!target) {
        const guess = closest(arg.name.text, spec.args.flatMap((a) => [a.name, ...a.aliases]));
        out.push({
          code: 'unknown-argument',
          severity: 'error',
          range: arg.name.range,
          message: spec.args.length
            ? `${spec.keyword} has no argument '${arg.name.text}'${guess ? ` (did you mean '${guess}'?)` : ''}; its arguments are ${argList(spec)}`
            : `${spec.keyword} takes no arguments`,
          fixes: guess ? [{ title: `Change to '${guess}'`, edits: [{ range: arg.name.range, newText: guess }] }] : undefined,
        });
        ok = false;
        continue;
      }
    } else {
      // Positional arguments fill the positional slots in order, skipping any already named.
      while (pos < positional.length && values?.[spec.args.indexOf(positional[pos])] !== undefined) pos++;
      target = positional[pos++];
      if (!target) {
        out.push({
          code: 'too-many-arguments',
          severity: 'error',
          range: arg.range,
          message: positional.length
            ? `${spec.keyword} takes ${positional.length} positional argument${positional.length > 1 ? 's' : ''} (${positional.map((a) => a.name).join(', ')}); name the others, as in k=3`
            : `${spec.keyword} takes no positional arguments${spec.args.length ? `; name them: ${argList(spec)}` : ''}`,
        });
        ok = false;
        continue;
      }
    }
    const index = spec.args.indexOf(target);
    if (values?.[index] !== undefined) {
      out.push({
        code: 'duplicate-argument',
        severity: 'error',
        range: arg.range,
        message: `'${target.name}' is given twice`,
      });
      ok = false;
      continue;
    }
    const r = target.type === 'choice' ? choiceOf(target, arg.value, out) : coerceValue(target, arg.value, env, out);
    if (r === undefined) {
      ok = false;
      continue;
    }
    if (!values) {
      values = SCRATCH;
      for (let i = 0; i < spec.args.length; i++) {
        values[i] = undefined;
        RANGES[i] = undefined;
      }
    }
    values[index] = r;
    RANGES[index] = arg.range;
  }
  for (let i = 0; i < spec.args.length; i++) {
    const a = spec.args[i];
    if (a.required && values?.[i] === undefined && ok) {
      const example = a.type === 'shape' ? '3x224x224' : a.name === 'out' ? '64' : a.name === 'size' ? '6x6' : '3';
      const text = a.positional && a.name !== 'k' ? ` ${example}` : ` ${a.name}=${example}`;
      out.push({
        code: 'missing-argument',
        severity: 'error',
        range: stmt.keyword.range,
        message: `${spec.keyword} needs '${a.name}' (${a.doc}), as in '${spec.keyword}${text}'`,
        fixes: [{ title: `Add${text}`, edits: [{ range: { start: stmt.range.end, end: stmt.range.end }, newText: text }] }],
      });
      ok = false;
    }
  }
  if (!ok) return undefined;
  return def.build!(new Args(spec, values, stmt, out));
}

/** The bound values of one layer statement, by argument name (no closures: one per layer adds up). */
class Args implements BoundArgs {
  constructor(
    private readonly spec: LayerSpec,
    private readonly values: (Resolved | undefined)[] | undefined,
    private readonly stmt: CallStatement,
    private readonly out: Diagnostic[],
  ) {}

  get(name: string): Resolved | undefined {
    return valueOf(this.spec, this.values, name);
  }

  pair(name: string, dflt: Pair): Pair {
    return (this.get(name) as Pair | undefined) ?? dflt;
  }

  num(name: string, dflt: number): number {
    return (this.get(name) as number | undefined) ?? dflt;
  }

  bool(name: string, dflt: boolean): boolean {
    return (this.get(name) as boolean | undefined) ?? dflt;
  }

  written(name: string): boolean {
    return this.get(name) !== undefined;
  }

  error(name: string, code: DiagnosticCode, message: string): void {
    const i = this.spec.args.findIndex((a) => a.name === name);
    const range = (i >= 0 && this.values ? RANGES[i] : undefined) ?? this.stmt.keyword.range;
    this.out.push({ code, severity: 'error', range, message });
  }
}
