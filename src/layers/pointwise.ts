/** Element-wise activations: each output depends on its input alone, so shapes and fields pass through. */
import { numel, type ArgSpec, type BoundArgs, type LayerDef } from './types';

/**
 * An activation's definition: the shape and receptive field of its input, `ops` operations per
 * element (one by default), and fusable into the epilogue of the layer before it.
 */
export function activation<A extends { kind: string }>(
  kind: A['kind'],
  doc: string,
  build: (args: BoundArgs) => A,
  options: {
    args?: ArgSpec[];
    aliases?: string[];
    describe?: (a: A) => string;
    /** Operations per element, as docs/analysis.md counts them. */
    ops?: number;
    /** The function, for the hover: `hardswish(x) = x·min(max(x + 3, 0), 6)/6`. */
    formula?: (a: A) => string;
  } = {},
): LayerDef<A> & { fusion: { activation: true } } {
  const perElement = options.ops ?? 1;
  const formula = options.formula;
  return {
    kind,
    family: 'act',
    spec: { keyword: kind, aliases: options.aliases ?? [], args: options.args ?? [], doc, output: 'same as input' },
    describe: options.describe,
    build,
    shape: (_a, [x]) => x,
    ops: (_a, _x, y) => perElement * numel(y),
    field: () => 'pointwise',
    formulas: formula ? (a) => [formula(a)] : undefined,
    fusion: { activation: true },
  };
}
