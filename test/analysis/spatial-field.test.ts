/**
 * Receptive fields through upsampling and transposed convolutions against brute force: with
 * positive weights (nothing cancels), no bias and an input of zeros, an output pixel depends on
 * an input row exactly when raising that row makes it non-zero in the CPU reference. For each dimension this gives every
 * output pixel's field in the input; the analysis' figures must match them:
 *   - size: the largest field among output pixels whose field lies inside the input;
 *   - stride: fields repeat with some period Q, shifted by stride·Q input pixels;
 *   - padding: how far output pixel 0's field starts before the input, from that repetition.
 */
import { describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { tensor } from '../../src/engine/tensor';
import { rng } from '../engine/helpers';
import { ratioText } from '../../src/layers/ratio';

/** Field of each output row (dim 0) or column (dim 1) in the input: [first, last] pixel, or null. */
type Fields = ([number, number] | null)[];

function analyse(body: string, input: string, blocks = ''): NetworkAnalysis {
  const a = analyzeText(`network F {\n  input ${input}\n  ${body.split('\n').join('\n  ')}\n}\n${blocks}`);
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return a.networks[0];
}

/** Every spatial layer's fields (by node id), from one run of the CPU reference per input row and column. */
function bruteForce(net: NetworkAnalysis): Map<number, [Fields, Fields]> {
  const rand = rng(7);
  const weights = new Map<string, Float32Array>();
  for (const t of net.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const fanIn = t.shape.length > 1 ? n / t.shape[0] : 1;
    weights.set(t.name, t.role === 'weight' ? Float32Array.from({ length: n }, () => (0.5 + rand()) / fanIn) : new Float32Array(n));
  }
  const [c, h, w] = net.input!;
  const run = (x: Float32Array) => forwardCpu(net.graph, weights, net.tensors, tensor([1, c, h, w], x), { keep: 'all' }).nodes!;
  // On zeros every value is 0, so any value a raised row reaches is non-zero: nothing is lost to rounding, however small.
  const base = run(new Float32Array(c * h * w));
  const out = new Map<number, [Fields, Fields]>();
  for (const node of net.graph.nodes) {
    const s = base[node.id].shape;
    if (node.inputs.length && s.length === 4) out.set(node.id, [new Array(s[2]).fill(null), new Array(s[3]).fill(null)]);
  }
  for (const dim of [0, 1] as const) {
    for (let r = 0; r < (dim === 0 ? h : w); r++) {
      const x = new Float32Array(c * h * w);
      for (let ch = 0; ch < c; ch++) {
        for (let k = 0; k < (dim === 0 ? w : h); k++) x[dim === 0 ? (ch * h + r) * w + k : (ch * h + k) * w + r] += 1;
      }
      const ys = run(x);
      for (const [id, fields] of out) {
        const [, , oh, ow] = base[id].shape;
        const y = ys[id].data;
        for (let i = 0; i < y.length; i++) {
          if (y[i] === 0) continue;
          const o = dim === 0 ? Math.floor(i / ow) % oh : i % ow;
          const f = fields[dim][o];
          fields[dim][o] = f ? [Math.min(f[0], r), Math.max(f[1], r)] : [r, r];
        }
      }
    }
  }
  return out;
}

interface Measured {
  size: number;
  period: number;
  stride: number;
  padding: number;
  /** Output pixels whose field lies inside the input, with `margin` pixels to spare. */
  inside: number;
}

/**
 * The figures brute force gives along one dimension: over the output pixels whose fields lie
 * inside the input (with a margin past any gap a dilated field may have at the edge).
 */
function measure(fields: Fields, n: number, stride: number, margin = 1): Measured | undefined {
  const inside = (o: number) => {
    const f = fields[o];
    return f !== null && f[0] >= margin && f[1] <= n - 1 - margin;
  };
  // The longest run of pixels that see only the inside, or nothing (interleaved fields may leave the run).
  let [first, last] = [0, -1];
  for (let a = 0; a < fields.length; ) {
    if (!inside(a)) {
      a++;
      continue;
    }
    let b = a;
    while (b + 1 < fields.length && (fields[b + 1] === null || inside(b + 1))) b++;
    while (!inside(b)) b--;
    if (b - a > last - first) [first, last] = [a, b];
    a = b + 1;
  }
  if (last < first) return undefined;
  let size = 0;
  for (let o = first; o <= last; o++) if (fields[o]) size = Math.max(size, fields[o]![1] - fields[o]![0] + 1);
  // The shortest period with which fields (and the pixels that see none) repeat, shifted by stride·Q.
  const span = last - first + 1;
  let period = 0;
  for (let q = 1; 2 * q <= span && !period; q++) {
    const shift = stride * q;
    if (!Number.isInteger(shift)) continue;
    let ok = true;
    for (let o = first; o + q <= last && ok; o++) {
      const [a, b] = [fields[o], fields[o + q]];
      ok = a === null ? b === null : b !== null && b[0] - a[0] === shift && b[1] - a[1] === shift;
    }
    if (ok) period = q;
  }
  if (!period) return undefined;
  // Pixel 0's field from the first phase that sees any input, carried back by whole periods.
  let padding = NaN;
  for (let r = 0; r < period && Number.isNaN(padding); r++) {
    for (let o = first; o <= last; o++) {
      if (o % period !== r || !fields[o]) continue;
      padding = stride * (o - r) - fields[o]![0];
      break;
    }
  }
  return { size, period, stride, padding, inside: span };
}

interface FieldCase {
  name: string;
  body: string;
  input: string;
  /** What the analysis reports, per dimension as [height, width]. */
  expected: { size: [number, number]; stride: [string, string]; padding: [number, number] };
  /** Input pixels kept clear of the edges: past the widest gap in a field (dilation); 1 by default. */
  margin?: number;
  blocks?: string;
  /** The dimensions to check (both by default): an input too short for a field to fit inside leaves one out. */
  dims?: (0 | 1)[];
  /** What `r += (k−1)·j` alone would give, where it is not the true size. */
  rule?: [number, number];
}

const cases: FieldCase[] = [
  { name: 'nearest ×2 then a 2×2 conv: fields of one and two pixels', body: 'upsample 2\nconv 1 k=2', input: '1x20x20', expected: { size: [2, 2], stride: ['1/2', '1/2'], padding: [0, 0] }, rule: [1.5, 1.5] },
  { name: 'a strided conv then nearest ×2: stride 1, neighbours share a field', body: 'conv 1 k=3 s=2 p=1\nupsample 2', input: '1x24x24', expected: { size: [3, 3], stride: ['1', '1'], padding: [1, 1] } },
  { name: 'nearest ×3 then a stride-2 conv: stride 2/3', body: 'upsample 3\nconv 1 k=3 s=2', input: '1x16x16', expected: { size: [2, 2], stride: ['2/3', '2/3'], padding: [0, 0] } },
  { name: 'bilinear ×2 (pixel centres) then a 3×3 conv', body: 'upsample 2 mode=bilinear\nconv 1 k=3 p=1', input: '1x20x20', expected: { size: [3, 3], stride: ['1/2', '1/2'], padding: [1, 1] } },
  { name: 'bilinear with align_corners to 2H−1: every other pixel on an input pixel', body: 'upsample size=33x33 mode=bilinear align_corners=true\nconv 1 k=2', input: '1x17x17', expected: { size: [2, 2], stride: ['1/2', '1/2'], padding: [0, 0] }, rule: [2.5, 2.5] },
  { name: 'nearest to a size (4/7 of an input pixel per pixel) then a 3×3 conv', body: 'upsample size=28x42\nconv 1 k=3', input: '1x16x24', expected: { size: [3, 3], stride: ['4/7', '4/7'], padding: [0, 0] }, rule: [2.142857142857143, 2.142857142857143] },
  {
    name: 'convtranspose k=3 s=2 p=1 op=1 then a 3×3 conv',
    body: 'convtranspose 1 k=3 s=2 p=1 op=1\nconv 1 k=3 p=1',
    input: '1x16x16',
    expected: { size: [3, 3], stride: ['1/2', '1/2'], padding: [1, 1] },
  },
  {
    name: 'two convtranspose k=4 s=2 p=1: a quarter pixel per pixel',
    body: 'convtranspose 2 k=4 s=2 p=1\nrelu\nconvtranspose 1 k=4 s=2 p=1',
    input: '1x12x12',
    expected: { size: [3, 3], stride: ['1/4', '1/4'], padding: [1, 1] },
  },
  {
    name: 'convtranspose k=2 s=2 then a 2×2 conv: fields of one and two pixels',
    body: 'convtranspose 1 k=2 s=2\nconv 1 k=2',
    input: '1x16x16',
    expected: { size: [2, 2], stride: ['1/2', '1/2'], padding: [0, 0] },
    rule: [1.5, 1.5],
  },
  {
    name: 'convtranspose with dilation 3 and stride 2: neighbouring fields interleave',
    body: 'convtranspose 1 k=3 s=2 d=3\nconv 1 k=2',
    input: '1x16x16',
    margin: 4,
    expected: { size: [4, 4], stride: ['1/2', '1/2'], padding: [3, 3] },
  },
  {
    name: 'convtranspose k=2 s=3: a third of its pixels only see the bias',
    body: 'convtranspose 1 k=2 s=3 p=1\nconv 1 k=3 p=1',
    input: '1x12x12',
    expected: { size: [2, 2], stride: ['1/3', '1/3'], padding: [0, 0] },
    rule: [1 + 2 / 3, 1 + 2 / 3],
  },
  {
    name: 'where r += (k−1)·j undercounts: nearest ×2, conv 2, the odd pixels, ×2 again, conv 2',
    body: 'upsample 2\nconv 1 k=2\nconv 1 k=1 s=2 p=1\nupsample 2\nconv 1 k=2',
    input: '1x24x24',
    expected: { size: [3, 3], stride: ['1/2', '1/2'], padding: [1, 1] },
    rule: [2, 2],
  },
  {
    name: 'height and width apart: nearest 2x3, convtranspose 3x2 s=2x1, conv 1x3',
    body: 'upsample 2x3\nconvtranspose 1 k=3x2 s=2x1 p=1x0\nconv 1 k=1x3',
    input: '1x10x10',
    expected: { size: [2, 2], stride: ['1/4', '1/3'], padding: [0, 1] },
  },
  {
    name: 'a U-Net: two levels down by conv and pool, up by convtranspose and by bilinear upsampling, concatenated with the skips',
    body: [
      'conv 2 k=3 p=1',
      'concat {',
      '  branch { }',
      '  branch {',
      '    avgpool 2; conv 2 k=3 p=1',
      '    concat {',
      '      branch { }',
      '      branch { avgpool 2; conv 2 k=3 p=1; convtranspose 2 k=2 s=2 }',
      '    }',
      '    conv 2 k=3 p=1',
      '    upsample 2 mode=bilinear',
      '  }',
      '}',
      'conv 1 k=3 p=1',
    ].join('\n'),
    input: '1x48x48',
    // The rule would give the upsampling 24 (not 26) and the output padding 14 (not 11).
    expected: { size: [26, 26], stride: ['1', '1'], padding: [11, 11] },
  },
  {
    name: "examples/unet.cnn's four levels with one channel: 204 pixels at the head, where r += (k−1)·j gives 200",
    body: [
      'DoubleConv',
      'concat {',
      '  branch { }',
      '  branch {',
      '    maxpool 2; DoubleConv',
      '    concat {',
      '      branch { }',
      '      branch {',
      '        maxpool 2; DoubleConv',
      '        concat {',
      '          branch { }',
      '          branch {',
      '            maxpool 2; DoubleConv',
      '            concat { branch { } branch { maxpool 2; DoubleConv; convtranspose 1 k=2 s=2 } }',
      '            DoubleConv; convtranspose 1 k=2 s=2',
      '          }',
      '        }',
      '        DoubleConv; convtranspose 1 k=2 s=2',
      '      }',
      '    }',
      '    DoubleConv; convtranspose 1 k=2 s=2',
      '  }',
      '}',
      'DoubleConv',
      'conv 1 k=1',
    ].join('\n'),
    blocks: 'block DoubleConv { conv 1 k=3 p=1; relu; conv 1 k=3 p=1; relu }',
    input: '1x16x256',
    dims: [1],
    expected: { size: [204, 204], stride: ['1', '1'], padding: [94, 94] },
  },
];

describe('receptive fields through upsampling and transposed convolutions, against brute force', () => {
  for (const c of cases) {
    it(c.name, () => {
      const net = analyse(c.body, c.input, c.blocks);
      const rf = net.layers[net.graph.output].rf!;
      const brute = bruteForce(net);
      let checked = 0;
      for (const [id, fields] of brute) {
        const l = net.layers[id];
        for (const dim of c.dims ?? [0, 1]) {
          const m = measure(fields[dim], net.input![dim + 1], l.rf!.stride[dim], c.margin);
          // Every layer with room for its pattern is checked; the output always.
          if (!m && id !== net.graph.output && fields[dim].length < 16) continue;
          const what = `${net.graph.nodes[id].path} (${net.graph.nodes[id].attrs.kind}), dimension ${dim}`;
          expect(m, `${what}: its fields repeat with the stride ${ratioText(l.rf!.stride[dim])}`).toBeDefined();
          expect({ size: m!.size, padding: m!.padding }, `${what}: ${JSON.stringify(m)}`).toEqual({ size: l.rf!.size[dim], padding: l.rf!.padding[dim] });
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(2);
      expect({ size: rf.size, stride: rf.stride.map(ratioText), padding: rf.padding }).toEqual(c.expected);
      if (c.rule) {
        // The plain rule composed through the same own fields: where it differs, the pixel-by-pixel count is the true one.
        let r = [1, 1];
        let j = [1, 1];
        for (const l of net.layers) {
          if (!l.ownField || l.node === 0) continue;
          r = r.map((v, i) => v + (l.ownField!.size[i] - 1) * j[i]);
          j = j.map((v, i) => v * l.ownField!.stride[i]);
        }
        expect(r).toEqual(c.rule);
        expect(r).not.toEqual(rf.size);
      }
    });
  }
});
