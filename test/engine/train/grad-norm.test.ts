/** The normalising kinds' gradients against PyTorch's autograd: bn in both modes (batch statistics, the running statistics' update), layernorm, groupnorm, lrn, scale. */
import { gradSuite } from './harness';

gradSuite('normalisations against PyTorch autograd', [
  { name: 'bn after a conv (BatchNorm2d)', input: [3, 5, 4], body: 'conv 4 k=3 p=1\nbn\nrelu\ngap\nflatten\nlinear 3', range: [0, 3] },
  { name: 'bn with eps on flat features (BatchNorm1d)', input: [6], body: 'linear 5\nbn eps=0.001\nlinear 3', batch: 4 },
  { name: 'bn twice in a row, values far from zero', input: [2, 4, 4], body: 'bn\nconv 3 k=1\nbn\nflatten\nlinear 2', range: [3, 5] },
  { name: 'layernorm over channels and over features', input: [5, 3, 3], body: 'layernorm\nconv 4 k=1\nflatten\nlayernorm eps=0.01\nlinear 3', range: [1, 3] },
  { name: 'groupnorm 2 of 6 channels, and 6 (instance)', input: [6, 4, 3], body: 'groupnorm 2\nconv 6 k=1\ngroupnorm 6 eps=0.001\nflatten\nlinear 3' },
  { name: 'groupnorm on flat features', input: [8], body: 'groupnorm 4\nlinear 3' },
  { name: 'lrn size 3 and size 4 (asymmetric window)', input: [6, 3, 3], body: 'lrn 3\nconv 5 k=1\nlrn 4 alpha=0.01 beta=0.6 k=1.5\nflatten\nlinear 3', range: [-2, 2] },
  { name: 'scale on a feature map and on features', input: [4, 3, 3], body: 'scale\nflatten\nscale 0.5\nlinear 3' },
]);
