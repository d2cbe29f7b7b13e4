/**
 * Comments are found in the text alone (no lexing): the same ones as in the gaps between the
 * lexer's tokens, which is where the lexer skips them.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/engine/weights/init';
import { lex } from '../../src/language/lexer';
import { commentsOf, type Comment } from '../../src/server/comments';

/** Comments between tokens, as found before: the reference. */
function betweenTokens(text: string): { start: number; end: number; block: boolean }[] {
  const out: { start: number; end: number; block: boolean }[] = [];
  const scan = (from: number, to: number) => {
    for (let i = from; i < to; ) {
      if (text[i] === '/' && text[i + 1] === '/') {
        let j = text.indexOf('\n', i);
        if (j < 0 || j > to) j = to;
        if (text.charCodeAt(j - 1) === 13) j--;
        out.push({ start: i, end: j, block: false });
        i = j;
      } else if (text[i] === '/' && text[i + 1] === '*') {
        const close = text.indexOf('*/', i + 2);
        const j = close < 0 ? text.length : close + 2;
        out.push({ start: i, end: j, block: true });
        i = j;
      } else i++;
    }
  };
  let at = 0;
  for (const t of lex(text).tokens) {
    if (t.startOffset > at) scan(at, t.startOffset);
    at = Math.max(at, (t.endOffset ?? t.startOffset) + 1);
  }
  scan(at, text.length);
  return out;
}

const plain = (cs: Comment[]) => cs.map(({ start, end, block }) => ({ start, end, block }));

describe('comments', () => {
  it('finds line, block and unclosed comments, and tells own-line ones', () => {
    const text = 'network A { // one\n  /* two\n */ conv 3 / 2 // three\r\n  relu /* four';
    const cs = commentsOf(text);
    expect(cs.map((c) => [text.slice(c.start, c.end), c.block, c.ownLine])).toEqual([
      ['// one', false, false],
      ['/* two\n */', true, true],
      ['// three', false, false],
      ['/* four', true, false],
    ]);
  });

  it('finds what the lexer skips, on random texts', () => {
    const rand = mulberry32(5);
    const parts = ['/', '*', '//', '/*', '*/', '\n', '\r\n', ' ', 'conv', '3', '@', 'x', '(', ')', '{', '}', '/ 2', 'é'];
    for (let n = 0; n < 500; n++) {
      const text = Array.from({ length: 30 }, () => parts[Math.floor(rand() * parts.length)]).join('');
      expect(plain(commentsOf(text))).toEqual(betweenTokens(text));
    }
  });
});
