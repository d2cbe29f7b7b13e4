/**
 * `cnn export --to onnx` then `cnn import` gives back the network: for every example, the same
 * figures and parameter names at its own size (weights of zeros: figures do not read values),
 * and the same outputs at a small size with random weights; the export zoo's networks likewise,
 * but for the two the language's import refuses by design (aux outputs, an even LRN window).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { exportOnnx } from '../../src/export/onnx';
import { importOnnx } from '../../src/import';
import { randomTensor, randomWeights, rng } from '../engine/helpers';
import { relativeError, ROOT, ZOO } from '../export/helpers';
import { analysed, forward, weightsOf } from './helpers';

const EXAMPLES = execFileSync('git', ['ls-files', 'examples/*.cnn', 'examples/**/*.cnn'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f.endsWith('.cnn'));

/** Sizes that keep every layer's output non-empty yet the forward passes quick. */
const SMALL: Record<string, number[]> = {
  'examples/alexnet.cnn': [3, 64, 64],
  'examples/vgg16.cnn': [3, 32, 32],
  'examples/googlenet.cnn': [3, 32, 32],
  // Inception-v3's reductions need at least 75 pixels.
  'examples/inception_v3.cnn': [3, 75, 75],
};

const smallShape = (file: string, own: number[]) => SMALL[file] ?? (own.length === 3 && own[1] > 64 ? [own[0], 32, 32] : own);

function zeros(net: NetworkAnalysis): Map<string, Float32Array> {
  return new Map(net.tensors.map((t) => [t.name, new Float32Array(t.shape.reduce((a, d) => a * d, 1))]));
}

function figures(net: NetworkAnalysis) {
  const { params, buffers, macs, auxMacs, depth } = net.totals;
  const weighted = net.graph.nodes.filter((n) => net.layers[n.id].params > 0).map((n) => ({ path: n.path, shape: net.layers[n.id].shape, params: net.layers[n.id].params, macs: net.layers[n.id].macs }));
  return { params, buffers, macs, auxMacs, depth, input: net.layers[0].shape, output: net.layers[net.graph.output].shape, weighted, tensors: net.tensors.map((t) => `${t.name} [${t.shape.join(', ')}]`) };
}

async function sameOutputs(net: NetworkAnalysis, label: string): Promise<void> {
  const weights = randomWeights(net.tensors, rng(5));
  const r = importOnnx(exportOnnx(net, weights), { name: 'Back' });
  const back = analysed(r.text);
  const batch = 2;
  const x = randomTensor([batch, ...(net.layers[0].shape as number[])], rng(6)).data;
  const want = await forward(net, weights, x, batch);
  const got = await forward(back, weightsOf(back, r.weights), x, batch);
  expect(relativeError(got, want).rel, label).toBeLessThan(1e-5);
}

describe('export to ONNX, then import: every example', () => {
  for (const file of EXAMPLES) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    it(`${file}: the same figures and parameter names`, () => {
      const net = analyzeText(text).networks[0];
      const r = importOnnx(exportOnnx(net, zeros(net), { source: file, text }), { source: file });
      expect(r.network).toBe(net.graph.network);
      expect(r.renamed).toEqual([]);
      expect(figures(analysed(r.text))).toEqual(figures(net));
    });
    it(`${file}: the same outputs`, async () => {
      const own = analyzeText(text).networks[0].layers[0].shape as number[];
      await sameOutputs(analyzeText(text, { inputShape: smallShape(file, own) }).networks[0], file);
      // VGG-16's 138M weights take a minute on a loaded machine.
    }, 240_000);
  }
});

/** The zoo's networks the import refuses, with the reason it gives. */
const REFUSED: Record<string, RegExp> = {
  Zoo: /the graph has 2 outputs \(output, aux1\)/,
  LrnEven: /\(Mul\): the element-wise formula \(x \* x\) of the tensor before it is not a layer|an LRN of even size/,
  Passthrough: /2 outputs/,
};

describe('export to ONNX, then import: the export zoo', () => {
  for (const net of analyzeText(readFileSync(ZOO, 'utf8')).networks) {
    const name = net.graph.network;
    it(name, async () => {
      if (REFUSED[name]) {
        expect(() => importOnnx(exportOnnx(net, zeros(net)))).toThrow(REFUSED[name]);
        return;
      }
      const r = importOnnx(exportOnnx(net, zeros(net)));
      expect(figures(analysed(r.text))).toEqual(figures(net));
      await sameOutputs(net, name);
    });
  }
});
