/**
 * layernorm, groupnorm, scale, shuffle and slice through the data-driven harness: PyTorch (through
 * our export: LayerNorm2d, nn.LayerNorm, nn.GroupNorm, a bare layer-scale parameter, the prelude's
 * ChannelShuffle and ChannelSlice) is the oracle of the CPU reference, the WebAssembly engine, WebGPU
 * and onnxruntime on our ONNX export.
 */
import { kindSuite } from './harness';

kindSuite('layernorm, groupnorm, scale, shuffle and slice against PyTorch', [
  // Input values far from zero mean, so a one-pass variance would lose digits.
  { name: 'layernorm over the channels of an odd-sized image', input: [5, 7, 3], body: 'layernorm', range: [2, 4] },
  { name: 'layernorm with eps, after a conv, one channel per group of 1', input: [3, 9, 5], body: 'conv 7 k=3 p=1\nlayernorm eps=0.01\nrelu' },
  { name: 'layernorm over flat features', input: [3, 4, 4], body: 'flatten\nlayernorm\nlinear 6\nlayernorm eps=1e-3' },
  { name: 'groupnorm 3 on 12 channels, odd size', input: [12, 5, 3], body: 'groupnorm 3', range: [-3, 1] },
  { name: 'groupnorm 1 (all channels) and 12 (instance norm) with eps', input: [12, 4, 7], body: 'groupnorm 1\nconv 12 k=1\ngroupnorm 12 eps=0.001' },
  { name: 'groupnorm 4 on flat features', input: [20], body: 'groupnorm 4\nlinear 8\ngroupnorm 2' },
  { name: 'scale after a conv, spatial', input: [4, 5, 7], body: 'conv 6 k=3 p=1\nscale\nrelu' },
  { name: 'scale on flat features', input: [9], body: 'scale 0.5\nlinear 4\nscale' },
  {
    name: "ConvNeXt's block: layernorm, a layer scale in a labelled block, residual",
    input: [3, 10, 10],
    body: 'stem: { conv 8 k=2 s=2; layernorm eps=1e-6 }\nf: { CN(8); CN(8) }\ngap\nflatten\nlayernorm eps=1e-6\nlinear 5',
    blocks: 'block CN(c) {\n  residual {\n    body: { conv c k=7 p=3 g=c; layernorm eps=1e-6; conv (4*c) k=1; relu; conv c k=1 }\n    layer_scale: scale\n  }\n}',
  },
  { name: 'scale unlabelled in a labelled group (a numbered parameter)', input: [4, 3, 3], body: 'b: { conv 4 k=1; scale }\nb2: { scale; conv 3 k=1 }' },
  { name: 'shuffle 3 of 12 channels', input: [12, 3, 5], body: 'shuffle 3' },
  { name: 'shuffle 4 after a conv, then 2, then 6', input: [5, 4, 3], body: 'conv 12 k=1\nshuffle 4\nshuffle 2\nshuffle 6' },
  { name: 'shuffle on flat features', input: [12], body: 'shuffle 3\nlinear 5' },
  { name: 'slice from channel 2 to 6, and to the end', input: [10, 3, 5], body: 'concat { branch { slice 2 6 } branch { slice 7 } }\nconv 4 k=1' },
  { name: 'slice of flat features', input: [10], body: 'slice 3 8\nlinear 3' },
  {
    name: "ShuffleNetV2's unit: split, a branch, concat, shuffle",
    input: [12, 6, 5],
    body: 'concat {\n  branch { slice 0 6 }\n  branch { slice 6; conv 6 k=1 bias=false; bn; relu; conv 6 k=3 p=1 g=6 bias=false; bn; conv 6 k=1 bias=false; bn; relu }\n}\nshuffle 2\nslice 4',
  },
]);
