/** `leakyrelu`: x for x >= 0, slope·x otherwise, as torch.nn.LeakyReLU. */
import { activation } from './pointwise';

export interface LeakyReluAttrs {
  kind: 'leakyrelu';
  slope: number;
}

export const leakyrelu = activation<LeakyReluAttrs>(
  'leakyrelu',
  'x for x >= 0, slope·x otherwise',
  (args) => ({ kind: 'leakyrelu', slope: args.num('slope', 0.01) }),
  {
    args: [{ name: 'slope', aliases: ['negative_slope'], type: 'number', default: '0.01', positional: true, doc: 'slope for x < 0' }],
    describe: (a) => `leakyrelu ${a.slope}`,
  },
);
