import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import type { Diagnostic } from '../../src/language/diagnostics';
import { where } from '../helpers';

/** Analyses `network T { input <shape>; <lines> }` and returns each diagnostic as [line:col, covered text, severity, message]. */
function check(lines: string, blocks = ''): { text: string; ds: Diagnostic[]; rows: string[][] } {
  const text = `network T {\n${lines}\n}\n${blocks}`;
  const ds = analyzeText(text).diagnostics;
  return { text, ds, rows: ds.map((d) => [where(text, d).at, where(text, d).text, d.severity, d.message]) };
}

describe('shape diagnostics', () => {
  it('residual channel mismatch shows both shapes and suggests a projection', () => {
    const { rows } = check(' input 4x8x8\n residual { conv 8 k=1 }');
    expect(rows).toEqual([
      ['3:2', 'residual', 'error', "residual: the body gives 8×8×8 but the shortcut gives 4×8×8; they must match to be added: project the shortcut, as in 'shortcut { conv 8 k=1 bias=false; bn }'"],
    ]);
  });

  it('residual spatial mismatch suggests a strided projection', () => {
    const { ds } = check(' input 4x8x8\n residual { conv 4 k=3 s=2 p=1 }');
    expect(ds[0].code).toBe('shape-mismatch');
    expect(ds[0].message).toContain("'shortcut { conv 4 k=1 s=2 bias=false; bn }'");
  });

  it('add branches that differ', () => {
    const { rows } = check(' input 4x8x8\n add { branch { maxpool k=2 } branch { relu } }');
    expect(rows).toEqual([['3:2', 'add', 'error', 'add: the branches give 4×4×4, 4×8×8; they must all match to be added']]);
  });

  it('concat branches with different H×W', () => {
    const { rows } = check(' input 4x8x8\n concat { branch { conv 2 k=3 } branch { conv 2 k=3 p=1 } }');
    expect(rows).toEqual([['3:2', 'concat', 'error', 'concat: every branch must give the same H×W, but they give 2×6×6, 2×8×8']]);
  });

  it('output size below 1 shows the formula', () => {
    const { rows } = check(' input 3x4x4\n conv 8 k=5');
    expect(rows).toEqual([
      ['3:2', 'conv 8 k=5', 'error', "conv output would be empty: H' = ⌊(4 + 2·0 − 5)/1⌋ + 1 = 0; the input 3×4×4 is smaller than the 5×5 window: use a smaller kernel, add padding, or downsample less before this layer"],
    ]);
  });

  it('a stride that does not divide warns that rows are dropped', () => {
    const { rows } = check(' input 3x10x10\n conv 8 k=3 s=2\n maxpool k=2 s=2 p=1');
    expect(rows).toEqual([
      ['3:2', 'conv 8 k=3 s=2', 'warning', 'stride 2 does not divide 10 + 2·0 − 3 = 7: the last row and the last column of the 3×10×10 input are never seen; adjust the padding'],
    ]);
    // Kernels smaller than the stride skip rows by design, and only padding is dropped here: no warning.
    expect(check(' input 3x10x10\n conv 8 k=1 s=2\n conv 8 k=7 s=2 p=3').rows).toEqual([]);
  });

  it('groups that do not divide the channels suggest a g that does', () => {
    const { rows } = check(' input 6x8x8\n conv 8 k=3 g=4');
    expect(rows).toEqual([['3:2', 'conv 8 k=3 g=4', 'error', 'groups=4 must divide both the input channels (6) and the output channels (8); g=2 would']]);
  });

  it('linear on a spatial tensor suggests flatten, with a fix that inserts it', () => {
    const { text, ds, rows } = check(' input 16x4x4\n linear 10');
    expect(rows).toEqual([
      ['3:2', 'linear 10', 'error', "linear needs a flat input, but gets 16×4×4: insert 'flatten' (giving 256) or 'gap' then 'flatten' before it"],
    ]);
    const edit = ds[0].fixes![0].edits[0];
    const fixed = text.slice(0, edit.range.start.offset) + edit.newText + text.slice(edit.range.end.offset);
    expect(fixed).toContain(' flatten\n linear 10');
    expect(analyzeText(fixed).diagnostics).toEqual([]);
  });

  it('conv, pools and gap on a flat tensor', () => {
    const { rows } = check(' input 10\n conv 4 k=1\n gap');
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['3:2', 'conv 4 k=1', 'error', 'conv needs an image-shaped input C×H×W, but gets the flat 10'],
    ]);
  });

  it('reports inside a block once, with the call chain as related information', () => {
    const same = check(' input 4x8x8\n B(8)\n B(8)', 'block B(c) {\n  residual { conv c k=1 }\n}');
    expect(same.ds).toHaveLength(1);
    expect(same.ds[0].range.start.line).toBe(6);
    expect(same.ds[0].related?.map((r) => [r.range.start.line, r.message])).toEqual([[2, 'in this call of B']]);
    const differ = check(' input 4x8x8\n B(8)\n B(16)', 'block B(c) {\n  residual { conv c k=1 }\n}');
    expect(differ.ds.map((d) => d.message)).toEqual([
      "residual: the body gives 8×8×8 but the shortcut gives 4×8×8; they must match to be added: project the shortcut, as in 'shortcut { conv 8 k=1 bias=false; bn }' (and 1 more call)",
    ]);
  });
});

describe('argument diagnostics', () => {
  it('bad types at the value', () => {
    const { rows } = check(' input 3x8x8\n conv 8 k=1.5\n conv 8 k=1 bias=3\n dropout 1.5\n conv -3 k=1\n maxpool k=same');
    expect(rows).toEqual([
      ['3:11', '1.5', 'error', "'k' needs a positive integer or HxW, not 1.5"],
      ['4:18', '3', 'error', "'bias' needs true or false, not 3"],
      ['5:10', '1.5', 'error', "'p' needs a probability with 0 <= p < 1, not 1.5"],
      ['6:7', '-3', 'error', "'out' needs a positive integer, not -3"],
      ['7:12', 'same', 'error', "'k' needs a positive integer or HxW, not same"],
    ]);
  });

  it('unknown argument names, with a suggestion and a fix', () => {
    const { ds, rows } = check(' input 3x8x8\n conv 8 k=3 stide=2\n relu inplace=true');
    expect(rows).toEqual([
      ['3:13', 'stide', 'error', "conv has no argument 'stide' (did you mean 'stride'?); its arguments are out, k, s, p, d, g, bias"],
      ['4:7', 'inplace', 'error', 'relu takes no arguments'],
    ]);
    expect(ds[0].fixes?.[0].edits[0].newText).toBe('stride');
  });

  it('missing required arguments, with a fix that adds one', () => {
    const { ds, rows } = check(' input 3x8x8\n conv 8\n maxpool');
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['3:2', 'conv', 'error'],
      ['4:2', 'maxpool', 'error'],
    ]);
    expect(ds[0].message).toBe("conv needs 'k' (kernel size: `3`, `1x7` or `(e1, e2)`), as in 'conv k=3'");
    expect(ds[0].fixes?.[0].edits[0].newText).toBe(' k=3');
  });

  it('duplicate and surplus arguments', () => {
    const { rows } = check(' input 3x8x8\n conv 8 k=3 kernel=5\n relu 3');
    expect(rows).toEqual([
      ['3:13', 'kernel=5', 'error', "'k' is given twice"],
      ['4:7', '3', 'error', 'relu takes no positional arguments'],
    ]);
  });

  it('p=same with an even kernel', () => {
    // k=2 with d=2 spans D*(K-1) = 2: even, so p=same is fine there.
    const { rows } = check(' input 3x8x8\n conv 8 k=4 p=same\n conv 8 k=2 d=2 p=same');
    expect(rows).toEqual([
      ['3:13', 'p=same', 'error', 'p=same needs an odd kernel: with k=4, D*(K-1) = 3 is odd and cannot be split evenly between the two sides; use an odd kernel or give the padding'],
    ]);
  });

  it('pool padding over half the kernel', () => {
    const { rows } = check(' input 3x8x8\n maxpool k=2 p=2');
    expect(rows).toEqual([['3:14', 'p=2', 'error', 'maxpool padding 2x2 is more than half the kernel 2x2: PyTorch refuses it; use p <= k/2']]);
  });

  it('an inexact division where an integer is needed', () => {
    const { rows } = check(' input 3x8x8\n B(8)', 'block B(c) { conv c/3 k=1 }');
    expect(rows).toEqual([['5:19', 'c/3', 'error', "'out' needs a positive integer, but this division gives 2.6667: it must divide exactly"]]);
  });

  it('an unknown name in an expression lists the parameters in scope', () => {
    const { rows } = check(' input 3x8x8\n B(8)\n conv n k=1', 'block B(c) { conv d k=1 }');
    expect(rows).toEqual([
      ['4:7', 'n', 'error', "unknown name 'n': names are only defined inside a block, by its parameters"],
      ['6:19', 'd', 'error', "unknown name 'd': the parameters in scope are 'c'"],
    ]);
  });

  it('duplicate definitions, a block named like a layer, and repeated parameters', () => {
    const text = 'network A { input 3x8x8 }\nnetwork A { input 3x8x8 }\nblock conv() { relu }\nblock B(c, c) { relu }';
    const rows = analyzeText(text).diagnostics.map((d) => [where(text, d).at, d.message]);
    expect(rows).toEqual([
      ['2:9', "'A' is already defined"],
      ['3:7', "'conv' is a layer; give the block another name"],
      ['4:12', "parameter 'c' appears twice in B"],
    ]);
  });

  it('an empty network', () => {
    const text = 'network Empty {\n}';
    expect(analyzeText(text).diagnostics.map((d) => [where(text, d).at, d.message])).toEqual([
      ['1:9', "Empty has no layers; start it with 'input', such as 'input 3x224x224'"],
    ]);
  });
});
