/**
 * ONNX import: a model's bytes to a .cnn text, its weights under the text's parameter names as a
 * safetensors file, and the class names its metadata may carry. Plain TypeScript without Node
 * APIs, so that the web extension host runs it as the CLI does; the caller reads and writes files.
 *
 * The pipeline (docs/import.md): decode (protobufjs) → operators to layers (ops.ts) → nested
 * compositions (structure.ts) → naming scopes (naming.ts) → blocks and repeats (blocks.ts) →
 * text (render.ts) → the text analysed again and checked against the layers (verify.ts).
 */
import { saveSafetensorsWeights } from '../engine/weights/load';
import { layerDef } from '../layers';
import { extractBlocks } from './blocks';
import { decodeOnnx, ImportError, type OnnxModel } from './onnx-model';
import { expansionOrder, isIdentifier, nameScopes, numberLabels, wantedPaths } from './naming';
import { isConv, mapOperators, type ImportLayer } from './ops';
import { renderText } from './render';
import { recoverStructure } from './structure';
import { verify } from './verify';

export { ImportError } from './onnx-model';

export interface ImportOptions {
  /** The network's name, whatever the model's graph is called. */
  network?: string;
  /** The network's name when the model's graph has no meaningful one (the CLI passes the output file's name). */
  name?: string;
  /** The model file's name, for the header comment and the weights' metadata. */
  source?: string;
}

export interface ImportResult {
  /** The .cnn file. */
  text: string;
  /** The weights as a safetensors file, by the names `cnn params` gives the text. */
  weights: Uint8Array;
  /** Class names from the model's metadata, one per output, when it carries them. */
  labels?: string[];
  /** What the import changed or could not keep, one line each (renamed tensors, folded batch norms). */
  warnings: string[];
  /** Tensors whose names in the file the language cannot say: [the file's (or its node's) name, the .cnn's]. */
  renamed: [string, string][];
  network: string;
  /** Figures for a summary line. */
  layers: number;
  tensors: number;
  params: number;
}

/** Graph names exporters write when the user gave none. */
const GENERIC_GRAPH_NAMES = /^(torch[-_]jit([-_]export)?|main[-_]graph|graph|model|tf2onnx|onnx)$/i;

function networkName(model: OnnxModel, opts: ImportOptions): string {
  const g = model.graph.name;
  const candidate = opts.network ?? (g && !GENERIC_GRAPH_NAMES.test(g) ? g : opts.name || g || 'Imported');
  let name = candidate.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(name)) name = `N${name}`;
  return isIdentifier(name) ? name : `${name}_`;
}

/** Class names in the metadata: a JSON list or one name a line, under a key that says so. */
function labelsOf(metadata: Record<string, string>, classes: number): string[] | undefined {
  for (const [key, value] of Object.entries(metadata)) {
    if (!/^(labels|classes|class_names|classnames|class_labels|names)$/i.test(key)) continue;
    let names: unknown;
    try {
      names = JSON.parse(value);
    } catch {
      names = value.split(/\r?\n/).filter((l) => l.trim() !== '');
    }
    if (names && typeof names === 'object' && !Array.isArray(names)) {
      // {"0": "tench", "1": "goldfish"}, as some exporters write it.
      const entries = Object.entries(names as Record<string, unknown>);
      if (entries.every(([k, v]) => /^\d+$/.test(k) && typeof v === 'string')) names = entries.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => v);
    }
    if (Array.isArray(names) && names.length === classes && names.every((n) => typeof n === 'string')) return names as string[];
  }
  return undefined;
}

/** An initializer's name as the exporter's user gave it, not one it generated (`onnx::Conv_193`, `123`). */
function realName(source: string | undefined): string | undefined {
  return source && !source.startsWith('onnx::') && !/^\d+$/.test(source) ? source : undefined;
}

function summarizeRenames(renames: [string, string][], total: number): string | undefined {
  if (renames.length === 0) return undefined;
  const shown = renames.slice(0, 3).map(([a, b]) => `${a} → ${b}`);
  const more = renames.length > 3 ? ` (and ${renames.length - 3} more)` : '';
  return `${renames.length} of ${total} tensors are named as the language names them, not as in the file: ${shown.join(', ')}${more}`;
}

/**
 * Imports an ONNX model. Throws ImportError, one line, for bytes that are not ONNX, an operator or
 * a pattern the language cannot express (naming the node and its place in the graph), or a model
 * whose recovered network does not check out.
 */
export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): ImportResult {
  const model = decodeOnnx(bytes);
  if (model.opset < 7) throw new ImportError(`opset ${model.opset} is older than the importer reads (7 and later; exporters write 11 to 17)`);
  const graph = mapOperators(model);
  const { layers } = graph;
  const body = recoverStructure(graph);
  const named = nameScopes(layers, body);
  numberLabels(layers, named);
  const { body: final, blocks } = extractBlocks(layers, named);
  const network = networkName(model, opts);
  const header = [`Imported from ${opts.source ?? 'an ONNX model'}${model.producer ? ` (${model.producer}, opset ${model.opset})` : ` (opset ${model.opset})`} by cnn import.`];
  const text = renderText({ network, input: layers[0].shape, body: final, blocks, header });
  const order = expansionOrder(named);
  const { net, weights, layerOfNode } = verify(text, layers, order, graph.output);

  // Every initializer a needed node reads must have been taken as a weight or a constant.
  for (const name of graph.weightInitializers) if (!graph.usedInitializers.has(name)) throw new ImportError(`internal error of the importer: initializer '${name}' was not used`);

  const warnings = [...graph.warnings];
  const wanted = wantedPaths(layers);
  const renames: [string, string][] = [];
  let folded = 0;
  for (const t of net.tensors) {
    const layer: ImportLayer = layers[layerOfNode[t.node]];
    const w = layer.tensors[t.role]!;
    const fromFile = realName(w.source);
    const want = fromFile ?? (wanted[layer.id] ? (layerDef(layer.attrs).namedByPath ? wanted[layer.id] : `${wanted[layer.id]}.${t.role}`) : undefined);
    if (want && want !== t.name) renames.push([want, t.name]);
    if (t.role === 'weight' && isConv(layer.attrs) && layer.attrs.bias && !fromFile && !realName(layer.tensors.bias?.source)) folded++;
  }
  const renamed = summarizeRenames(renames, net.tensors.length);
  if (renamed) warnings.push(renamed);
  if (folded) warnings.push(`${folded} convolution${folded > 1 ? 's have' : ' has'} a bias and unnamed weights: the exporter folded the batch norms after ${folded > 1 ? 'them' : 'it'} into them; they are named after their nodes`);

  const outShape = net.layers[net.graph.output].shape ?? [];
  const labels = outShape.length === 1 ? labelsOf(model.metadata, outShape[0]) : undefined;
  const file = saveSafetensorsWeights(net.tensors, weights, { format: 'pt', ...(opts.source ? { source: opts.source } : {}), importer: 'cnn import' });
  return {
    text,
    weights: file,
    labels,
    warnings,
    renamed: renames,
    network,
    layers: order.length,
    tensors: net.tensors.length,
    params: net.totals.params,
  };
}
