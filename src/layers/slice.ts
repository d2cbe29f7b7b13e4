/**
 * `slice A B`: channels A to B-1 (Python's `x[:, A:B]`), all the rest without B; the features of a
 * flat input. With `concat`, ShuffleNetV2's split: `concat { branch { slice 0 58 } branch { slice 58; ... } }`.
 */
import { formatShape, type LayerDef } from './types';

export interface SliceAttrs {
  kind: 'slice';
  start: number;
  /** One past the last channel; null: to the last channel. */
  end: number | null;
}

export const slice: LayerDef<SliceAttrs> = {
  kind: 'slice',
  family: 'reshape',
  spec: {
    keyword: 'slice',
    aliases: [],
    args: [
      { name: 'start', aliases: [], type: 'count', required: true, positional: true, doc: 'the first channel taken (from 0)' },
      { name: 'end', aliases: [], type: 'int', positional: true, doc: "one past the last channel taken, as Python's `x[:, start:end]`; all the remaining channels when absent" },
    ],
    doc: "Channels `start` to `end - 1` (Python's `x[:, start:end]`); the features of a flat input. No parameters.",
    output: "C' x H x W, C' = end - start",
  },
  build(args) {
    const start = args.num('start', 0);
    const end = args.written('end') ? args.num('end', 1) : null;
    if (end !== null && start >= end) {
      args.error('end', 'argument-value', `slice ${start} ${end} takes no channels: 'end' must be more than 'start' (${start})`);
      return undefined;
    }
    return { kind: 'slice', start, end };
  },
  shape(a, [x], ctx) {
    const c = x[0];
    const end = a.end ?? c;
    if (end > c || a.start >= c) {
      const what = a.end === null ? `starts at channel ${a.start}` : `takes channels ${a.start} to ${end - 1}`;
      ctx.report({
        code: 'channel-mismatch',
        severity: 'error',
        message: `slice ${what}, but the input ${formatShape(x)} has ${c} ${x.length === 3 ? 'channels' : 'features'} (0 to ${c - 1})`,
      });
      return null;
    }
    return [end - a.start, ...x.slice(1)];
  },
  field: () => 'pointwise',
  describe: (a) => `slice ${a.start}${a.end === null ? '' : ` ${a.end}`}`,
};
