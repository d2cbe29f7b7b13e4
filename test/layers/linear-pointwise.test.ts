/** `linear N pointwise=true` (ConvNeXt's nn.Linear between Permutes) through the harness: every backend and export against PyTorch. */
import { kindSuite } from './harness';

kindSuite('linear pointwise=true against PyTorch', [
  { name: 'linear pointwise: each position, weight N x C', input: [3, 4, 5], body: 'linear 6 pointwise=true' },
  { name: 'linear pointwise without bias, then gelu and back', input: [4, 3, 3], body: 'linear 8 pointwise=true bias=false\ngelu\nlinear 4 pointwise=true' },
  { name: "ConvNeXt's block: dw conv, layernorm, two pointwise linears, a layer scale, in a residual", input: [4, 5, 5], body: 'residual {\n  conv 4 k=7 p=3 g=4\n  layernorm eps=1e-6\n  linear 16 pointwise=true\n  gelu\n  linear 4 pointwise=true\n  scale 0.5\n}' },
  { name: 'linear pointwise with a batch norm after it (folded), on a flat input it is a plain linear', input: [3, 4, 4], body: 'linear 5 pointwise=true\nbn\nrelu\nflatten\nlinear 3 pointwise=true' },
]);
