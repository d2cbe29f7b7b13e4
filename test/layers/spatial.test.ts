/** Upsampling and transposed convolution through the data-driven harness: every backend and export against PyTorch. */
import { kindSuite } from './harness';

kindSuite('upsample and convtranspose against PyTorch', [
  { name: 'upsample nearest ×2 (PyTorch shifts the index)', input: [3, 5, 7], body: 'upsample 2' },
  { name: 'upsample nearest 2x3 and ×3 (float32 index arithmetic)', input: [2, 4, 5], body: 'upsample 2x3\nupsample 3' },
  { name: 'upsample nearest to a size, up in one dimension and down in the other', input: [2, 7, 9], body: 'upsample size=12x5' },
  { name: 'upsample nearest to sizes where onnxruntime\'s Resize rounds below PyTorch (14 to 16, 21 to 24)', input: [1, 14, 21], body: 'upsample size=16x24' },
  { name: 'upsample bilinear ×2, pixel centres (align_corners=false)', input: [3, 5, 6], body: 'upsample 2 mode=bilinear' },
  { name: 'upsample bilinear ×2 with align_corners', input: [3, 5, 6], body: 'upsample 2 mode=bilinear align_corners=true' },
  { name: 'upsample bilinear 3x2 then relu', input: [2, 4, 5], body: 'upsample 3x2 mode=bilinear\nrelu' },
  { name: 'upsample bilinear to a size, down and up', input: [2, 9, 6], body: 'upsample size=4x13 mode=bilinear' },
  { name: 'upsample bilinear to a size with align_corners, to one row', input: [2, 7, 6], body: 'upsample size=1x11 mode=bilinear align_corners=true' },
  { name: 'upsample bilinear to one pixel, pixel centres', input: [2, 5, 4], body: 'upsample size=1x1 mode=bilinear' },
  { name: 'convtranspose k=3 s=2 p=1 op=1 (the decoder that doubles)', input: [4, 5, 6], body: 'convtranspose 3 k=3 s=2 p=1 op=1' },
  { name: 'convtranspose k=4 s=2 p=1 without bias, then relu', input: [3, 4, 4], body: 'convtranspose 5 4 s=2 p=1 bias=false\nrelu' },
  { name: 'convtranspose with dilation, groups and output padding below the dilation', input: [4, 5, 5], body: 'convtranspose 6 k=3 s=2 d=3 g=2 op=2' },
  { name: 'convtranspose with output padding past the stride, cut from the padding or padded on', input: [2, 5, 5], body: 'convtranspose 3 k=3 s=2 d=3 p=2x1 op=2 bias=false' },
  { name: 'convtranspose with height x width arguments', input: [2, 4, 6], body: 'convtranspose 4 k=2x3 s=1x2 p=0x1 op=0x1 d=2x1 g=2' },
  { name: 'convtranspose with a stride past the kernel (outputs only the bias reaches)', input: [3, 3, 4], body: 'convtranspose 2 k=2 s=3 p=1' },
  {
    name: 'a U-Net step: down, up by convtranspose and by upsampling, concatenated with the skip',
    input: [3, 8, 8],
    body: 'conv 4 k=3 p=1\nrelu\nconcat {\n  branch { }\n  branch { maxpool 2; conv 8 k=3 p=1; relu; convtranspose 4 k=2 s=2 }\n  branch { avgpool 2; upsample 2 mode=bilinear }\n}\nconv 2 k=3 p=1',
  },
]);
