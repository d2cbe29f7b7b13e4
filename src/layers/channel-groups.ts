/** Channel groups that must divide the channels: `groupnorm G` and `shuffle G`. */
import type { ShapeContext } from './types';

/** The divisor of `c` closest to `g`; the smaller one on a tie, as conv's suggestion never grows the groups. */
export function nearestDivisor(c: number, g: number): number {
  let best = 1;
  for (let d = 1; d * d <= c; d++) {
    if (c % d !== 0) continue;
    for (const q of [d, c / d]) {
      const closer = Math.abs(q - g) < Math.abs(best - g) || (Math.abs(q - g) === Math.abs(best - g) && q < best);
      if (closer) best = q;
    }
  }
  return best;
}

/** Reports groups that do not divide the channels, suggesting the nearest that does; true when they divide. */
export function groupsDivide(kind: string, groups: number, channels: number, ctx: ShapeContext): boolean {
  if (channels % groups === 0) return true;
  const g = nearestDivisor(channels, groups);
  ctx.report({
    code: 'groups',
    severity: 'error',
    message: `${kind}: ${groups} groups must divide the ${channels} channels; ${g} would`,
  });
  return false;
}
