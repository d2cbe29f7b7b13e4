import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { ROOT, errors, example, layer, only } from '../helpers';

/** torchvision's published parameter counts and MACs at 224×224. */
const PUBLISHED: [file: string, params: number, macs: number][] = [
  ['alexnet.cnn', 61_100_840, 714_188_480],
  ['vgg16.cnn', 138_357_544, 15_470_264_320],
  ['googlenet.cnn', 6_624_904, 1_498_376_192],
  ['resnet18.cnn', 11_689_512, 1_814_073_344],
  ['resnet50.cnn', 25_557_032, 4_089_184_256],
  ['resnext50_32x4d.cnn', 25_028_904, 4_230_479_872],
  ['resnet101.cnn', 44_549_160, 7_801_405_440],
  ['resnet152.cnn', 60_192_808, 11_513_626_624],
  // MACs as torchvision's conv and linear modules count them (it publishes 0.14 GFLOPS).
  ['shufflenet_v2_x1_0.cnn', 2_278_604, 144_907_992],
];

describe('the seed networks match torchvision at 224', () => {
  for (const [file, params, macs] of PUBLISHED) {
    it(file, () => {
      const a = analyzeText(example(file), { inputShape: [3, 224, 224] });
      expect(errors(a)).toEqual([]);
      const n = only(a);
      expect(n.totals.params).toBe(params);
      expect(n.totals.macs).toBe(macs);
      expect(n.output).toEqual([1000]);
    });
  }

  it('ResNet depths are in their names', () => {
    for (const [file, depth] of [['resnet18.cnn', 18], ['resnet50.cnn', 50], ['resnet101.cnn', 101], ['resnet152.cnn', 152]] as const) {
      expect(only(analyzeText(example(file))).totals.depth).toBe(depth);
    }
  });
});

describe("the lecture's AlexNet at 227", () => {
  const n = only(analyzeText(example('alexnet.cnn')));

  it('conv1: 64×56×56, 23,296 params, 72,855,552 MACs, 784 KB', () => {
    const { info } = layer(n, 'features.0'); // conv1
    expect(info.shape).toEqual([64, 56, 56]);
    expect(info.params).toBe(23_296);
    expect(info.macs).toBe(72_855_552);
    expect(info.activationBytes).toBe(784 * 1024);
  });

  it('pool5 sees 195 pixels with an effective stride of 32', () => {
    expect(layer(n, 'features.12').info.rf).toMatchObject({ size: [195, 195], stride: [32, 32] });
  });

  it('has depth 8 and no errors', () => {
    expect(n.totals.depth).toBe(8);
    expect(n.input).toEqual([3, 227, 227]);
  });
});

describe('VGG-16', () => {
  it('pool5 field: 212 pixels, stride 32, padding 90', () => {
    const n = only(analyzeText(example('vgg16.cnn')));
    const pools = n.graph.nodes.filter((x) => x.attrs.kind === 'maxpool');
    expect(pools).toHaveLength(5);
    expect(n.layers[pools[4].id].rf).toEqual({ size: [212, 212], stride: [32, 32], padding: [90, 90] });
    expect(n.layers[pools[4].id].shape).toEqual([512, 7, 7]);
  });
});

describe("torchvision's parameter names through labels", () => {
  it('ResNet-18', () => {
    const names = only(analyzeText(example('resnet18.cnn'))).tensors.map((t) => t.name);
    expect(names.slice(0, 6)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'layer1.0.conv1.weight']);
    expect(names).toContain('layer2.0.downsample.0.weight');
    expect(names).toContain('layer2.0.downsample.1.running_var');
    expect(names).toContain('layer4.1.bn2.bias');
    expect(names.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
    expect(names).toHaveLength(102); // torchvision's state_dict without num_batches_tracked
  });

  it('GoogLeNet', () => {
    const names = only(analyzeText(example('googlenet.cnn'))).tensors.map((t) => t.name);
    expect(names).toContain('conv1.conv.weight');
    expect(names).toContain('inception3a.branch1.conv.weight');
    expect(names).toContain('inception3a.branch2.1.bn.running_mean');
    expect(names).toContain('inception5b.branch4.1.conv.weight');
    expect(names.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
  });
});

describe('every example', () => {
  const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.cnn'));
  it('has no errors', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(errors(analyzeText(example(f))), f).toEqual([]);
  });
});
