/**
 * Suggestions the registry makes: "did you mean …?" (the closest of a few known names to one
 * that is not known), and the searches that the kinds' quick fixes share.
 */
import { droppedRowsOf, windowOut } from './window';

/** Edit distance with adjacent transpositions (`rleu` is one edit from `relu`), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/** Names longer than this are not typos of a keyword or a parameter: no guess, and no quadratic work. */
const LONGEST_GUESSED = 64;

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  // One- and two-letter names are too short for a guess to mean anything.
  const allowed = name.length < 3 ? 0 : Math.max(1, Math.floor(name.length / 3));
  if (name.length > LONGEST_GUESSED) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: most candidates need no table.
    if (Math.abs(c.length - name.length) > Math.min(allowed, bestD - 1)) continue;
    const dist = editDistance(name, c);
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best !== undefined && bestD <= allowed ? best : undefined;
}

/**
 * The smallest padding in `[from, to]` for which one dimension of a window layer gives what
 * `ok` asks (its output size and the input rows it leaves unseen), or undefined: what the
 * quick fixes of windowed layers (conv's padding, a pool's stride drop) search.
 */
export function paddingWhere(size: number, k: number, s: number, d: number, ceil: boolean, from: number, to: number, ok: (out: number, dropped: number) => boolean): number | undefined {
  for (let p = from; p <= to; p++) {
    const out = windowOut(size, k, s, p, d, ceil);
    if (out >= 1 && ok(out, droppedRowsOf(size, k, s, p, d, out))) return p;
  }
  return undefined;
}

/** Whether a window leaves input rows unseen in either dimension. */
export function dropsRows(x: readonly number[], kernel: readonly number[], stride: readonly number[], padding: readonly number[], dilation: readonly number[], ceil: boolean): boolean {
  return [0, 1].some((i) => {
    const out = windowOut(x[i + 1], kernel[i], stride[i], padding[i], dilation[i], ceil);
    return out >= 1 && droppedRowsOf(x[i + 1], kernel[i], stride[i], padding[i], dilation[i], out) > 0;
  });
}
