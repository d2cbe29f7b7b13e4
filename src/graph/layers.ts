/**
 * The layer catalogue: every layer keyword, its arguments with aliases, defaults and a line of
 * documentation. Expansion resolves arguments against it; the language server uses it for
 * completion and hover.
 */

export type ArgType =
  /** a positive integer */
  | 'int'
  /** a non-negative integer */
  | 'count'
  /** an integer or a height x width pair of positive integers */
  | 'size'
  /** like size but non-negative, or `same` */
  | 'pad'
  | 'bool'
  /** any number */
  | 'number'
  /** `0 <= p < 1` */
  | 'prob'
  /** `CxHxW` or `N` */
  | 'shape';

export interface ArgSpec {
  name: string;
  aliases: string[];
  type: ArgType;
  /** Shown in completion and hover; absent for required arguments. */
  default?: string;
  required?: boolean;
  /** May be written without its name, in this order. */
  positional?: boolean;
  doc: string;
}

export interface LayerSpec {
  keyword: string;
  aliases: string[];
  args: ArgSpec[];
  doc: string;
  /** Output shape in words, for completion and hover. */
  output: string;
}

const k: ArgSpec = { name: 'k', aliases: ['kernel', 'kernel_size'], type: 'size', required: true, doc: 'kernel size: `3`, `1x7` or `(e1, e2)`' };
const d: ArgSpec = { name: 'd', aliases: ['dilation'], type: 'size', default: '1', doc: 'dilation: the gap between kernel taps' };

export const LAYERS: LayerSpec[] = [
  {
    keyword: 'input',
    aliases: [],
    args: [{ name: 'shape', aliases: [], type: 'shape', required: true, positional: true, doc: '`CxHxW` for images, `N` for a flat input' }],
    doc: 'The network input. The batch is a run setting, not part of the shape.',
    output: 'the given shape',
  },
  {
    keyword: 'conv',
    aliases: ['conv2d'],
    args: [
      { name: 'out', aliases: ['channels', 'out_channels'], type: 'int', required: true, positional: true, doc: 'output channels' },
      { ...k, positional: true },
      { name: 's', aliases: ['stride'], type: 'size', default: '1', doc: 'stride' },
      { name: 'p', aliases: ['pad', 'padding'], type: 'pad', default: '0', doc: 'zero padding per side, or `same` for `D*(K-1)/2`' },
      d,
      { name: 'g', aliases: ['groups'], type: 'int', default: '1', doc: 'groups: each output channel sees `C_in/g` input channels' },
      { name: 'bias', aliases: [], type: 'bool', default: 'true', doc: 'add a learned bias per output channel' },
    ],
    doc: '2-D convolution, as `torch.nn.Conv2d`.',
    output: "C x H' x W', H' = floor((H + 2P - D(K-1) - 1)/S) + 1",
  },
  {
    keyword: 'linear',
    aliases: ['fc'],
    args: [
      { name: 'out', aliases: ['features', 'out_features'], type: 'int', required: true, positional: true, doc: 'output features' },
      { name: 'bias', aliases: [], type: 'bool', default: 'true', doc: 'add a learned bias per output' },
    ],
    doc: 'Fully connected layer, as `torch.nn.Linear`; its input must be flat (`flatten` first).',
    output: 'N',
  },
  {
    keyword: 'bn',
    aliases: ['batchnorm'],
    args: [{ name: 'eps', aliases: [], type: 'number', default: '1e-5', doc: 'added to the variance before the square root' }],
    doc: 'Batch normalisation in inference mode: 2·C learned parameters, running mean and variance as buffers.',
    output: 'same as input',
  },
  { keyword: 'relu', aliases: [], args: [], doc: 'max(x, 0)', output: 'same as input' },
  { keyword: 'sigmoid', aliases: [], args: [], doc: '1 / (1 + e^-x)', output: 'same as input' },
  { keyword: 'tanh', aliases: [], args: [], doc: 'hyperbolic tangent', output: 'same as input' },
  {
    keyword: 'leakyrelu',
    aliases: [],
    args: [{ name: 'slope', aliases: ['negative_slope'], type: 'number', default: '0.01', positional: true, doc: 'slope for x < 0' }],
    doc: 'x for x >= 0, slope·x otherwise',
    output: 'same as input',
  },
  { keyword: 'softmax', aliases: [], args: [], doc: 'softmax over channels (or features of a flat tensor)', output: 'same as input' },
  ...(['maxpool', 'avgpool'] as const).map(
    (kw): LayerSpec => ({
      keyword: kw,
      aliases: [],
      args: [
        { ...k, positional: true },
        { name: 's', aliases: ['stride'], type: 'size', default: 'k', doc: 'stride; defaults to the kernel' },
        { name: 'p', aliases: ['pad', 'padding'], type: 'size', default: '0', doc: 'implicit padding per side' },
        { name: 'ceil', aliases: ['ceil_mode'], type: 'bool', default: 'false', doc: 'round the output size up (the last window must start inside the input or left padding)' },
      ],
      doc:
        kw === 'maxpool'
          ? 'Max pooling, as `torch.nn.MaxPool2d`.'
          : 'Average pooling, as `torch.nn.AvgPool2d` (padding counts in the average).',
      output: "C x H' x W'",
    }),
  ),
  { keyword: 'gap', aliases: ['globalavgpool'], args: [], doc: 'Global average pool.', output: 'C x 1 x 1' },
  {
    keyword: 'adaptiveavgpool',
    aliases: [],
    args: [{ name: 'size', aliases: ['output_size'], type: 'size', required: true, positional: true, doc: 'output `HxW`' }],
    doc: "PyTorch's AdaptiveAvgPool2d: windows from floor(i·H/h) to ceil((i+1)·H/h).",
    output: 'C x H x W',
  },
  {
    keyword: 'lrn',
    aliases: [],
    args: [
      { name: 'size', aliases: [], type: 'int', default: '5', positional: true, doc: 'channels in the window' },
      { name: 'alpha', aliases: [], type: 'number', default: '1e-4', doc: 'scale' },
      { name: 'beta', aliases: [], type: 'number', default: '0.75', doc: 'exponent' },
      { name: 'k', aliases: [], type: 'number', default: '2', doc: 'additive constant' },
    ],
    doc: 'Local response normalisation across channels, as `torch.nn.LocalResponseNorm`.',
    output: 'same as input',
  },
  {
    keyword: 'dropout',
    aliases: [],
    args: [{ name: 'p', aliases: [], type: 'prob', default: '0.5', positional: true, doc: 'drop probability in training; identity at inference' }],
    doc: 'Dropout: identity at inference.',
    output: 'same as input',
  },
  { keyword: 'flatten', aliases: [], args: [], doc: 'C x H x W -> C·H·W', output: 'C·H·W' },
];

const BY_NAME = new Map<string, LayerSpec>();
for (const spec of LAYERS) for (const name of [spec.keyword, ...spec.aliases]) BY_NAME.set(name, spec);

export function layerSpec(name: string): LayerSpec | undefined {
  return BY_NAME.get(name);
}

export function allLayerNames(): string[] {
  return [...BY_NAME.keys()];
}

export function argSpec(layer: LayerSpec, name: string): ArgSpec | undefined {
  return layer.args.find((a) => a.name === name || a.aliases.includes(name));
}

/** Edit distance with adjacent transpositions ('rleu' is one edit from 'relu'), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name, c);
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  // One- and two-letter names are too short for a guess to mean anything.
  const allowed = name.length < 3 ? 0 : Math.max(1, Math.floor(name.length / 3));
  return best !== undefined && bestD <= allowed ? best : undefined;
}
