/** Merges, reshapes and resampling against PyTorch's autograd: residual, add, concat, mul (a gate), flatten, shuffle, slice, upsample, convtranspose. */
import { gradSuite } from './harness';

gradSuite('merges, reshapes and resampling against PyTorch autograd', [
  {
    name: 'residual with a projection',
    input: [3, 6, 6],
    body: 'conv 4 k=3 p=1\nresidual {\n  body: { conv 4 k=3 p=1; bn; relu; conv 4 k=3 p=1 }\n}\nrelu\ngap\nflatten\nlinear 3',
  },
  { name: 'add of two branches, one read twice', input: [3, 5, 5], body: 'conv 4 k=1\nadd {\n  branch { conv 4 k=3 p=1 }\n  branch { relu }\n  branch { }\n}\nflatten\nlinear 3' },
  { name: 'concat of three branches', input: [3, 5, 5], body: 'concat {\n  branch { conv 2 k=1 }\n  branch { conv 3 k=3 p=1 }\n  branch { maxpool 3 s=1 p=1 }\n}\nflatten\nlinear 3' },
  {
    name: 'mul: a squeeze-and-excitation gate',
    input: [4, 5, 5],
    body: 'conv 4 k=3 p=1\nmul {\n  branch { }\n  branch { gap; conv 2 k=1; relu; conv 4 k=1; sigmoid }\n}\nflatten\nlinear 3',
  },
  { name: 'mul of two full maps', input: [3, 4, 4], body: 'mul {\n  branch { conv 3 k=1 }\n  branch { conv 3 k=3 p=1; tanh }\n}\nflatten\nlinear 3' },
  { name: 'shuffle and slice', input: [6, 3, 3], body: 'conv 6 k=1\nshuffle 3\nslice 1 5\nflatten\nlinear 3' },
  { name: 'slice to the end, concat with the rest', input: [6, 3, 3], body: 'concat {\n  branch { slice 0 2 }\n  branch { slice 2; conv 4 k=1 }\n}\nshuffle 2\nflatten\nlinear 3' },
  { name: 'upsample 2 nearest', input: [2, 3, 4], body: 'upsample 2\nconv 2 k=3\nflatten\nlinear 3' },
  { name: 'upsample to 7x5 nearest (non-integer ratio)', input: [2, 3, 4], body: 'upsample size=7x5\nflatten\nlinear 3' },
  { name: 'upsample 2 bilinear, and align_corners to 7x9', input: [2, 3, 4], body: 'upsample 2 mode=bilinear\nupsample size=7x9 mode=bilinear align_corners=true\nflatten\nlinear 3' },
  { name: 'convtranspose k=4 s=2 p=1', input: [3, 3, 3], body: 'convtranspose 4 k=4 s=2 p=1\nflatten\nlinear 3' },
  { name: 'convtranspose k=3 s=2 p=1 op=1 d=2, groups 2, no bias', input: [4, 3, 4], body: 'convtranspose 6 k=3 s=2 p=1 op=1 d=2 g=2 bias=false\nflatten\nlinear 3' },
  { name: 'flatten of a map straight into the loss (MSE)', input: [2, 3, 3], body: 'conv 2 k=1\nflatten', loss: 'mse' },
]);
