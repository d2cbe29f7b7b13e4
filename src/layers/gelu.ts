/** `gelu`: x · Φ(x), Φ the standard normal CDF, as torch.nn.GELU; `approximate=tanh` is PyTorch's tanh form. */
import { activation } from './pointwise';

export interface GeluAttrs {
  kind: 'gelu';
  /** PyTorch's `approximate`: 'none' is the exact erf form. */
  approximate: 'none' | 'tanh';
}

export const gelu = activation<GeluAttrs>(
  'gelu',
  'x · Φ(x), Φ the standard normal CDF, as torch.nn.GELU',
  (args) => ({ kind: 'gelu', approximate: args.get('approximate') === 'tanh' ? 'tanh' : 'none' }),
  {
    args: [
      {
        name: 'approximate',
        aliases: [],
        type: 'choice',
        choices: ['none', 'tanh'],
        default: 'none',
        doc: "none: exact, 0.5·x·(1 + erf(x/√2)); tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as PyTorch's approximate='tanh'",
      },
    ],
    describe: (a) => (a.approximate === 'tanh' ? 'gelu tanh' : 'gelu'),
    // Φ (erf or tanh, with its scaling), then its product with x.
    ops: 2,
    formula: (a) => (a.approximate === 'tanh' ? 'gelu(x) ≈ 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))' : 'gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2))'),
  },
);
