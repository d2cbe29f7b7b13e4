/**
 * `scale`: a learned factor per channel (ConvNeXt's layer scale), y = x·s. Its one tensor is
 * named by the layer's path itself, a bare parameter of the enclosing module as torchvision's
 * `features.1.0.layer_scale` (docs/naming.md).
 */
import { numel, type LayerDef } from './types';

export interface ScaleAttrs {
  kind: 'scale';
  init: number;
}

export const scale: LayerDef<ScaleAttrs> = {
  kind: 'scale',
  family: 'norm',
  spec: {
    keyword: 'scale',
    aliases: [],
    args: [
      {
        name: 'init',
        aliases: [],
        type: 'number',
        default: '1',
        positional: true,
        doc: "every factor's starting value (ConvNeXt's layer scale starts at 1e-6): cnn's seeded weights and the PyTorch export's initial parameter",
      },
    ],
    doc: "A learned factor per channel, y = x·s (ConvNeXt's layer scale): C parameters of shape C×1×1, named by the layer's path itself.",
    output: 'same as input',
  },
  namedByPath: true,
  build: (args) => ({ kind: 'scale', init: args.num('init', 1) }),
  shape: (_a, [x]) => x,
  params: (_a, _x, y) => y[0],
  tensors: (a, _x, y) => [{ role: 'weight', shape: y.length === 3 ? [y[0], 1, 1] : [y[0]], kind: 'param', fill: a.init }],
  ops: (_a, _x, y) => numel(y),
  field: () => 'pointwise',
  formulas: (_a, _x, y, f) => [`params = ${y[0]} = ${f.grouped(f.params)} (${y.length === 3 ? `${y[0]}×1×1` : y[0]}, one per channel)`],
  describe: (a) => (a.init === 1 ? 'scale' : `scale ${a.init}`),
};
