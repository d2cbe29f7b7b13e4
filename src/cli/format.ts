/** Number and table formatting for the human-readable CLI output. */

export function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 1.43 G, 61.1 M, 23.3 K: for the headline figures next to the exact ones. */
export function metric(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)} ${u}`;
  return String(n);
}

/** Binary units, as the lecture's "784 KB" for 802,816 bytes (shown as KiB to be exact). */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${n} B`;
  const text = Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(1) : v.toFixed(2);
  return `${text} ${units[i]}`;
}

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align: Align;
}

/** A plain-text table with a rule under the header and before an optional footer row. */
export function table(columns: Column[], rows: string[][], footer?: string[]): string {
  const all = footer ? [...rows, footer] : rows;
  const widths = columns.map((c, i) => Math.max(c.header.length, ...all.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, w) => a + w, 0) + 2 * (widths.length - 1));
  const out = [rule, line(columns.map((c) => c.header)), rule, ...rows.map(line)];
  if (footer) out.push(rule, line(footer));
  out.push(rule);
  return out.join('\n');
}
