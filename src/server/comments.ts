export interface Comment {
  start: number;
  /** Exclusive. */
  end: number;
  block: boolean;
  /** Nothing but whitespace before it on its line. */
  ownLine: boolean;
}

/**
 * The comments of a text, straight from the text: no token holds a '/', so a '//' or '/*'
 * starts a comment wherever it is, as in the lexer (an unclosed '/*' runs to the end). No
 * tokens needed: the folding ranges of a long file do not make the server lex it again.
 */
export function commentsOf(text: string): Comment[] {
  const out: Comment[] = [];
  let i = text.indexOf('/');
  while (i >= 0 && i < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d === 47 /* / */) {
      let j = text.indexOf('\n', i);
      if (j < 0) j = text.length;
      if (text.charCodeAt(j - 1) === 13) j--;
      out.push({ start: i, end: j, block: false, ownLine: ownLine(text, i) });
      i = text.indexOf('/', j);
    } else if (d === 42 /* * */) {
      const close = text.indexOf('*/', i + 2);
      const j = close < 0 ? text.length : close + 2;
      out.push({ start: i, end: j, block: true, ownLine: ownLine(text, i) });
      i = text.indexOf('/', j);
    } else i = text.indexOf('/', i + 1);
  }
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
