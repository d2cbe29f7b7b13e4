/** `linear N` (alias `fc`): fully connected, as torch.nn.Linear; its input must be flat. */
import { formatShape, numel, type LayerDef, type TensorSpec } from './types';

export interface LinearAttrs {
  kind: 'linear';
  out: number;
  bias: boolean;
}

const DOT = '·';

export const linear: LayerDef<LinearAttrs> = {
  kind: 'linear',
  family: 'linear',
  spec: {
    keyword: 'linear',
    aliases: ['fc'],
    args: [
      { name: 'out', aliases: ['features', 'out_features'], type: 'int', required: true, positional: true, doc: 'output features' },
      { name: 'bias', aliases: [], type: 'bool', default: 'true', doc: 'add a learned bias per output' },
    ],
    doc: 'Fully connected layer, as `torch.nn.Linear`; its input must be flat (`flatten` first).',
    output: 'N',
  },
  build: (args) => ({ kind: 'linear', out: args.num('out', 1), bias: args.bool('bias', true) }),
  shape(a, [x], ctx) {
    if (x.length !== 1) {
      const at = ctx.start;
      ctx.report({
        code: 'needs-flat',
        severity: 'error',
        message: `linear needs a flat input, but gets ${formatShape(x)}: insert 'flatten' (giving ${numel(x)}) or 'gap' then 'flatten' before it`,
        fixes: [{ title: "Insert 'flatten' before this layer", edits: [{ range: { start: at, end: at }, newText: `flatten\n${' '.repeat(at.character)}` }] }],
      });
    }
    // Counting as if flattened keeps the figures downstream meaningful.
    return [a.out];
  },
  params: (a, x) => a.out * numel(x) + (a.bias ? a.out : 0),
  tensors: (a, x) => {
    const t: TensorSpec[] = [{ role: 'weight', shape: [a.out, numel(x)], kind: 'param' }];
    if (a.bias) t.push({ role: 'bias', shape: [a.out], kind: 'param' });
    return t;
  },
  macs: (a, x) => numel(x) * a.out,
  ops: (a, _x, y) => (a.bias ? numel(y) : 0),
  field: () => null,
  formulas(a, x, _y, f) {
    const n = numel(x);
    return [
      `params = ${n}${DOT}${a.out}${a.bias ? ` + ${a.out}` : ''} = ${f.grouped(f.params)}`,
      f.flops === '2xmac' ? `FLOPs = 2${DOT}${n}${DOT}${a.out} = ${f.grouped(2 * f.macs)}` : `MACs = ${n}${DOT}${a.out} = ${f.grouped(f.macs)}`,
    ];
  },
  describe: (a) => `linear ${a.out}`,
  fusion: { foldsBatchNorm: true, takesActivation: true },
};
