import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, sniffImage } from '../../src/engine/input/decode-node';
import { loadInput } from '../../src/engine/input/load-input';
import { IMAGENET_NORMALIZATION, preprocessImage, resizeGeometry, type RgbaPixels } from '../../src/engine/input/preprocess';
import { expectValues } from './helpers';

/** A gray image whose pixel (x, y) has the value 1 + y * width + x. */
function ramp(width: number, height: number): RgbaPixels {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.fill(1 + i, 4 * i, 4 * i + 3), (data[4 * i + 3] = 255);
  return { width, height, data };
}

const times255 = (a: Float32Array) => Array.from(a, (v) => v * 255);

describe('resize geometry', () => {
  it('square target: the short side matches, the long side is cropped at the centre', () => {
    expect(resizeGeometry(480, 640, 224, 224)).toEqual({ resizedHeight: 224, resizedWidth: 298, top: 0, left: 37 });
    expect(resizeGeometry(640, 480, 224, 224)).toEqual({ resizedHeight: 298, resizedWidth: 224, top: 37, left: 0 });
  });
  it('crop offsets round halves to even, as torchvision', () => {
    expect(resizeGeometry(2, 5, 2, 2).left).toBe(2); // (5 - 2) / 2 = 1.5 -> 2
    expect(resizeGeometry(2, 7, 2, 2).left).toBe(2); // 2.5 -> 2
  });
});

describe('preprocessImage', () => {
  it('crops the centre without resampling when sizes match', () => {
    // 4 wide, 2 high -> 2x2: columns 1 and 2.
    const out = preprocessImage(ramp(4, 2), { channels: 1, height: 2, width: 2 });
    expectValues(Float32Array.from(times255(out)), [2, 3, 6, 7], 1e-4);
  });

  it('shrinks with antialiasing as PIL does (8x6 -> 3x2)', () => {
    const out = preprocessImage(ramp(8, 6), { channels: 1, height: 2, width: 3 });
    expectValues(Float32Array.from(times255(out)), [12.1053, 14.5, 16.8947, 32.1053, 34.5, 36.8947], 1e-3);
  });

  it('shrinks as plain bilinear (torch, antialias=False) when asked', () => {
    const out = preprocessImage(ramp(8, 6), { channels: 1, height: 2, width: 3, antialias: false });
    expectValues(Float32Array.from(times255(out)), [9.8333, 12.5, 15.1667, 33.8333, 36.5, 39.1667], 1e-3);
  });

  it('enlarges as PIL bilinear (8x6 -> 12x9)', () => {
    const out = Float32Array.from(times255(preprocessImage(ramp(8, 6), { channels: 1, height: 9, width: 12 })));
    const rows = [0, 4, 8].map((r) => Array.from(out.subarray(r * 12, r * 12 + 12)));
    const pil = [1, 1.5, 2.1667, 2.8333, 3.5, 4.1667, 4.8333, 5.5, 6.1667, 6.8333, 7.5, 8];
    rows.forEach((row, i) => expectValues(Float32Array.from(row), pil.map((v) => v + 20 * i), 1e-3));
  });

  it('normalises per channel: ImageNet mean and std by default for RGB', () => {
    const data = new Uint8Array([255, 0, 51, 255]); // one pixel
    const out = preprocessImage({ width: 1, height: 1, data }, { channels: 3, height: 1, width: 1 });
    const { mean, std } = IMAGENET_NORMALIZATION;
    expectValues(out, [(1 - mean[0]) / std[0], (0 - mean[1]) / std[1], (0.2 - mean[2]) / std[2]], 1e-5);
    const custom = preprocessImage({ width: 1, height: 1, data }, { channels: 3, height: 1, width: 1, normalization: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
    expectValues(custom, [1, -1, -0.6], 1e-5);
  });

  it('converts RGB to luma for one channel (ITU-R 601, as PIL convert("L"))', () => {
    const out = preprocessImage({ width: 1, height: 1, data: new Uint8Array([200, 100, 50, 255]) }, { channels: 1, height: 1, width: 1 });
    expectValues(out, [(200 * 0.299 + 100 * 0.587 + 50 * 0.114) / 255], 1e-6);
  });

  it('refuses inputs an image cannot feed', () => {
    expect(() => preprocessImage(ramp(2, 2), { channels: 4, height: 2, width: 2 })).toThrow(/1- or 3-channel/);
  });
});

describe('decoding', () => {
  it('PNG: a hand-made 3x2 RGB image through resize, crop and normalise', () => {
    const png = new PNG({ width: 3, height: 2 });
    const px = [
      [255, 0, 0], [0, 255, 0], [0, 0, 255],
      [10, 20, 30], [40, 50, 60], [70, 80, 90],
    ];
    px.forEach((c, i) => png.data.set([...c, 255], 4 * i));
    const bytes = PNG.sync.write(png);
    expect(sniffImage(bytes)).toBe('png');
    // 3 wide, 2 high -> 2x2 keeps the height; the width 3 crops at left = round(0.5) = 0.
    const input = loadInput(bytes, [3, 2, 2], { normalization: { mean: [0, 0, 0], std: [1, 1, 1] } });
    expect(input.format).toBe('png');
    expect(input.imageSize).toEqual([3, 2]);
    const r = [255, 0, 10, 40].map((v) => v / 255);
    const g = [0, 255, 20, 50].map((v) => v / 255);
    const b = [0, 0, 30, 60].map((v) => v / 255);
    expectValues(input.data, [...r, ...g, ...b], 1e-6);
  });

  it('JPEG: a flat colour survives encoding within a few levels, then is normalised', () => {
    const w = 16;
    const h = 16;
    const data = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set([200, 120, 40, 255], 4 * i);
    const bytes = jpeg.encode({ width: w, height: h, data }, 95).data;
    expect(sniffImage(bytes)).toBe('jpeg');
    const px = decodeImage(bytes);
    expect([px.width, px.height]).toEqual([16, 16]);
    const input = loadInput(bytes, [3, 4, 4]);
    const { mean, std } = IMAGENET_NORMALIZATION;
    [200, 120, 40].forEach((v, c) => {
      for (let i = 0; i < 16; i++) expect(Math.abs(input.data[c * 16 + i] - (v / 255 - mean[c]) / std[c])).toBeLessThan(3 / 255 / std[c]);
    });
  });

  it('damaged and foreign files are one-line errors', () => {
    const png = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), {}));
    expect(() => decodeImage(png.subarray(0, 30))).toThrow(/^truncated PNG file$/);
    expect(() => loadInput(new TextEncoder().encode('hello'), [3, 2, 2])).toThrow(/not a PNG, JPEG or \.npy file/);
    expect(() => loadInput(png, [10])).toThrow(/cannot feed the flat input \[10\]/);
  });
});
