/** Every activation's gradient, softmax inside a network and dropout's seeded mask, against PyTorch's autograd. */
import { gradSuite } from './harness';

// Inputs in [-8, 8] reach both clips of relu6 and hardswish/hardsigmoid's flat parts.
const wide: [number, number] = [-8, 8];

gradSuite('activations and dropout against PyTorch autograd', [
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
  { name: 'activations on a feature map after a conv', input: [3, 5, 5], body: 'conv 4 k=3 p=1\nsilu\nconv 4 k=1\nhardswish\ngap\nflatten\nlinear 3', range: [-3, 3] },
  { name: 'softmax inside the network (over channels of a map)', input: [4, 3, 3], body: 'softmax\nflatten\nlinear 3', range: [-2, 2] },
  { name: 'softmax inside the network (over features)', input: [6], body: 'softmax\nlinear 3', range: [-2, 2] },
  { name: 'dropout 0.5 on features and 0.3 on a map (seeded masks in train mode)', input: [3, 4, 4], body: 'dropout 0.3\nconv 3 k=1\nflatten\ndropout\nlinear 3', batch: 4 },
  { name: 'identity', input: [5], body: 'identity\nlinear 3' },
]);
