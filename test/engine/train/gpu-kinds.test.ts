/** Every kind with a WebGPU training pass, its gradients on WebGPU (SwiftShader here) against the CPU reference. */
import { gpuSuite } from './gpu-harness';

const wide: [number, number] = [-8, 8];

gpuSuite('WebGPU training pass per kind against the CPU reference', [
  { name: 'linear with and without bias', input: [7], body: 'linear 5\nlinear 4 bias=false' },
  { name: 'conv 3x3 padding 1, gap', input: [3, 6, 5], body: 'conv 4 k=3 p=1\ngap\nflatten\nlinear 3' },
  { name: 'conv stride 2, padding 2, dilation 2, no bias', input: [2, 9, 8], body: 'conv 4 k=3 s=2 p=2 d=2 bias=false\nflatten\nlinear 3' },
  { name: 'conv 2x3 kernel, stride 2x1, groups 2', input: [4, 7, 6], body: 'conv 6 k=2x3 s=2x1 p=1 g=2\nflatten\nlinear 3' },
  { name: 'depthwise conv', input: [3, 5, 5], body: 'conv 3 k=3 p=1 g=3\nconv 6 k=1\nflatten\nlinear 4' },
  { name: 'cross-entropy with label smoothing', input: [6], body: 'linear 5', labelSmoothing: 0.1 },
  { name: 'MSE on a feature map', input: [2, 5, 4], body: 'conv 3 k=3 p=1', loss: 'mse' },
  { name: 'softmax output: cross-entropy on its log', input: [6], body: 'linear 4\nsoftmax' },
  { name: 'bn on a map', input: [3, 4, 4], body: 'conv 4 k=3 p=1\nbn\nrelu\ngap\nflatten\nlinear 3', batch: 4 },
  { name: 'bn on features (1-D)', input: [6], body: 'linear 5\nbn\nrelu\nlinear 3', batch: 4 },
  { name: 'scale', input: [3, 3, 3], body: 'scale\nflatten\nlinear 3' },
  { name: 'relu', input: [12], body: 'relu\nlinear 3', range: wide },
  { name: 'sigmoid', input: [12], body: 'sigmoid\nlinear 3', range: wide },
  { name: 'tanh', input: [12], body: 'tanh\nlinear 3', range: [-3, 3] },
  { name: 'leakyrelu 0.1', input: [12], body: 'leakyrelu 0.1\nlinear 3', range: wide },
  { name: 'relu6', input: [16], body: 'relu6\nlinear 3', range: wide },
  { name: 'hardswish', input: [16], body: 'hardswish\nlinear 3', range: wide },
  { name: 'hardsigmoid', input: [16], body: 'hardsigmoid\nlinear 3', range: wide },
  { name: 'silu', input: [16], body: 'silu\nlinear 3', range: wide },
  { name: 'gelu (erf)', input: [16], body: 'gelu\nlinear 3', range: [-5, 5] },
  { name: 'gelu approximate=tanh', input: [16], body: 'gelu approximate=tanh\nlinear 3', range: [-5, 5] },
  { name: 'softmax inside the network (over channels of a map)', input: [4, 3, 3], body: 'softmax\nflatten\nlinear 3', range: [-2, 2] },
  { name: 'dropout 0.5 on features and 0.3 on a map (seeded masks)', input: [3, 4, 4], body: 'dropout 0.3\nconv 3 k=1\nflatten\ndropout\nlinear 3', batch: 4 },
  { name: 'identity', input: [5], body: 'identity\nlinear 3' },
  { name: 'maxpool 2', input: [2, 6, 6], body: 'maxpool 2\nflatten\nlinear 3' },
  { name: 'maxpool 3 stride 2 padding 1', input: [2, 7, 6], body: 'maxpool 3 s=2 p=1\nflatten\nlinear 3' },
  { name: 'maxpool 3 stride 2 ceil (overlapping windows)', input: [2, 8, 7], body: 'maxpool 3 s=2 ceil=true\nflatten\nlinear 3' },
  { name: 'avgpool 3 s=2 p=1 ceil, avgpool 2', input: [2, 7, 7], body: 'avgpool 3 s=2 p=1 ceil=true\navgpool 2\nflatten\nlinear 3' },
  { name: 'adaptiveavgpool to 3x2 from 7x5 (uneven bins)', input: [2, 7, 5], body: 'adaptiveavgpool 3x2\nflatten\nlinear 3' },
  { name: 'gap', input: [3, 4, 5], body: 'gap\nflatten\nlinear 3' },
]);

gpuSuite('WebGPU training pass of the resampling kinds against the CPU reference', [
  { name: 'upsample 2 nearest', input: [2, 3, 4], body: 'upsample 2\nconv 2 k=3\nflatten\nlinear 3' },
  { name: 'upsample to 7x5 nearest (non-integer ratio)', input: [2, 3, 4], body: 'upsample size=7x5\nflatten\nlinear 3' },
  { name: 'upsample 2 bilinear, and align_corners to 7x9', input: [2, 3, 4], body: 'upsample 2 mode=bilinear\nupsample size=7x9 mode=bilinear align_corners=true\nflatten\nlinear 3' },
  { name: 'upsample bilinear down to 2x3 (outputs reading two inputs apart)', input: [2, 5, 7], body: 'upsample size=2x3 mode=bilinear\nflatten\nlinear 3' },
  { name: 'convtranspose k=4 s=2 p=1', input: [3, 3, 3], body: 'convtranspose 4 k=4 s=2 p=1\nflatten\nlinear 3' },
  { name: 'convtranspose k=3 s=2 p=1 op=1 d=2, groups 2, no bias', input: [4, 3, 4], body: 'convtranspose 6 k=3 s=2 p=1 op=1 d=2 g=2 bias=false\nflatten\nlinear 3' },
]);

gpuSuite('WebGPU training pass of layer norm, group norm and LRN against the CPU reference', [
  { name: 'layernorm over channels and over features', input: [5, 3, 3], body: 'layernorm\nconv 4 k=1\nflatten\nlayernorm eps=0.01\nlinear 3', range: [1, 3] },
  { name: 'groupnorm 2 of 6 channels, and 6 (instance)', input: [6, 4, 3], body: 'groupnorm 2\nconv 6 k=1\ngroupnorm 6 eps=0.001\nflatten\nlinear 3' },
  // Two values per group: x̂ = ±1 to within eps/var, so the input's gradient is O(eps/var) of dy, the
  // difference of nearly equal f32 terms (the CPU reference sums in double); its f32 noise is ~1e-4 of its max.
  { name: 'groupnorm on flat features', input: [8], body: 'groupnorm 4\nlinear 3', tolerance: 5e-4 },
  { name: 'lrn size 3 and size 4 (asymmetric window)', input: [6, 3, 3], body: 'lrn 3\nconv 5 k=1\nlrn 4 alpha=0.01 beta=0.6 k=1.5\nflatten\nlinear 3', range: [-2, 2] },
]);
