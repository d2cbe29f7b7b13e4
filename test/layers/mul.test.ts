/** The `mul` merge against PyTorch on every backend: squeeze-and-excitation gates and equal-shape products. */
import { kindSuite } from './harness';

kindSuite('mul against PyTorch', [
  {
    name: 'a squeeze-and-excitation gate (C×1×1 against C×H×W), sigmoid',
    input: [8, 7, 5],
    body: 'mul {\n  branch { }\n  branch { gap; conv 2 k=1; relu; conv 8 k=1; sigmoid }\n}',
  },
  {
    name: 'the gate first, after a conv (the fast engine scales image by image)',
    input: [6, 9, 9],
    batch: 3,
    body: 'conv 6 k=3 p=1\nmul {\n  branch { gap; conv 6 k=1; tanh }\n  branch { relu }\n}\nconv 4 k=1',
  },
  {
    name: 'three equal-shape branches and a flat product',
    input: [4, 5, 5],
    body: 'mul {\n  branch { conv 4 k=1 }\n  branch { tanh }\n  branch { sigmoid }\n}\nflatten\nmul { branch { linear 6 } branch { linear 6; sigmoid } }',
  },
]);
