/**
 * Labels that spell torchvision's names (docs/naming.md), in both parsers: keywords and numbers
 * as labels, quoted labels with `{expr}` interpolations, `_`, and `repeat N as i`; malformed
 * quoted labels give one positioned error each.
 */
import { describe, expect, it } from 'vitest';
import type { Label, NetworkDef, Statement } from '../../src/language/ast';
import { chevrotainParse } from '../../src/language';
import { fastParse } from '../../src/language/fast/parser';

/** The network's statements from both parsers, which must agree. */
function statements(body: string): Statement[] {
  const text = `network T {\n${body}\n}`;
  const slow = chevrotainParse(text);
  expect(slow.diagnostics).toEqual([]);
  expect(fastParse(text)).toStrictEqual(slow.file);
  return (slow.file.definitions[0] as NetworkDef).body.statements;
}

/** A label as `text` or, quoted, its pieces with each expression's source text. */
function show(l: Label | undefined, src: string): unknown {
  if (!l) return undefined;
  if (!l.quoted) return l.text;
  return l.quoted.map((q) => (typeof q === 'string' ? q : { expr: src.slice(q.range.start.offset, q.range.end.offset) }));
}

function problems(body: string): [string, string][] {
  const text = `network T {\n${body}\n}`;
  expect(fastParse(text)).toBeUndefined();
  return chevrotainParse(text).diagnostics.map((d) => [`${d.range.start.line + 1}:${d.range.start.character + 1}`, d.message]);
}

describe('labels', () => {
  it('may be any keyword, and numbers', () => {
    const body = 'block: relu\nadd: relu\nrepeat: relu\nbranch: relu\ntrue: relu\nnetwork: relu\n0: relu\n12: { relu }';
    expect(statements(body).map((s) => s.label?.text)).toEqual(['block', 'add', 'repeat', 'branch', 'true', 'network', '0', '12']);
  });

  it("read 'shortcut:' and 'else:' after a body as the next statement's label", () => {
    const s = statements('residual { relu }\nshortcut: relu\nif x { relu }\nelse: tanh\nresidual { relu } shortcut { tanh }');
    expect(s.map((x) => [x.kind, x.label?.text])).toEqual([
      ['residual', undefined],
      ['call', 'shortcut'],
      ['if', undefined],
      ['call', 'else'],
      ['residual', undefined],
    ]);
    expect(s[0].kind === 'residual' && s[0].shortcut).toBe(undefined);
    expect(s[4].kind === 'residual' && s[4].shortcut?.keyword.text).toBe('shortcut');
  });

  it('may be quoted, with interpolated expressions, and keep their ranges', () => {
    const body = '"block1-0": relu\n"denselayer{i + 1}": relu\n"b{s}-{(i)}x": relu\n"{-i}": relu\n"": relu';
    const text = `network T {\n${body}\n}`;
    const s = statements(body);
    expect(s.map((x) => show(x.label, text))).toEqual([
      ['block1-0'],
      ['denselayer', { expr: 'i + 1' }],
      // A parenthesised expression's range is its inside, as everywhere.
      ['b', { expr: 's' }, '-', { expr: 'i' }, 'x'],
      [{ expr: '-i' }],
      [],
    ]);
    expect(s.map((x) => x.label!.text)).toEqual(['block1-0', 'denselayer{i + 1}', 'b{s}-{(i)}x', '{-i}', '']);
    const l = s[1].label!;
    expect(text.slice(l.range.start.offset, l.range.end.offset)).toBe('"denselayer{i + 1}"');
    expect(s[1].range.start).toEqual(l.range.start);
  });

  it('label branches, including _', () => {
    const s = statements('concat { _: branch { relu } "b-1": branch { } block: branch { } branch { } }');
    expect(s[0].kind === 'concat' && s[0].branches.map((b) => b.label?.text)).toEqual(['_', 'b-1', 'block', undefined]);
  });
});

describe('repeat N as i', () => {
  it('binds a name after the count; as stays a name elsewhere', () => {
    const s = statements('r: repeat 2 * n as i { relu }\nrepeat 3 { as: relu }\nconv as k=as');
    expect(s[0].kind === 'repeat' && [s[0].index?.text, s[0].count.kind]).toEqual(['i', 'binary']);
    expect(s[1].kind === 'repeat' && s[1].index).toBe(undefined);
    expect(s[2].kind === 'call' && s[2].args.map((a) => a.value.kind)).toEqual(['name', 'name']);
  });

  it('reports a missing name at its place', () => {
    expect(problems('repeat 2 as { relu }')).toEqual([['2:13', "expected a name but found '{'"]]);
  });
});

describe('malformed quoted labels', () => {
  it('give one error each, where the problem is', () => {
    expect(problems('"abc: relu')).toEqual([
      ['2:1', `this quote is never closed: a quoted label ends with '"' on its own line`],
    ]);
    expect(problems('"a}": relu')).toEqual([['2:3', "a '}' with no '{' before it: a quoted label holds text and {expressions}, not braces"]]);
    expect(problems('"a{{i}}": relu')).toEqual([['2:4', "a label's {expression} cannot hold another '{'"]]);
    expect(problems('"a{i": relu')).toEqual([['2:3', "this '{' is never closed: add '}' after its expression"]]);
    expect(problems('"a{//x}": relu')).toEqual([['2:4', "a label's {expression} holds no comments"]]);
    expect(problems('"ab" relu')).toEqual([['2:6', "expected ':' but found 'relu'"]]);
  });
});
