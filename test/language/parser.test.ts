import { describe, expect, it } from 'vitest';
import type { CallStatement, Expr, NetworkDef, BlockDef, Statement } from '../../src/language/ast';
import { collectStatements } from '../../src/language/ast';
import { parse } from '../../src/language';
import { lex, Newline } from '../../src/language/lexer';

function statements(text: string): Statement[] {
  const r = parse(text);
  return (r.file.definitions[0] as NetworkDef).body.statements;
}

function call(s: Statement): CallStatement {
  if (s.kind !== 'call') throw new Error(`expected a call, got ${s.kind}`);
  return s;
}

function show(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return e.text;
    case 'bool':
      return String(e.value);
    case 'name':
      return e.name;
    case 'dims':
      return e.values.join('x');
    case 'tuple':
      return `(${e.items.map(show).join(', ')})`;
    case 'unary':
      return `(${e.op}${show(e.operand)})`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'missing':
      return '?';
  }
}

describe('lexer', () => {
  it('drops newlines inside parentheses and collapses blank lines', () => {
    const { tokens } = lex('a(1,\n 2)\n\n\nb');
    expect(tokens.map((t) => t.image)).toEqual(['a', '(', '1', ',', '2', ')', '\n', 'b']);
  });

  it('lets shortcut and else follow a closing brace on the next line', () => {
    const { tokens } = lex('}\n  shortcut { }\n\n  else');
    expect(tokens.filter((t) => t.tokenType === Newline)).toHaveLength(0);
  });

  it('reads dims, decimals and exponents as single tokens', () => {
    const { tokens } = lex('3x224x224 1e-5 0.75 .5 1x7');
    expect(tokens.map((t) => `${t.tokenType.name}:${t.image}`)).toEqual([
      'Dims:3x224x224',
      'NumberLit:1e-5',
      'NumberLit:0.75',
      'NumberLit:.5',
      'Dims:1x7',
    ]);
  });

  it('skips // and /* */ comments, and reports an unclosed block comment', () => {
    expect(lex('a // b c\n/* d\n e */ f').tokens.map((t) => t.image)).toEqual(['a', '\n', 'f']);
    const r = parse('network A {\n input 3x8x8\n}\n/* never closed');
    expect(r.diagnostics.map((d) => [d.range.start.line, d.message])).toEqual([[3, "this '/*' comment is never closed: add '*/'"]]);
  });

  it('reports an unknown character at its position and goes on', () => {
    const text = 'network A {\n input 3x8x8\n relu @\n}';
    const r = parse(text);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0].message).toBe("unexpected character '@'");
    expect(r.diagnostics[0].range.start).toMatchObject({ line: 2, character: 6 });
  });
});

describe('parser', () => {
  it('parses the spec example with no diagnostics and keeps every statement', () => {
    const text = `network Tiny {
  input 3x32x32
  conv 16 k=3 p=same
  bn; relu
  maxpool k=2
  Down(32)
  gap
  flatten
  linear 10
  softmax
}
block Down(c, s=2) {
  residual {
    conv c k=3 s=s p=1 bias=false; bn; relu
    conv c k=3 p=1 bias=false; bn
  } shortcut {
    conv c k=1 s=s bias=false; bn
  }
  relu
}`;
    const r = parse(text);
    expect(r.diagnostics).toEqual([]);
    const [network, block] = r.file.definitions as [NetworkDef, BlockDef];
    expect(network.body.statements.map((s) => (s.kind === 'call' ? s.keyword.text : s.kind))).toEqual([
      'input', 'conv', 'bn', 'relu', 'maxpool', 'Down', 'gap', 'flatten', 'linear', 'softmax',
    ]);
    expect(block.params.map((p) => [p.name.text, p.default ? show(p.default) : null])).toEqual([['c', null], ['s', '2']]);
    const res = block.body.statements[0];
    expect(res.kind).toBe('residual');
    if (res.kind !== 'residual') return;
    expect(res.body.statements).toHaveLength(5);
    expect(res.shortcut?.body.statements).toHaveLength(2);
  });

  it('binds positional and named arguments, tuples and dims', () => {
    const [input, conv] = statements('network A {\n input 3x224x224\n conv 64 k=(1, 7) s=2 p=same d=1x2\n}');
    expect(call(input).args.map((a) => show(a.value))).toEqual(['3x224x224']);
    expect(call(conv).args.map((a) => `${a.name?.text ?? ''}=${show(a.value)}`)).toEqual(['=64', 'k=(1, 7)', 's=2', 'p=same', 'd=1x2']);
  });

  it('applies operator precedence and associativity', () => {
    const [s] = statements('network A {\n conv a + b * c - d / 2 % 3 k=!x || y && z == 1 < 2\n}');
    const args = call(s).args;
    expect(show(args[0].value)).toBe('((a + (b * c)) - ((d / 2) % 3))');
    expect(show(args[1].value)).toBe('((!x) || (y && ((z == 1) < 2)))');
  });

  it('parses composition statements, labels and else-if chains', () => {
    const text = `network A {
  stem: conv 8 k=3
  repeat 2 { relu }
  add { branch { relu } b2: branch { tanh } }
  concat {
    branch { relu }
  }
  aux { gap }
  if 1 > 2 { relu } else if true { tanh } else { sigmoid }
  group: { relu; relu }
}`;
    const r = parse(text);
    expect(r.diagnostics).toEqual([]);
    const s = (r.file.definitions[0] as NetworkDef).body.statements;
    expect(s.map((x) => x.kind)).toEqual(['call', 'repeat', 'add', 'concat', 'aux', 'if', 'group']);
    expect(s[0].label?.text).toBe('stem');
    expect(s[6].label?.text).toBe('group');
    const add = s[2];
    if (add.kind !== 'add') throw new Error();
    expect(add.branches.map((b) => b.label?.text ?? null)).toEqual([null, 'b2']);
    const ifs = s[5];
    if (ifs.kind !== 'if') throw new Error();
    expect(ifs.else?.body && 'kind' in ifs.else.body && ifs.else.body.kind).toBe('if');
  });

  it('keeps source ranges for statements, names and arguments', () => {
    const text = 'network A {\n  conv1: conv 64 k=11\n}';
    const [s] = statements(text);
    const c = call(s);
    expect(text.slice(c.range.start.offset, c.range.end.offset)).toBe('conv1: conv 64 k=11');
    expect(text.slice(c.keyword.range.start.offset, c.keyword.range.end.offset)).toBe('conv');
    expect(c.keyword.range.start).toEqual({ line: 1, character: 9, offset: 21 });
    const k = c.args[1];
    expect(text.slice(k.range.start.offset, k.range.end.offset)).toBe('k=11');
    expect(text.slice(k.value.range.start.offset, k.value.range.end.offset)).toBe('11');
  });

  it('ends statements at newlines and semicolons, but not inside parentheses', () => {
    const s = statements('network A {\n conv 8 k=3; relu\n Blk(1,\n   2)\n}');
    expect(s.map((x) => call(x).keyword.text)).toEqual(['conv', 'relu', 'Blk']);
    expect(call(s[2]).args).toHaveLength(2);
  });
});

describe('recovery', () => {
  it('still gives a tree for everything readable in a half-typed file', () => {
    const text = 'network A {\n  input 3x32x32\n  conv 16 k=\n  relu\n  conv 8 k=3\n';
    const r = parse(text);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    const names = (r.file.definitions[0] as NetworkDef).body.statements.map((x) => call(x).keyword.text);
    expect(names).toEqual(['input', 'conv', 'relu', 'conv']);
    expect(r.diagnostics[0]).toMatchObject({ code: 'syntax', range: { start: { line: 2, character: 12 } } });
    expect(r.diagnostics[0].message).toBe('expected a value but found the end of the line');
    expect(r.diagnostics.at(-1)?.message).toBe("expected '}' but found the end of the file");
  });

  it('recovers from garbage between statements and keeps later definitions', () => {
    const text = 'network A {\n  input 3x8x8\n  ) ) =\n  relu\n}\nblock B(c) { conv c k=1 }\n';
    const r = parse(text);
    expect(r.diagnostics.some((d) => d.range.start.line === 2)).toBe(true);
    expect(r.file.definitions.map((d) => d.name.text)).toEqual(['A', 'B']);
    const names = (r.file.definitions[0] as NetworkDef).body.statements.map((x) => call(x).keyword.text);
    expect(names).toContain('relu');
  });

  it('reports stray top-level text', () => {
    const r = parse('conv 3\nnetwork A { input 3x8x8 }');
    expect(r.diagnostics[0].message).toMatch(/^unexpected 'conv'/);
  });

  it('never throws on truncated prefixes of a real file', () => {
    const text = `network Tiny {
  input 3x32x32
  stem: conv 16 k=(3, 3) p=same
  residual { conv 16 k=3 p=1; bn } shortcut { conv 16 k=1 }
  add { branch { relu } branch { tanh } }
  if 2 > 1 && !false { relu } else { tanh }
  Down(c=32)
}
block Down(c, s=2) { conv c k=3 s=s p=1; repeat 2 { relu } }`;
    for (let i = 0; i <= text.length; i++) {
      expect(() => parse(text.slice(0, i))).not.toThrow();
    }
  });

  it('never throws on random garbage', () => {
    const alphabet = ['network', 'block', '{', '}', '(', ')', ',', ':', '=', ';', '\n', 'conv', 'x', '3', '3x3', 'repeat', 'residual', 'shortcut', 'branch', 'add', 'if', 'else', '+', '*', '/', '!', '&&', '@', '#', ' '];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 300; n++) {
      const text = Array.from({ length: 40 }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(' ');
      expect(() => parse(text)).not.toThrow();
    }
  });
});

describe('recovery keeps what was read', () => {
  it('keeps every call written before the end of a truncated file', () => {
    // Each rule that fails hands what it read to its caller: a call complete before the cut is
    // in the tree, wherever the cut falls (inside a branch, an else, an argument list, ...).
    const text = `network Tiny {
  input 3x32x32
  stem: conv 16 k=(3, 3) p=same
  residual { conv 16 k=3 p=1; bn } shortcut { conv 16 k=1 }
  add { branch { relu } b2: branch { tanh } }
  aux { gap; flatten; linear 10 }
  if 2 > 1 && !false { relu } else if x { tanh } else { sigmoid }
  g: { relu }
  Down(c=32) 1, (2, 3)
  r: repeat n * 2 - 1 { relu }
}
block Down(c, s=2) { conv c k=3 s=s p=1; repeat 2 { relu } }`;
    const all = collectStatements(parse(text).file.definitions.flatMap((d) => d.body.statements)).filter((s) => s.kind === 'call');
    for (let cut = 0; cut <= text.length; cut++) {
      const got = new Set(
        collectStatements(parse(text.slice(0, cut)).file.definitions.flatMap((d) => d.body.statements))
          .filter((s) => s.kind === 'call')
          .map((s) => `${s.keyword.text}@${s.keyword.range.start.offset}`),
      );
      for (const s of all) {
        if (s.keyword.range.end.offset >= cut) continue;
        expect(got.has(`${s.keyword.text}@${s.keyword.range.start.offset}`), `'${s.keyword.text}' cut at ${cut}: ${JSON.stringify(text.slice(Math.max(0, cut - 30), cut))}`).toBe(true);
      }
    }
  });
});
