/**
 * torchvision models with random weights, exported by torch.onnx at test time (one Python
 * process for the file), imported: the MACs equal torchvision's at the same input size, the
 * weights hold every initializer of the file, a forward pass with them equals PyTorch's, the
 * text is structured (blocks, repeats) within a line budget, and `cnn params` of the text is the
 * model's state_dict keys in their order (docs/import.md says what is compared: the keys but
 * `num_batches_tracked` and the batch norms the eval export folded into the convolution before
 * them, whose biases the folding made). A model whose layer kinds have not landed yet names them
 * in `needs` and waits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, type ImportResult } from '../../src/import';
import { decodeOnnx, floatValues } from '../../src/import/onnx-model';
import { LAYER_DEFS } from '../../src/layers';
import { relativeError } from '../export/helpers';
import { analysed, codeLines, exportTorchvision, forward, weightsOf, type TorchExport, type TorchJob } from './helpers';

interface Case extends TorchJob {
  /** Non-comment lines the text may take. */
  maxLines: number;
  /** Layer kinds the model needs that other branches are adding. */
  needs?: string[];
}

const CASES: Case[] = [
  // Fresh batch norms: the folded biases are all zero and torch.onnx merges equal initializers.
  { id: 'resnet18', model: 'resnet18', size: 64, opset: 11, randomize_bn: false, maxLines: 60 },
  { id: 'googlenet', model: 'googlenet', kwargs: { aux_logits: false, transform_input: false, init_weights: false }, size: 64, opset: 13, maxLines: 45 },
  { id: 'densenet121', model: 'densenet121', size: 64, opset: 17, maxLines: 120 },
  { id: 'squeezenet1_1', model: 'squeezenet1_1', size: 64, opset: 15, maxLines: 30 },
  { id: 'mobilenet_v2', model: 'mobilenet_v2', size: 64, opset: 17, maxLines: 60 },
  { id: 'efficientnet_b0', model: 'efficientnet_b0', size: 64, opset: 14, maxLines: 120 },
  // Opset 13 has no HardSwish: torch.onnx writes x * HardSigmoid(x); squeeze-and-excitation gated by hardsigmoid.
  { id: 'mobilenet_v3_small', model: 'mobilenet_v3_small', size: 64, opset: 13, maxLines: 100 },
  // LayerNorm written out before opset 17 (ReduceMean, Sub, Pow, ...), LayerNormalization at 17; nn.Linear
  // on channels-last maps between Transposes; layer scale. 32 pixels: the smallest its four downsamplings take.
  { id: 'convnext_tiny_13', model: 'convnext_tiny', size: 32, opset: 13, maxLines: 60 },
  { id: 'convnext_tiny_17', model: 'convnext_tiny', size: 32, opset: 17, maxLines: 60 },
];

const ready = (c: Case) => (c.needs ?? []).every((k) => k in LAYER_DEFS);

let exports: Map<string, TorchExport>;
const imported = new Map<string, ImportResult>();

beforeAll(() => {
  exports = exportTorchvision(CASES.filter(ready));
}, 600_000);

afterAll(() => imported.clear());

/** A content key for a tensor: its length and a few values. */
function key(data: Float32Array): string {
  const n = data.length;
  return `${n}:${data[0]}:${data[n >> 1]}:${data[n - 1]}`;
}

/** A [rows, cols] matrix as [cols, rows]. */
function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
  return t;
}

describe('importing torchvision models exported by torch.onnx', () => {
  for (const c of CASES) {
    describe.skipIf(!ready(c))(`${c.model} at ${c.size}x${c.size}, opset ${c.opset}`, () => {
      const result = () => {
        let r = imported.get(c.id);
        if (!r) {
          r = importOnnx(exports.get(c.id)!.onnx, { name: c.id, source: `${c.id}.onnx` });
          imported.set(c.id, r);
        }
        return r;
      };

      it('imports with the MACs torchvision counts', () => {
        const r = result();
        const net = analysed(r.text);
        const t = exports.get(c.id)!;
        expect(net.totals.macs).toBe(t.macs);
        expect(net.layers[net.graph.output].shape).toEqual(t.outputShape);
      });

      it('keeps every weight of the file', () => {
        const r = result();
        const net = analysed(r.text);
        const weights = weightsOf(net, r.weights);
        const byKey = new Map<string, Float32Array[]>();
        for (const w of weights.values()) byKey.set(key(w), [...(byKey.get(key(w)) ?? []), w]);
        const model = decodeOnnx(exports.get(c.id)!.onnx);
        let checked = 0;
        for (const init of model.graph.initializers.values()) {
          if (init.dataType !== 1 || init.dims.reduce((a, d) => a * d, 1) < 2) continue;
          const data = floatValues(init, 'test');
          const held = (d: Float32Array) => (byKey.get(key(d)) ?? []).some((w) => w.every((v, i) => v === d[i]));
          // nn.Linear on channels-last maps is a MatMul by the transposed weight, which the import turns back.
          const found = held(data) || (init.dims.length === 2 && held(transposed(data, init.dims[0], init.dims[1])));
          expect(found, `initializer '${init.name}' [${init.dims.join(', ')}]`).toBe(true);
          checked++;
        }
        expect(checked).toBeGreaterThan(10);
        expect(r.renamed.length, r.renamed.slice(0, 5).join('; ')).toBe(0);
      });

      it("names its tensors as torchvision's state_dict", () => {
        const t = exports.get(c.id)!;
        const model = decodeOnnx(t.onnx);
        // Names the file holds: initializers, and the Identity aliases torch.onnx gives equal ones.
        const inFile = new Set([...model.graph.initializers.keys(), ...model.graph.nodes.filter((n) => n.op === 'Identity').flatMap((n) => n.outputs)]);
        const folded = new Set(t.keys.filter((k) => k.endsWith('.running_mean') && !inFile.has(k)).map((k) => k.slice(0, -'.running_mean'.length)));
        const dirname = (k: string) => k.slice(0, k.lastIndexOf('.'));
        const want = t.keys.filter((k) => !k.endsWith('.num_batches_tracked') && !folded.has(dirname(k)));
        const wanted = new Set(want);
        const names = analysed(result().text).tensors.map((x) => x.name);
        // A folded batch norm leaves a bias on the convolution before it, which torchvision's has not.
        const made = names.filter((n) => n.endsWith('.bias') && !wanted.has(n) && wanted.has(`${dirname(n)}.weight`));
        expect(made.length).toBeLessThanOrEqual(folded.size);
        expect(names.filter((n) => !made.includes(n))).toEqual(want);
      });

      it("gives PyTorch's output with the imported weights", async () => {
        const r = result();
        const net = analysed(r.text);
        const t = exports.get(c.id)!;
        const y = await forward(net, weightsOf(net, r.weights), t.input, t.batch);
        const { rel } = relativeError(y, t.output);
        expect(rel).toBeLessThan(1e-3);
      });

      it(`is structured: at most ${c.maxLines} lines, with blocks`, () => {
        const r = result();
        expect(codeLines(r.text), r.text).toBeLessThanOrEqual(c.maxLines);
        expect(r.text).toMatch(/^block /m);
      });
    });
  }
});
