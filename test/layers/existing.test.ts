/** The seed's layer kinds through the data-driven harness: every backend and export against PyTorch. */
import { kindSuite } from './harness';

kindSuite('the seed layer kinds against PyTorch', [
  { name: 'conv with stride, padding, dilation and groups', input: [4, 11, 9], body: 'conv 6 k=3 s=2 p=2 d=2 g=2' },
  { name: 'conv + bn + relu (fused) and a residual add', input: [4, 8, 8], body: 'residual { conv 4 k=3 p=1 bias=false; bn; relu; conv 4 k=3 p=1 } \nrelu' },
  { name: 'linear after flatten, bn over features', input: [3, 4, 4], body: 'flatten\nlinear 10\nbn\nleakyrelu 0.2\nlinear 5 bias=false' },
  { name: 'pools: max with ceil, average counting padding, adaptive with uneven bins', input: [3, 13, 11], body: 'maxpool k=3 s=2 ceil=true\navgpool k=3 s=2 p=1\nadaptiveavgpool 3x2' },
  { name: 'sigmoid, tanh, softmax, gap', input: [5, 6, 6], body: 'sigmoid\ntanh\nconv 7 k=1\nsoftmax\ngap\nflatten' },
  { name: 'lrn with an even window, dropout, concat', input: [6, 5, 5], body: 'lrn 4 alpha=0.01 beta=0.6 k=1.5\ndropout 0.3\nconcat { branch { conv 3 k=1 } branch { maxpool k=3 s=1 p=1 } }' },
]);
