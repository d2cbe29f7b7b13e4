/** Merges and whole networks on WebGPU against the CPU reference. */
import { describe, expect, it } from 'vitest';
import { testGpu } from '../gpu-device';
import { gpuSuite, parseCase } from './gpu-harness';

const basic =
  'block Basic(c, s=1, down=false) {\n  residual {\n    conv c k=3 s=s p=1 bias=false\n    bn\n    relu\n    conv c k=3 p=1 bias=false\n    bn\n  } shortcut {\n    if down {\n      downsample: { conv c k=1 s=s bias=false; bn }\n    }\n  }\n  relu\n}';

export const FASHION = {
  name: 'the Fashion-MNIST example',
  input: [1, 28, 28],
  batch: 2,
  range: [0, 1] as [number, number],
  body: 'stage1: { ConvBnRelu(16); ConvBnRelu(16) }\npool1: maxpool k=2\nstage2: { ConvBnRelu(32); ConvBnRelu(32) }\npool2: maxpool k=2\nstage3: ConvBnRelu(64)\npool3: maxpool k=2 ceil=true\nflatten\ndropout 0.3\nfc: linear 10\nsoftmax',
  blocks: 'block ConvBnRelu(c) {\n  conv: conv c k=3 p=1 bias=false\n  bn: bn\n  relu\n}',
};

export const RESNET = {
  name: 'a small ResNet (projection shortcut, stride 2)',
  input: [3, 8, 8],
  body: 'stem: { conv 8 k=3 p=1 bias=false; bn; relu }\nBasic(8)\nBasic(12, 2, true)\ngap\nflatten\nfc: linear 4',
  blocks: basic,
};

gpuSuite('WebGPU merges and whole networks against the CPU reference', [
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
  { name: 'flatten of a map straight into the loss (MSE)', input: [2, 3, 3], body: 'conv 2 k=1\nflatten', loss: 'mse' },
  RESNET,
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
  { ...FASHION, batch: 4 },
]);
