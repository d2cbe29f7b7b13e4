/**
 * The receptive field the Run tab draws on the input (webview/src/rf-view.ts), checked against
 * PyTorch: with all-ones weights and a positive input, the input pixels with a nonzero gradient
 * of one output unit are exactly that unit's field inside the image. Every unit of every layer of
 * a small stack with padding, a pool and a strided conv (fields that start in the padding, run
 * past the far border, and grow by the effective stride).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { fieldGeometry, fmt } from '../../webview/src/rf-view';
import { isCI, torchPython } from '../export/helpers';

const python = torchPython();

const NET = `network Fields {
  input 1x20x19
  conv 1 k=3 p=1 bias=false
  avgpool k=2
  conv 1 k=3 s=2 p=1 bias=false
  conv 1 k=5 p=2 bias=false
}`;

/** The same stack in PyTorch; per layer, per unit: the bounding box [y0, y1, x0, x1) of the input gradient. */
const TORCH = `
import json, torch
from torch import nn
layers = [nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False), nn.Conv2d(1, 1, 5, padding=2, bias=False)]
for l in layers:
    if hasattr(l, 'weight'): nn.init.ones_(l.weight)
out = []
for depth in range(1, len(layers) + 1):
    boxes = []
    x = torch.ones(1, 1, 20, 19, requires_grad=True)
    y = nn.Sequential(*layers[:depth])(x)
    H, W = y.shape[2], y.shape[3]
    for i in range(H):
        for j in range(W):
            g, = torch.autograd.grad(y[0, 0, i, j], x, retain_graph=True)
            nz = (g[0, 0] != 0).nonzero()
            boxes.append([int(nz[:, 0].min()), int(nz[:, 0].max()) + 1, int(nz[:, 1].min()), int(nz[:, 1].max()) + 1])
    out.append({'shape': [H, W], 'boxes': boxes})
print(json.dumps(out))
`;

describe('the receptive field drawn on the input', () => {
  it.skipIf(!python && !isCI)('is, for every unit of every layer, the input region whose gradient PyTorch finds nonzero, clipped at the borders', () => {
    const r = spawnSync(python ?? 'python3', ['-c', TORCH], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const torch = JSON.parse(r.stdout) as { shape: [number, number]; boxes: number[][] }[];
    const net = analyzeText(NET).networks[0];
    expect(net.input).toEqual([1, 20, 19]);
    const layers = net.graph.nodes.filter((n) => n.attrs.kind !== 'input');
    expect(layers.length).toBe(torch.length);
    layers.forEach((n, k) => {
      const info = net.layers[n.id];
      const [, Ho, Wo] = info.shape!;
      expect([Ho, Wo]).toEqual(torch[k].shape);
      let padded = 0;
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const g = fieldGeometry(info.rf!, [20, 19], [Ho, Wo], i, j);
          expect([g.inside.y0, g.inside.y1, g.inside.x0, g.inside.x1], `${n.path} unit (${i}, ${j})`).toEqual(torch[k].boxes[i * Wo + j]);
          // The whole field is the size the analysis gives; what is outside the image is the padded share.
          expect([g.y1 - g.y0, g.x1 - g.x0]).toEqual(info.rf!.size);
          const kept = (g.inside.y1 - g.inside.y0) * (g.inside.x1 - g.inside.x0);
          expect(g.paddedFraction).toBeCloseTo(1 - kept / (info.rf!.size[0] * info.rf!.size[1]), 12);
          if (g.paddedFraction > 0) padded++;
          // The view's margin holds every unit's field of this layer.
          expect(Math.max(-g.x0, -g.y0, g.x1 - 19, g.y1 - 20)).toBeLessThanOrEqual(g.reach);
        }
      // The border units' fields reach into the padding.
      expect(padded).toBeGreaterThan(0);
    });
  }, 60_000);

  it('writes fractional figures (upsampling strides) to two decimals, integers as they are', () => {
    expect([fmt(4), fmt(-3), fmt(0.5), fmt(1 / 3), fmt(2.25)]).toEqual(['4', '-3', '0.5', '0.33', '2.25']);
  });
});
