/**
 * The operator mapping, one pattern at a time, on small models written with the exporter's
 * encoder: each imported network gives onnxruntime's output for the same model (batch 2), and
 * reads as expected; what the language cannot express is refused naming the node.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/import';
import { buildModel, float, int, ints, str } from './onnx-builder';
import { refused, same } from './ort-check';

const IN = ['N', 3, 8, 8];
const conv = (name: string, input: string, out: number, cin: number, k = 3, attrs = {}, bias = true) => ({
  node: { op: 'Conv', inputs: bias ? [input, `${name}.weight`, `${name}.bias`] : [input, `${name}.weight`], attrs: { kernel_shape: ints(k, k), ...attrs }, name: `/${name}/Conv` },
  inits: { [`${name}.weight`]: { dims: [out, cin, k, k] }, ...(bias ? { [`${name}.bias`]: { dims: [out] } } : {}) },
});

describe('import: operators and the patterns exporters write', () => {
  it('Conv with SAME_UPPER padding, then the bias as an Add of a constant', async () => {
    const c = conv('c1', 'input', 4, 3, 3, { auto_pad: str('SAME_UPPER') }, false);
    await same(
      {
        input: IN,
        output: ['N', 4, 8, 8],
        nodes: [c.node, { op: 'Add', inputs: ['v0', 'b'] }],
        inits: { ...c.inits, b: { dims: [1, 4, 1, 1] } },
      },
      [/c1: conv 4 k=3 p=1\n/],
    );
  });

  it('a Pad before a max pool after relu, and before a convolution, as their padding', async () => {
    const c = conv('c1', 'v2', 2, 3);
    await same(
      {
        input: IN,
        output: ['N', 2, 4, 4],
        nodes: [
          { op: 'Relu', inputs: ['input'] },
          { op: 'Pad', inputs: ['v0', 'pads'], attrs: { mode: str('constant') } },
          { op: 'MaxPool', inputs: ['v1'], attrs: { kernel_shape: ints(3, 3), strides: ints(2, 2) } },
          { op: 'Pad', inputs: ['v2', 'pads'] },
          { ...c.node, inputs: ['v3', 'c1.weight', 'c1.bias'] },
        ],
        inits: { pads: { dims: [8], data: [0, 0, 1, 1, 0, 0, 1, 1], int64: true }, ...c.inits },
      },
      [/maxpool k=3 s=2 p=1\n/, /conv 2 k=3 p=1\n/],
    );
  });

  it('a zero Pad before a max pool of values that may be negative is refused', () => {
    refused(
      {
        input: IN,
        output: ['N', 3, 4, 4],
        nodes: [
          { op: 'Pad', inputs: ['input', 'pads'], name: '/pool/Pad' },
          { op: 'MaxPool', inputs: ['v0'], attrs: { kernel_shape: ints(3, 3), strides: ints(2, 2) }, name: '/pool/MaxPool' },
        ],
        inits: { pads: { dims: [8], data: [0, 0, 1, 1, 0, 0, 1, 1], int64: true } },
      },
      /^node 2 of 2, '\/pool\/MaxPool' \(MaxPool\): the Pad before it \(node 1 of 2, '\/pool\/Pad' \(Pad\)\) pads with 0/,
    );
  });

  it('asymmetric padding and reflection padding are refused by node', () => {
    const c = conv('c1', 'input', 2, 3, 3, { pads: ints(0, 0, 1, 1) });
    refused({ input: IN, output: ['N', 2, 7, 7], nodes: [c.node], inits: c.inits }, /node 1 of 1, '\/c1\/Conv' \(Conv\): the padding \[top 0, left 0, bottom 1, right 1\] differs between sides/);
    refused(
      { input: IN, output: ['N', 3, 10, 10], nodes: [{ op: 'Pad', inputs: ['input', 'pads'], attrs: { mode: str('reflect') } }], inits: { pads: { dims: [8], data: [0, 0, 1, 1, 0, 0, 1, 1], int64: true } } },
      /'reflect' padding is not expressible/,
    );
  });

  it("Shape, Gather, Unsqueeze and Concat into a Reshape to [N, -1] (PyTorch's x.view(x.size(0), -1)), then Gemm with transB=0", async () => {
    const text = await same(
      {
        input: IN,
        output: ['N', 5],
        nodes: [
          { op: 'Shape', inputs: ['input'] },
          { op: 'Gather', inputs: ['v0', 'zero'], attrs: { axis: int(0) } },
          { op: 'Unsqueeze', inputs: ['v1', 'axes0'] },
          { op: 'Concat', inputs: ['v2', 'minus1'], attrs: { axis: int(0) } },
          { op: 'Reshape', inputs: ['input', 'v3'] },
          { op: 'Gemm', inputs: ['v4', 'w', 'b'], attrs: { alpha: float(0.5), beta: float(2) }, name: '/fc/Gemm' },
        ],
        inits: { zero: { dims: [], data: [0], int64: true }, axes0: { dims: [1], data: [0], int64: true }, minus1: { dims: [1], data: [-1], int64: true }, w: { dims: [192, 5] }, b: { dims: [5] } },
      },
      [/flatten\n {2}fc: linear 5\n/],
    );
    expect(text).not.toMatch(/Shape|Gather/);
  });

  it('MatMul then the Add of its bias is a linear layer; ReduceMean without keepdims is gap and flatten', async () => {
    await same(
      {
        input: IN,
        output: ['N', 4],
        nodes: [
          { op: 'ReduceMean', inputs: ['input'], attrs: { axes: ints(2, 3), keepdims: int(0) } },
          { op: 'MatMul', inputs: ['v0', 'w'], name: '/head/MatMul' },
          { op: 'Add', inputs: ['v1', 'b'], name: '/head/Add' },
        ],
        inits: { w: { dims: [3, 4] }, b: { dims: [4] } },
      },
      [/gap\n {2}flatten\n {2}head: linear 4\n/],
    );
  });

  it('Clip(0, inf) is relu; Sum of three is add; Dropout with its ratio; Identity is nothing', async () => {
    await same(
      {
        input: IN,
        output: ['N', 3, 8, 8],
        opset: 13,
        nodes: [
          { op: 'Clip', inputs: ['input', 'lo', ''] },
          { op: 'Sigmoid', inputs: ['input'] },
          { op: 'Tanh', inputs: ['input'] },
          { op: 'Sum', inputs: ['v0', 'v1', 'v2'] },
          { op: 'Identity', inputs: ['v3'] },
          { op: 'Dropout', inputs: ['v4', 'ratio'] },
        ],
        inits: { lo: { dims: [], data: [0] }, ratio: { dims: [], data: [0.25] } },
      },
      [/add \{/, /branch \{ relu \}/, /dropout 0.25\n/],
    );
  });

  it('a softmax over the channels of an image before opset 13 is refused (it spans C x H x W there)', () => {
    refused({ input: IN, output: IN, opset: 11, nodes: [{ op: 'Softmax', inputs: ['input'], attrs: { axis: int(1) } }] }, /softmax over axis 1/);
  });

  it('an operator without a layer, a second input and a batch-merging Flatten are refused by name', () => {
    refused({ input: IN, output: IN, nodes: [{ op: 'Relu', inputs: ['input'] }, { op: 'Round', inputs: ['v0'], name: '/act/Round' }] }, /^node 2 of 2, '\/act\/Round' \(Round\): Round is not supported$/);
    refused({ input: IN, output: IN, nodes: [{ op: 'Add', inputs: ['input', 'other'] }], moreInputs: [{ name: 'other', dims: IN }] }, /the model has 2 inputs \(input, other\); a network takes one/);
    refused({ input: IN, output: ['N'], nodes: [{ op: 'Flatten', inputs: ['input'], attrs: { axis: int(0) } }] }, /Flatten at axis 0/);
  });

  it('class names in the metadata become labels; a meaningful graph name names the network', () => {
    const labels = ['cat', 'dog', 'emu'];
    const bytes = buildModel({
      input: ['N', 4],
      output: ['N', 3],
      graphName: 'Animals',
      metadata: { classes: JSON.stringify(labels) },
      nodes: [{ op: 'Gemm', inputs: ['input', 'fc.weight', 'fc.bias'], attrs: { transB: int(1) } }],
      inits: { 'fc.weight': { dims: [3, 4] }, 'fc.bias': { dims: [3] } },
    });
    const r = importOnnx(bytes, { name: 'Fallback' });
    expect(r.labels).toEqual(labels);
    expect(r.text).toMatch(/network Animals \{\n {2}input 4\n {2}fc: linear 3\n\}/);
  });
});
