/** The `p` argument that convolutions and pools share: per-side zero padding, or `same`. */
import { pairOf, type ArgSpec, type BoundArgs, type Pair } from './types';

export function padArg(doc: string): ArgSpec {
  return { name: 'p', aliases: ['pad', 'padding'], type: 'pad', default: '0', doc };
}

/** The padding as written; `same` is `D*(K-1)/2` per dimension. Undefined when not written. */
export function paddingOf(args: BoundArgs, kernel: Pair, dilation: Pair): Pair | undefined {
  const p = args.get('p');
  if (p === 'same') return pairOf(Math.floor((dilation[0] * (kernel[0] - 1)) / 2), Math.floor((dilation[1] * (kernel[1] - 1)) / 2));
  return p as Pair | undefined;
}

/** `p=same` needs an even `D*(K-1)`: reports it at `p` and returns true when it is odd. */
export function sameNeedsOddKernel(args: BoundArgs, kernel: Pair, dilation: Pair): boolean {
  if (args.get('p') !== 'same') return false;
  const span = [dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)];
  if (span[0] % 2 === 0 && span[1] % 2 === 0) return false;
  const k = kernel[0] === kernel[1] ? `${kernel[0]}` : `${kernel[0]}x${kernel[1]}`;
  const dilated = dilation[0] > 1 || dilation[1] > 1;
  args.error(
    'p',
    'same-even-kernel',
    `p=same needs an odd kernel: with k=${k}${dilated ? ` and d=${dilation.join('x')}` : ''}, D*(K-1) = ${span[0] === span[1] ? span[0] : span.join('x')} is odd and cannot be split evenly between the two sides; use an odd kernel or give the padding`,
  );
  return true;
}
