/** Element-wise activations: each output depends on its input alone, so shapes and fields pass through. */
import { numel, type ArgSpec, type BoundArgs, type LayerDef } from './types';

/**
 * An activation's definition: the shape and receptive field of its input, one operation per
 * element, and fusable into the epilogue of the layer before it.
 */
export function activation<A extends { kind: string }>(
  kind: A['kind'],
  doc: string,
  build: (args: BoundArgs) => A,
  options: { args?: ArgSpec[]; aliases?: string[]; describe?: (a: A) => string } = {},
): LayerDef<A> & { fusion: { activation: true } } {
  return {
    kind,
    family: 'act',
    spec: { keyword: kind, aliases: options.aliases ?? [], args: options.args ?? [], doc, output: 'same as input' },
    describe: options.describe,
    build,
    shape: (_a, [x]) => x,
    ops: (_a, _x, y) => numel(y),
    field: () => 'pointwise',
    fusion: { activation: true },
  };
}
