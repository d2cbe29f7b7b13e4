/** Zero-based positions, as LSP uses them; the CLI adds one when it prints. */
export interface Position {
  line: number;
  character: number;
  offset: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export function rangeContains(outer: Range, inner: Range): boolean {
  return outer.start.offset <= inner.start.offset && inner.end.offset <= outer.end.offset;
}

export function emptyRangeAt(p: Position): Range {
  return { start: p, end: p };
}

/**
 * Maps offsets to line/character positions for one text. Lines end as LSP ends them: at
 * `\r\n`, `\n` or a lone `\r` (the lexers agree); characters are UTF-16 code units.
 */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.starts.push(i + 1);
    }
  }

  /** The line of the last lookup: the AST builder asks in source order, mostly on that line. */
  private hint = 0;

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const h = this.hint;
    if (this.starts[h] <= o && (h + 1 >= this.starts.length || o < this.starts[h + 1])) {
      return { line: h, character: o - this.starts[h], offset: o };
    }
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    this.hint = lo;
    return { line: lo, character: o - this.starts[lo], offset: o };
  }

  /** As LSP reads a position: a character past the end of its line is the line's end. */
  offsetAt(line: number, character: number): number {
    if (line >= this.starts.length) return this.text.length;
    const l = Math.max(0, line);
    return Math.min(this.starts[l] + Math.max(0, character), this.lineEnd(l));
  }

  /** Where a line's text ends, before its line break. */
  private lineEnd(line: number): number {
    if (line + 1 >= this.starts.length) return this.text.length;
    const next = this.starts[line + 1];
    return next >= 2 && this.text.charCodeAt(next - 2) === 13 && this.text.charCodeAt(next - 1) === 10 ? next - 2 : next - 1;
  }

  /** `end` is exclusive. */
  range(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }

  get lineCount(): number {
    return this.starts.length;
  }
}
