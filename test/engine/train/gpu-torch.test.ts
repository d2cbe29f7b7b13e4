/** The WebGPU training pass straight against PyTorch's autograd (float64) on whole networks: the Fashion-MNIST example and a ResNet block. */
import { GpuTrainer } from '../../../src/engine/train/gpu-pass';
import { testGpu } from '../gpu-device';
import { gradSuite } from './harness';

const BASIC =
  'block Basic(c, s=1, down=false) {\n  residual {\n    conv c k=3 s=s p=1 bias=false\n    bn\n    relu\n    conv c k=3 p=1 bias=false\n    bn\n  } shortcut {\n    if down {\n      downsample: { conv c k=1 s=s bias=false; bn }\n    }\n  }\n  relu\n}';

gradSuite(
  'WebGPU training pass against PyTorch autograd',
  [
    {
      name: 'the Fashion-MNIST example on WebGPU',
      input: [1, 28, 28],
      batch: 3,
      range: [0, 1],
      body: 'stage1: { ConvBnRelu(16); ConvBnRelu(16) }\npool1: maxpool k=2\nstage2: { ConvBnRelu(32); ConvBnRelu(32) }\npool2: maxpool k=2\nstage3: ConvBnRelu(64)\npool3: maxpool k=2 ceil=true\nflatten\ndropout 0.3\nfc: linear 10\nsoftmax',
      blocks: 'block ConvBnRelu(c) {\n  conv: conv c k=3 p=1 bias=false\n  bn: bn\n  relu\n}',
      tolerance: 1e-3,
    },
    {
      name: 'a ResNet-like block on WebGPU (projection shortcut, stride 2)',
      input: [3, 8, 8],
      body: 'stem: { conv 8 k=3 p=1 bias=false; bn; relu }\nBasic(8)\nBasic(12, 2, true)\ngap\nflatten\nfc: linear 4',
      blocks: BASIC,
      tolerance: 1e-3,
    },
  ],
  async (net, weights, x, target, opts) => {
    const device = (await testGpu())?.device;
    if (!device) return undefined;
    const t = await GpuTrainer.create(device, net.graph, net.tensors, x.shape[0], opts.mode);
    try {
      return await t.pass(weights, x, target, opts);
    } finally {
      t.destroy();
    }
  },
);
