/**
 * The patterns exporters write for the newer layer kinds, one at a time on small models, each
 * against onnxruntime at batch 2: relu6, hardswish, hardsigmoid, silu, torch.onnx's two GELU
 * formulas, squeeze-and-excitation gates as `mul`, Resize as upsample, ConvTranspose, layer norm
 * with and without the channels-last turn, ConvNeXt's block as torch.onnx writes it (the layer
 * norm written out, nn.Linear on channels-last), group norm as our exporter writes it, a scale; and the
 * refusals, by node.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/import';
import { buildModel, float, int, ints, str, type ModelSpec } from './onnx-builder';
import { refused, same } from './ort-check';
import { analysed } from './helpers';

const IN = ['N', 3, 8, 8];
const scalar = (v: number) => ({ dims: [], data: [v] });
const conv = (name: string, input: string, out: number, cin: number, k = 1) => ({
  node: { op: 'Conv', inputs: [input, `${name}.weight`, `${name}.bias`], attrs: { kernel_shape: ints(k, k) }, name: `/${name}/Conv` },
  inits: { [`${name}.weight`]: { dims: [out, cin, k, k] }, [`${name}.bias`]: { dims: [out] } },
});

/** A model of one activation-like pattern on a 1x1 conv's output (so that the values are not all positive). */
function onConv(nodes: ModelSpec['nodes'], inits: ModelSpec['inits'] = {}, opset = 17): ModelSpec {
  const c = conv('c', 'input', 4, 3);
  return { input: IN, output: ['N', 4, 8, 8], opset, nodes: [c.node, ...nodes], inits: { ...c.inits, ...inits } };
}

describe('import: the patterns of the newer layer kinds', () => {
  it('Clip(0, 6) is relu6; HardSwish; HardSigmoid with alpha 1/6; x * HardSigmoid(x) is hardswish', async () => {
    await same(onConv([{ op: 'Clip', inputs: ['v0', 'lo', 'hi'] }], { lo: scalar(0), hi: scalar(6) }), [/^\s*relu6$/m]);
    await same(onConv([{ op: 'Clip', inputs: ['v0'], attrs: { min: float(0), max: float(6) } }], {}, 10), [/^\s*relu6$/m]);
    await same(onConv([{ op: 'HardSwish', inputs: ['v0'] }]), [/^\s*hardswish$/m]);
    await same(onConv([{ op: 'HardSigmoid', inputs: ['v0'], attrs: { alpha: float(1 / 6), beta: float(0.5) } }]), [/^\s*hardsigmoid$/m]);
    const t = await same(onConv([{ op: 'HardSigmoid', inputs: ['v0'], attrs: { alpha: float(1 / 6), beta: float(0.5) } }, { op: 'Mul', inputs: ['v0', 'v1'] }], {}, 13), [/^\s*hardswish$/m]);
    expect(t).not.toMatch(/hardsigmoid/);
  });

  it('x * Sigmoid(x) is silu, either way round', async () => {
    const t = await same(onConv([{ op: 'Sigmoid', inputs: ['v0'] }, { op: 'Mul', inputs: ['v1', 'v0'] }]), [/^\s*silu$/m]);
    expect(t).not.toMatch(/sigmoid|mul/);
  });

  it("GELU as torch.onnx writes it (Div by √2, Erf, Add 1, Mul x, Mul 0.5) and its tanh form; opset 20's Gelu", async () => {
    await same(
      onConv(
        [
          { op: 'Div', inputs: ['v0', 'sqrt2'] },
          { op: 'Erf', inputs: ['v1'] },
          { op: 'Add', inputs: ['v2', 'one'] },
          { op: 'Mul', inputs: ['v0', 'v3'] },
          { op: 'Mul', inputs: ['v4', 'half'] },
        ],
        { sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5) },
      ),
      [/^\s*gelu$/m],
    );
    // torch's approximate='tanh': 0.5 * (x * (1 + tanh(β (x + κ x·x·x)))), constants first.
    await same(
      onConv(
        [
          { op: 'Mul', inputs: ['v0', 'v0'] },
          { op: 'Mul', inputs: ['v0', 'v1'] },
          { op: 'Mul', inputs: ['kappa', 'v2'] },
          { op: 'Add', inputs: ['v0', 'v3'] },
          { op: 'Mul', inputs: ['beta', 'v4'] },
          { op: 'Tanh', inputs: ['v5'] },
          { op: 'Add', inputs: ['one', 'v6'] },
          { op: 'Mul', inputs: ['v0', 'v7'] },
          { op: 'Mul', inputs: ['half', 'v8'] },
        ],
        { kappa: scalar(0.044715), beta: scalar(Math.sqrt(2 / Math.PI)), one: scalar(1), half: scalar(0.5) },
      ),
      [/^\s*gelu approximate=tanh$/m],
    );
    const r = importOnnx(buildModel(onConv([{ op: 'Gelu', inputs: ['v0'], attrs: { approximate: str('tanh') } }], {}, 20)));
    expect(r.text).toMatch(/^\s*gelu approximate=tanh$/m);
  });

  it('a formula that is no layer is refused at its last node; a product with a scalar is a scale', async () => {
    refused(onConv([{ op: 'Mul', inputs: ['v0', 'v0'], name: '/sq/Mul' }, { op: 'Relu', inputs: ['v1'] }]), /^node 2 of 3, '\/sq\/Mul' \(Mul\): the element-wise formula \(x \* x\) of the tensor before it is not a layer/);
    refused(onConv([{ op: 'Erf', inputs: ['v0'], name: '/e/Erf' }]), /'\/e\/Erf' \(Erf\): the element-wise formula erf\(x\)/);
    await same(onConv([{ op: 'Mul', inputs: ['v0', 'k'] }, { op: 'Relu', inputs: ['v1'] }], { k: scalar(0.25) }), [/^\s*scale$/m, /^\s*relu$/m]);
    // A factor per channel is the initializer as it is: the scale's one tensor takes its name.
    await same(onConv([{ op: 'Mul', inputs: ['v0', 'k'] }], { k: { dims: [1, 4, 1, 1] } }), [/^\s*k: scale$/m]);
  });

  it('a squeeze-and-excitation gate (Mul of a path and GAP, conv, relu, conv, sigmoid) is mul with an empty branch', async () => {
    const c0 = conv('stem', 'input', 8, 3, 3);
    const f1 = conv('se.fc1', 'v1', 2, 8);
    const f2 = conv('se.fc2', 'v3', 8, 2);
    const text = await same(
      {
        input: IN,
        output: ['N', 8, 6, 6],
        nodes: [
          c0.node,
          { op: 'GlobalAveragePool', inputs: ['v0'], name: '/se/avgpool/GlobalAveragePool' },
          f1.node,
          { op: 'Relu', inputs: ['v2'], name: '/se/relu/Relu' },
          f2.node,
          { op: 'Sigmoid', inputs: ['v4'], name: '/se/Sigmoid' },
          { op: 'Mul', inputs: ['v5', 'v0'], name: '/se/Mul' },
        ],
        inits: { ...c0.inits, ...f1.inits, ...f2.inits },
      },
      [/mul \{/, /branch \{\}/, /fc1: conv 2 k=1/, /sigmoid/],
    );
    expect(text).not.toMatch(/silu/);
  });

  it('Resize: nearest by a factor (asymmetric, floor), bilinear to a size (half pixel) and with align_corners; Upsample at opset 9', async () => {
    const out = ['N', 4, 16, 16];
    const nearest = { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') };
    await same({ ...onConv([{ op: 'Resize', inputs: ['v0', '', 'scales'], attrs: nearest }], { scales: { dims: [4], data: [1, 1, 2, 2] } }), output: out }, [/^\s*upsample 2$/m]);
    await same({ ...onConv([{ op: 'Resize', inputs: ['v0', '', '', 'sizes'], attrs: { mode: str('linear'), coordinate_transformation_mode: str('pytorch_half_pixel') } }], { sizes: { dims: [4], data: [2, 4, 12, 10], int64: true } }), output: ['N', 4, 12, 10] }, [/^\s*upsample size=12x10 mode=bilinear$/m]);
    await same({ ...onConv([{ op: 'Resize', inputs: ['v0', '', 'scales'], attrs: { mode: str('linear'), coordinate_transformation_mode: str('align_corners') } }], { scales: { dims: [4], data: [1, 1, 2, 2] } }), output: out }, [/^\s*upsample 2 mode=bilinear align_corners=true$/m]);
    const r = importOnnx(buildModel({ ...onConv([{ op: 'Upsample', inputs: ['v0', 'scales'], attrs: { mode: str('nearest') } }], { scales: { dims: [4], data: [1, 1, 3, 2] } }, 9), output: ['N', 4, 24, 16] }));
    expect(r.text).toMatch(/^\s*upsample 3x2$/m);
    refused({ ...onConv([{ op: 'Resize', inputs: ['v0', '', 'scales'], attrs: { mode: str('cubic') }, name: '/up/Resize' }], { scales: { dims: [4], data: [1, 1, 2, 2] } }), output: out }, /'\/up\/Resize' \(Resize\): 'cubic' resizing is not expressible/);
    refused({ ...onConv([{ op: 'Resize', inputs: ['v0', '', 'scales'], attrs: nearest }], { scales: { dims: [4], data: [1, 1, 1.5, 1.5] } }), output: ['N', 4, 12, 12] }, /scales 1.5x1.5 are not whole factors/);
  });

  it('ConvTranspose with its bias; with padding and output padding; less padding at the end is output padding', async () => {
    const w = (cin: number, cout: number, k: number) => ({ w: { dims: [cin, cout, k, k] }, b: { dims: [cout] } });
    await same({ ...onConv([{ op: 'ConvTranspose', inputs: ['v0', 'w', 'b'], attrs: { kernel_shape: ints(2, 2), strides: ints(2, 2) }, name: '/up/ConvTranspose' }], w(4, 5, 2)), output: ['N', 5, 16, 16] }, [/up: convtranspose 5 k=2 s=2$/m]);
    await same({ ...onConv([{ op: 'ConvTranspose', inputs: ['v0', 'w'], attrs: { kernel_shape: ints(3, 3), strides: ints(2, 2), pads: ints(1, 1, 1, 1), output_padding: ints(1, 1) } }], w(4, 6, 3)), output: ['N', 6, 16, 16] }, [/convtranspose 6 k=3 s=2 p=1 op=1 bias=false$/m]);
    await same({ ...onConv([{ op: 'ConvTranspose', inputs: ['v0', 'w'], attrs: { kernel_shape: ints(3, 3), strides: ints(2, 2), pads: ints(1, 1, 0, 0) } }], w(4, 6, 3)), output: ['N', 6, 16, 16] }, [/convtranspose 6 k=3 s=2 p=1 op=1 bias=false$/m]);
    refused({ ...onConv([{ op: 'ConvTranspose', inputs: ['v0', 'w'], attrs: { kernel_shape: ints(3, 3), pads: ints(0, 0, 1, 1) } }], w(4, 6, 3)), output: ['N', 6, 8, 8] }, /cuts more at the end than at the start/);
  });

  it('LayerNormalization over the channels between two Transposes, and over a flat tensor, is layernorm', async () => {
    await same(
      onConv(
        [
          { op: 'Transpose', inputs: ['v0'], attrs: { perm: ints(0, 2, 3, 1) } },
          { op: 'LayerNormalization', inputs: ['v1', 'ln.weight', 'ln.bias'], attrs: { axis: int(-1), epsilon: float(1e-6) }, name: '/ln/LayerNormalization' },
          { op: 'Transpose', inputs: ['v2'], attrs: { perm: ints(0, 3, 1, 2) } },
        ],
        { 'ln.weight': { dims: [4] }, 'ln.bias': { dims: [4] } },
      ),
      [/ln: layernorm eps=0.000001$/m],
    );
    await same({ input: ['N', 6], output: ['N', 6], nodes: [{ op: 'LayerNormalization', inputs: ['input', 'ln.weight', 'ln.bias'], attrs: { axis: int(-1) } }], inits: { 'ln.weight': { dims: [6] }, 'ln.bias': { dims: [6] } } }, [/layernorm$/m]);
    refused(onConv([{ op: 'LayerNormalization', inputs: ['v0', 'w', 'b'], attrs: { axis: int(1) } }], { w: { dims: [4, 8, 8] }, b: { dims: [4, 8, 8] } }), /a layer norm over axes 1 to 3/);
  });

  it('GroupNorm as InstanceNormalization of the groups, then the affine (our exporter at opset 17)', async () => {
    await same(
      onConv(
        [
          { op: 'Reshape', inputs: ['v0', 'gshape'] },
          { op: 'InstanceNormalization', inputs: ['v1', 'ones', 'zeros'], attrs: { epsilon: float(1e-5) } },
          { op: 'Reshape', inputs: ['v2', 'shape'] },
          { op: 'Mul', inputs: ['v3', 'gn.weight'] },
          { op: 'Add', inputs: ['v4', 'gn.bias'], name: 'gn/shift' },
        ],
        {
          gshape: { dims: [3], data: [0, 2, -1], int64: true },
          ones: { dims: [2], data: [1, 1] },
          zeros: { dims: [2], data: [0, 0] },
          shape: { dims: [4], data: [0, 4, 8, 8], int64: true },
          'gn.weight': { dims: [4, 1, 1] },
          'gn.bias': { dims: [4, 1, 1] },
        },
      ),
      [/groupnorm 2$/m],
    );
  });

  it("ConvNeXt's block as torch.onnx writes it before opset 17: the layer norm written out and nn.Linear on channels-last", async () => {
    const nodes = (tail: ModelSpec['nodes']): ModelSpec['nodes'] => [
      { op: 'Transpose', inputs: ['v0'], attrs: { perm: ints(0, 2, 3, 1) }, name: '/block/block.1/Transpose' },
      { op: 'ReduceMean', inputs: ['v1'], attrs: { axes: ints(-1) }, name: '/block/block.2/ReduceMean' },
      { op: 'Sub', inputs: ['v1', 'v2'], name: '/block/block.2/Sub' },
      { op: 'Pow', inputs: ['v3', 'two'], name: '/block/block.2/Pow' },
      { op: 'ReduceMean', inputs: ['v4'], attrs: { axes: ints(-1) }, name: '/block/block.2/ReduceMean_1' },
      { op: 'Add', inputs: ['v5', 'eps'], name: '/block/block.2/Add' },
      { op: 'Sqrt', inputs: ['v6'], name: '/block/block.2/Sqrt' },
      { op: 'Div', inputs: ['v3', 'v7'], name: '/block/block.2/Div' },
      { op: 'Mul', inputs: ['v8', 'block.2.weight'], name: '/block/block.2/Mul' },
      { op: 'Add', inputs: ['v9', 'block.2.bias'], name: '/block/block.2/Add_1' },
      { op: 'MatMul', inputs: ['v10', 'onnx::MatMul_1'], name: '/block/block.3/MatMul' },
      { op: 'Add', inputs: ['block.3.bias', 'v11'], name: '/block/block.3/Add' },
      ...tail,
    ];
    const inits = {
      two: scalar(2),
      eps: scalar(1e-6),
      'block.2.weight': { dims: [4] },
      'block.2.bias': { dims: [4] },
      'onnx::MatMul_1': { dims: [4, 8] },
      'block.3.bias': { dims: [8] },
      sqrt2: scalar(Math.SQRT2),
      one: scalar(1),
      half: scalar(0.5),
      'onnx::MatMul_2': { dims: [8, 4] },
      'block.5.bias': { dims: [4] },
      layer_scale: { dims: [4, 1, 1] },
    };
    const gelu: ModelSpec['nodes'] = [
      { op: 'Div', inputs: ['v12', 'sqrt2'], name: '/block/block.4/Div' },
      { op: 'Erf', inputs: ['v13'], name: '/block/block.4/Erf' },
      { op: 'Add', inputs: ['v14', 'one'], name: '/block/block.4/Add' },
      { op: 'Mul', inputs: ['v12', 'v15'], name: '/block/block.4/Mul' },
      { op: 'Mul', inputs: ['v16', 'half'], name: '/block/block.4/Mul_1' },
      { op: 'MatMul', inputs: ['v17', 'onnx::MatMul_2'], name: '/block/block.5/MatMul' },
      { op: 'Add', inputs: ['block.5.bias', 'v18'], name: '/block/block.5/Add' },
      { op: 'Transpose', inputs: ['v19'], attrs: { perm: ints(0, 3, 1, 2) }, name: '/block/block.6/Transpose' },
      { op: 'Mul', inputs: ['layer_scale', 'v20'], name: '/Mul' },
    ];
    const c = conv('block.0', 'input', 4, 3);
    const spec = (tail: ModelSpec['nodes']): ModelSpec => ({ input: IN, output: ['N', 4, 8, 8], opset: 13, nodes: [c.node, ...nodes(tail)], inits: { ...c.inits, ...inits } });
    const text = await same(spec(gelu), [/^\s*2: layernorm eps=0.000001$/m, /^\s*3: linear 8 pointwise=true$/m, /^\s*4: gelu$/m, /^\s*5: linear 4 pointwise=true$/m, /^\s*layer_scale: scale$/m]);
    const names = analysed(text).tensors.map((t) => t.name);
    expect(names).toEqual(['layer_scale', 'block.0.weight', 'block.0.bias', 'block.2.weight', 'block.2.bias', 'block.3.weight', 'block.3.bias', 'block.5.weight', 'block.5.bias']);
    // A layer of the language cannot take the channels-last tensor: refused at that node.
    refused(spec([{ op: 'Relu', inputs: ['v12'], name: '/block/act/Relu' }]), /^node 14 of 14, '\/block\/act\/Relu' \(Relu\): it takes a channels-last tensor/);
    refused(spec([{ op: 'Sqrt', inputs: ['v12'], name: '/block/s/Sqrt' }]), /'\/block\/s\/Sqrt' \(Sqrt\): a Sqrt is expressible only as the deviation of a layer norm/);
  });
});
