import type { Diagnostic } from '../language/diagnostics';
import type { Expr } from '../language/ast';

/** `p=same` evaluates to this marker unless a block parameter named `same` is in scope. */
export const SAME = Object.freeze({ same: true as const });

export type Value = number | boolean | number[] | typeof SAME;

export type Env = ReadonlyMap<string, Value>;

export function describeValue(v: Value): string {
  if (v === SAME) return 'same';
  if (Array.isArray(v)) return `(${v.join(', ')})`;
  return String(v);
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e4) / 1e4);
}

export function isTruthy(v: Value): boolean {
  return v === true || (typeof v === 'number' && v !== 0);
}

/**
 * Evaluates an expression in a block's environment. Errors become diagnostics at the
 * sub-expression that caused them, and the result is undefined.
 */
export function evaluate(e: Expr, env: Env, out: Diagnostic[]): Value | undefined {
  const fail = (message: string, code: Diagnostic['code'] = 'argument-value'): undefined => {
    out.push({ code, severity: 'error', range: e.range, message });
    return undefined;
  };
  switch (e.kind) {
    case 'number':
      return e.value;
    case 'bool':
      return e.value;
    case 'dims':
      return e.values;
    case 'missing':
      return undefined; // the parser has already reported it
    case 'name': {
      const v = env.get(e.name);
      if (v !== undefined) return v;
      if (e.name === 'same') return SAME;
      const known = [...env.keys()];
      return fail(
        known.length
          ? `unknown name '${e.name}': the parameters in scope are ${known.map((n) => `'${n}'`).join(', ')}`
          : `unknown name '${e.name}': names are only defined inside a block, by its parameters`,
        'unknown-name',
      );
    }
    case 'tuple': {
      const items: number[] = [];
      for (const it of e.items) {
        const v = evaluate(it, env, out);
        if (v === undefined) return undefined;
        if (typeof v !== 'number') return fail(`a tuple holds numbers, but this item is ${describeValue(v)}`, 'argument-type');
        items.push(v);
      }
      return items;
    }
    case 'unary': {
      const v = evaluate(e.operand, env, out);
      if (v === undefined) return undefined;
      if (e.op === '!') return !isTruthy(v);
      if (typeof v !== 'number') return fail(`'${e.op}' needs a number, not ${describeValue(v)}`, 'argument-type');
      return e.op === '-' ? -v : v;
    }
    case 'binary': {
      const l = evaluate(e.left, env, out);
      if (l === undefined) return undefined;
      if (e.op === '&&' && !isTruthy(l)) return false;
      if (e.op === '||' && isTruthy(l)) return true;
      const r = evaluate(e.right, env, out);
      if (r === undefined) return undefined;
      if (e.op === '&&' || e.op === '||') return isTruthy(r);
      if (e.op === '==' || e.op === '!=') {
        const eq = describeValue(l) === describeValue(r);
        return e.op === '==' ? eq : !eq;
      }
      if (typeof l !== 'number' || typeof r !== 'number') {
        return fail(`'${e.op}' needs numbers, not ${describeValue(l)} and ${describeValue(r)}`, 'argument-type');
      }
      switch (e.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          if (r === 0) return fail(`division by zero: ${fmt(l)} / 0`, 'division');
          return l / r;
        case '%':
          if (r === 0) return fail(`remainder by zero: ${fmt(l)} % 0`, 'division');
          return l % r;
        case '<':
          return l < r;
        case '<=':
          return l <= r;
        case '>':
          return l > r;
        case '>=':
          return l >= r;
      }
    }
  }
}

/** True when the expression holds a `/`: an inexact integer then gets a message about division. */
export function hasDivision(e: Expr): boolean {
  switch (e.kind) {
    case 'binary':
      return e.op === '/' || hasDivision(e.left) || hasDivision(e.right);
    case 'unary':
      return hasDivision(e.operand);
    case 'tuple':
      return e.items.some(hasDivision);
    default:
      return false;
  }
}

export { fmt as formatNumber };
