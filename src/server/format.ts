/** Number and figure formatting for hints, hovers and lenses. */
import type { ReceptiveField, Shape } from '../analysis/types';
import { bytes, grouped } from '../analysis/format';
import { ratioText } from '../layers/ratio';
import type { Settings } from './settings';

export { bytes, grouped };

export function shapeText(s: Shape | null | undefined): string {
  return s ? s.join('×') : '?';
}

/** Three significant digits with a unit: 23.3K, 72.9M, 714M, 1.43G. */
export function compact(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) {
    if (Math.abs(n) >= v) {
      const x = n / v;
      const t = x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
      return `${t.replace(/\.0+$|(\.\d*?)0+$/, '$1')}${u}`;
    }
  }
  return String(n);
}

/** The compute figure under the FLOP convention the user chose. */
export function compute(macs: number, s: Settings): { value: number; unit: string } {
  return s.flops === '2xmac' ? { value: 2 * macs, unit: 'FLOPs' } : { value: macs, unit: 'MACs' };
}

/** A square pair as one number, else `h×w`; a fractional stride as `1/2`. */
export function pair(p: [number, number]): string {
  return p[0] === p[1] ? ratioText(p[0]) : `${ratioText(p[0])}×${ratioText(p[1])}`;
}

export function rfShort(rf: ReceptiveField): string {
  const j = pair(rf.stride);
  return `RF ${pair(rf.size)}/${j.includes('/') ? `(${j})` : j}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
