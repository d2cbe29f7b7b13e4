/**
 * Checks on what a client sends, before a handler reads it: a request with missing or
 * malformed params is answered with InvalidParams and a reason (no TypeError deep inside a
 * handler, no stack in the log), a notification's problem is logged in one line.
 */
import { ErrorCodes, ResponseError } from 'vscode-languageserver';

export interface Pos {
  line: number;
  character: number;
}

export interface Rng {
  start: Pos;
  end: Pos;
}

/** A malformed message: the method and what is wrong with it. */
export class ParamsError extends Error {}

export function invalid(method: string, reason: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, `${method}: ${reason}`);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object of another shape' : `${typeof v} ${String(v)}`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function object(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) throw new ParamsError(`${what} must be an object (got ${describe(v)})`);
  return v;
}

export function string(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ParamsError(`${what} must be a string (got ${describe(v)})`);
  return v;
}

export function optionalString(v: unknown, what: string): string | undefined {
  return v === undefined || v === null ? undefined : string(v, what);
}

export function boolean(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new ParamsError(`${what} must be true or false (got ${describe(v)})`);
  return v;
}

/** LSP's uinteger. */
export function uinteger(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw new ParamsError(`${what} must be a non-negative integer (got ${describe(v)})`);
  return v;
}

export function position(v: unknown, what: string): Pos {
  const o = object(v, what);
  return { line: uinteger(o.line, `${what}.line`), character: uinteger(o.character, `${what}.character`) };
}

export function range(v: unknown, what: string): Rng {
  const o = object(v, what);
  const start = position(o.start, `${what}.start`);
  const end = position(o.end, `${what}.end`);
  if (end.line < start.line || (end.line === start.line && end.character < start.character)) throw new ParamsError(`${what} ends before it starts`);
  return { start, end };
}

export function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ParamsError(`${what} must be an array (got ${describe(v)})`);
  return v;
}

/** `params.textDocument.uri`. */
export function documentUri(params: unknown): string {
  const p = object(params, 'params');
  const td = object(p.textDocument, 'params.textDocument');
  return string(td.uri, 'params.textDocument.uri');
}
