/** src/export/document.ts: what the editor's export commands (and `cnn export`) decide. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { tensor } from '../../src/engine/tensor';
import { initWeights } from '../../src/engine/weights/init';
import { saveSafetensorsWeights } from '../../src/engine/weights/load';
import { ExportError } from '../../src/export/common';
import { blockingErrors, exportNetwork, networkAt } from '../../src/export/document';
import { expectClose, randomTensor, randomWeights, rng } from '../engine/helpers';

const TEXT = `network First {
  input 3x8x8
  conv 4 k=3 p=1
  relu
  gap; flatten
  linear 3
}

network Broken {
  input 3x8x8
  conv 4 k=3
  linear 2
  linear 2 foo=1
}

network Second {
  input 1x6x6
  Unit(5)
  gap; flatten
  linear 2
}

block Unit(c) {
  conv c k=3 p=1; bn; relu
}
`;
const analysis = analyzeText(TEXT);
const byName = (n: string) => analysis.networks.find((x) => x.graph.network === n)!;

async function runOnnx(bytes: Uint8Array, x: { shape: number[]; data: Float32Array }): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return (await s.run({ input: new ort.Tensor('float32', x.data, x.shape) })).output.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('networkAt', () => {
  it('is the network around the offset, else the only network, else none', () => {
    expect(networkAt(analysis, TEXT.indexOf('linear 3'))?.graph.network).toBe('First');
    expect(networkAt(analysis, TEXT.indexOf('Unit(5)'))?.graph.network).toBe('Second');
    // In the block, outside every network: three networks, so no guess.
    expect(networkAt(analysis, TEXT.indexOf('conv c'))).toBeUndefined();
    const only = 'network Only {\n  input 3x4x4\n}\n\n// trailing\n';
    expect(networkAt(analyzeText(only), only.length)?.graph.network).toBe('Only');
  });
});

describe('blockingErrors and exportNetwork', () => {
  it("ignores errors inside the file's other networks", () => {
    expect(blockingErrors(analysis, byName('First'))).toEqual([]);
    expect(blockingErrors(analysis, byName('Second'))).toEqual([]);
    expect(blockingErrors(analysis, byName('Broken')).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a network with errors in one line: the first error with its position, and how many more', () => {
    const broken = byName('Broken');
    const errors = blockingErrors(analysis, broken);
    const first = errors[0];
    let thrown: unknown;
    try {
      exportNetwork(analysis, broken, 'onnx', { source: 'nets.cnn' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ExportError);
    const message = (thrown as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message.startsWith(`nets.cnn:${first.range.start.line + 1}:${first.range.start.character + 1}: ${first.message}`)).toBe(true);
    expect(message).toMatch(new RegExp(`\\(and ${errors.length - 1} more errors?\\)$`));
    expect(() => exportNetwork(analysis, broken, 'pytorch')).toThrow(ExportError);
  });

  it('PyTorch: NETWORK.py with the class and the parameter count', () => {
    const net = byName('Second');
    const f = exportNetwork(analysis, net, 'pytorch', { source: 'nets.cnn' });
    expect(f.fileName).toBe('Second.py');
    const code = new TextDecoder().decode(f.data);
    expect(code).toMatch(/^class Second\(Scope\):$/m);
    expect(code).toContain('from nets.cnn');
    const params = net.tensors.filter((t) => t.kind === 'param').reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    expect(f.summary).toBe(`class Second, ${net.tensors.length} state_dict entries (${params.toLocaleString('en-US')} parameters)`);
  });

  it('ONNX with seeded weights runs in onnxruntime as our engine does', async () => {
    const net = byName('Second');
    const f = exportNetwork(analysis, net, 'onnx', { seed: 4 });
    expect(f.fileName).toBe('Second.onnx');
    expect(f.summary).toMatch(/^opset 17, input \[N, 1, 6, 6\], output \[N, 2\]; \d+ initializers, weights: seeded initialisation \(seed 4\)$/);
    const x = randomTensor([2, 1, 6, 6], rng(2));
    const ref = forwardCpu(net.graph, initWeights(net.tensors, 4), net.tensors, tensor(x.shape, x.data)).output.data;
    expectClose(await runOnnx(f.data, x), ref, 1e-4);
  });

  it('ONNX with a .safetensors file carries those weights; a file that does not fit is a one-line error naming it', async () => {
    const net = byName('First');
    const w = randomWeights(net.tensors, rng(7));
    const bytes = saveSafetensorsWeights(net.tensors, w);
    const f = exportNetwork(analysis, net, 'onnx', { file: { bytes, name: 'first.safetensors' } });
    expect(f.summary).toMatch(/weights: first\.safetensors$/);
    const x = randomTensor([1, 3, 8, 8], rng(3));
    const ref = forwardCpu(net.graph, w, net.tensors, tensor(x.shape, x.data)).output.data;
    expectClose(await runOnnx(f.data, x), ref, 1e-4);

    const other = saveSafetensorsWeights(byName('Second').tensors, randomWeights(byName('Second').tensors, rng(1)));
    expect(() => exportNetwork(analysis, net, 'onnx', { file: { bytes: other, name: 'second.safetensors' } })).toThrow(/^second\.safetensors: /);
  });
});
