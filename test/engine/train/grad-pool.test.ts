/** Pools' gradients against PyTorch's autograd: max and average with padding and ceil mode, adaptive, global. */
import { gradSuite } from './harness';

gradSuite('pools against PyTorch autograd', [
  { name: 'maxpool 2', input: [2, 6, 6], body: 'maxpool 2\nflatten\nlinear 3' },
  { name: 'maxpool 3 stride 2 padding 1', input: [2, 7, 6], body: 'maxpool 3 s=2 p=1\nflatten\nlinear 3' },
  { name: 'maxpool 3 stride 2 ceil (overlapping windows)', input: [2, 8, 7], body: 'maxpool 3 s=2 ceil=true\nflatten\nlinear 3' },
  { name: 'avgpool 2 and avgpool 3 s=2 p=1 ceil (count_include_pad)', input: [2, 7, 7], body: 'avgpool 3 s=2 p=1 ceil=true\navgpool 2\nflatten\nlinear 3' },
  { name: 'adaptiveavgpool to 3x2 from 7x5 (uneven bins)', input: [2, 7, 5], body: 'adaptiveavgpool 3x2\nflatten\nlinear 3' },
  { name: 'gap', input: [3, 4, 5], body: 'gap\nflatten\nlinear 3' },
]);
