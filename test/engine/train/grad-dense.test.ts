/** conv, linear, flatten and the losses' gradients against PyTorch's autograd. */
import { gradSuite } from './harness';

gradSuite('conv, linear and the losses against PyTorch autograd', [
  { name: 'linear with and without bias', input: [7], body: 'linear 5\nlinear 4 bias=false' },
  { name: 'conv 3x3 padding 1, gap', input: [3, 6, 5], body: 'conv 4 k=3 p=1\ngap\nflatten\nlinear 3' },
  { name: 'conv stride 2, padding 2, dilation 2, no bias', input: [2, 9, 8], body: 'conv 4 k=3 s=2 p=2 d=2 bias=false\nflatten\nlinear 3' },
  { name: 'conv 2x3 kernel, stride 2x1, groups 2', input: [4, 7, 6], body: 'conv 6 k=2x3 s=2x1 p=1 g=2\nflatten\nlinear 3' },
  { name: 'depthwise conv', input: [3, 5, 5], body: 'conv 3 k=3 p=1 g=3\nconv 6 k=1\nflatten\nlinear 4' },
  { name: 'cross-entropy with label smoothing', input: [6], body: 'linear 5', labelSmoothing: 0.1 },
  { name: 'MSE on a feature map', input: [2, 5, 4], body: 'conv 3 k=3 p=1', loss: 'mse' },
  { name: 'softmax output: cross-entropy on its log', input: [6], body: 'linear 4\nsoftmax' },
]);
