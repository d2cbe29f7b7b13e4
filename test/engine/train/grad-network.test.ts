/** Whole networks against PyTorch's autograd: a small ResNet, a DenseNet block, aux heads with their loss weight, the Fashion-MNIST example. */
import { gradSuite } from './harness';

gradSuite('whole networks against PyTorch autograd', [
  {
    name: 'a small ResNet (projection shortcut, stride 2)',
    input: [3, 8, 8],
    body: 'stem: { conv 8 k=3 p=1 bias=false; bn; relu }\nBasic(8)\nBasic(12, 2, true)\ngap\nflatten\nfc: linear 4',
    blocks:
      'block Basic(c, s=1, down=false) {\n  residual {\n    conv c k=3 s=s p=1 bias=false\n    bn\n    relu\n    conv c k=3 p=1 bias=false\n    bn\n  } shortcut {\n    if down {\n      downsample: { conv c k=1 s=s bias=false; bn }\n    }\n  }\n  relu\n}',
  },
  {
    name: 'a DenseNet block (concat growth) and transition',
    input: [4, 6, 6],
    body: 'conv 6 k=3 p=1\nDense(3)\nDense(3)\nbn\nrelu\nconv 6 k=1\navgpool 2\ngap\nflatten\nlinear 3',
    blocks: 'block Dense(g) {\n  concat {\n    branch { }\n    branch { bn; relu; conv g k=3 p=1 bias=false }\n  }\n}',
  },
  {
    name: 'aux heads (weight 0.3): two classifiers off the trunk',
    input: [3, 6, 6],
    body: 'conv 4 k=3 p=1\nrelu\naux { gap; flatten; linear 5 }\nconv 6 k=3 s=2 p=1\nbn\nrelu\naux { gap; flatten; dropout 0.5; linear 5; softmax }\ngap\nflatten\nlinear 5',
  },
  { name: 'an aux head with weight 1 and label smoothing', input: [6], body: 'linear 8\nrelu\naux { linear 4 }\nlinear 4', auxWeight: 1, labelSmoothing: 0.2 },
  {
    name: 'the Fashion-MNIST example',
    input: [1, 28, 28],
    batch: 2,
    range: [0, 1],
    body: 'stage1: { ConvBnRelu(16); ConvBnRelu(16) }\npool1: maxpool k=2\nstage2: { ConvBnRelu(32); ConvBnRelu(32) }\npool2: maxpool k=2\nstage3: ConvBnRelu(64)\npool3: maxpool k=2 ceil=true\nflatten\ndropout 0.3\nfc: linear 10\nsoftmax',
    blocks: 'block ConvBnRelu(c) {\n  conv: conv c k=3 p=1 bias=false\n  bn: bn\n  relu\n}',
  },
]);
