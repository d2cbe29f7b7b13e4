import type { IToken } from 'chevrotain';

export interface Comment {
  start: number;
  /** Exclusive. */
  end: number;
  block: boolean;
  /** Nothing but whitespace before it on its line. */
  ownLine: boolean;
}

/**
 * The lexer skips comments; they are what lies between tokens besides whitespace. Characters
 * the lexer rejected are ignored here (they already have a diagnostic).
 */
export function commentsOf(text: string, tokens: readonly IToken[]): Comment[] {
  const out: Comment[] = [];
  const scan = (from: number, to: number) => {
    let i = from;
    while (i < to) {
      const c = text.charCodeAt(i);
      if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
        let j = text.indexOf('\n', i);
        if (j < 0 || j > to) j = to;
        if (text.charCodeAt(j - 1) === 13) j--;
        out.push({ start: i, end: j, block: false, ownLine: ownLine(text, i) });
        i = j;
      } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
        const close = text.indexOf('*/', i + 2);
        const j = close < 0 ? text.length : close + 2;
        out.push({ start: i, end: j, block: true, ownLine: ownLine(text, i) });
        i = j;
      } else i++;
    }
  };
  let at = 0;
  for (const t of tokens) {
    if (t.startOffset > at) scan(at, t.startOffset);
    at = Math.max(at, (t.endOffset ?? t.startOffset) + 1);
  }
  scan(at, text.length);
  return out;
}

function ownLine(text: string, i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const c = text[j];
    if (c === '\n') return true;
    if (c !== ' ' && c !== '\t' && c !== '\r') return false;
  }
  return true;
}
