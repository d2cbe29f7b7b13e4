/**
 * Image preprocessing shared by the CLI (pixels from pngjs / jpeg-js) and the webview (pixels
 * from createImageBitmap + a canvas's getImageData): no Node or DOM APIs here. The steps are
 * torchvision's Resize(short side) + CenterCrop + ToTensor + Normalize: resize so the image just
 * covers the input H x W, crop the centre, scale to [0, 1], subtract the mean and divide by the
 * standard deviation per channel.
 */

/** Pixels as ImageData holds them: RGBA, 4 bytes per pixel, rows top to bottom. */
export interface RgbaPixels {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface Normalization {
  mean: number[];
  std: number[];
}

export interface PreprocessOptions {
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  height: number;
  width: number;
  /** Default: ImageNet's for 3 channels, none (mean 0, std 1) for 1. */
  normalization?: Normalization;
  /** Low-pass when shrinking, as PIL and torchvision's antialias=True (the default); false: plain bilinear. */
  antialias?: boolean;
}

export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export function defaultNormalization(channels: number): Normalization {
  return channels === 3 ? IMAGENET_NORMALIZATION : { mean: new Array(channels).fill(0), std: new Array(channels).fill(1) };
}

/** Python's round(): halves to even, as torchvision's CenterCrop computes its offsets. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface ResizeGeometry {
  /** Size after resizing, before the crop: at least the target in both dimensions, equal in one. */
  resizedHeight: number;
  resizedWidth: number;
  /** The crop's offset in the resized image. */
  top: number;
  left: number;
}

/** The resize that makes the image just cover `height x width` (the short side matching, for a square target), then the centred crop. */
export function resizeGeometry(srcHeight: number, srcWidth: number, height: number, width: number): ResizeGeometry {
  let resizedHeight: number;
  let resizedWidth: number;
  if (height / srcHeight >= width / srcWidth) {
    resizedHeight = height;
    resizedWidth = Math.max(width, Math.floor((srcWidth * height) / srcHeight));
  } else {
    resizedWidth = width;
    resizedHeight = Math.max(height, Math.floor((srcHeight * width) / srcWidth));
  }
  return { resizedHeight, resizedWidth, top: roundHalfEven((resizedHeight - height) / 2), left: roundHalfEven((resizedWidth - width) / 2) };
}

interface Taps {
  first: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per output index. */
  weights: Float32Array;
  maxTaps: number;
}

/**
 * Weights of a triangle (bilinear) filter for output indices `offset .. offset+count-1` of an
 * axis resized from `src` to `resized`, as PIL computes them: pixel centres at i + 0.5, the
 * filter widened by the shrink factor when antialiasing, taps outside the image dropped and
 * the rest renormalised (which equals edge clamping for plain bilinear).
 */
export function resampleTaps(src: number, resized: number, offset: number, count: number, antialias: boolean): Taps {
  const scale = src / resized;
  const filterScale = antialias ? Math.max(1, scale) : 1;
  const support = filterScale; // the triangle's radius is 1 in filter units
  const maxTaps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(count);
  const num = new Int32Array(count);
  const weights = new Float32Array(count * maxTaps);
  for (let o = 0; o < count; o++) {
    const centre = (o + offset + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(src, Math.ceil(centre + support));
    let total = 0;
    let n = 0;
    const w = new Float64Array(hi - lo);
    for (let j = lo; j < hi; j++) {
      const t = 1 - Math.abs((j + 0.5 - centre) / filterScale);
      w[j - lo] = t > 0 ? t : 0;
      total += w[j - lo];
    }
    // Trim zero-weight taps at both ends so that the loops below stay short.
    let a = 0;
    let b = hi - lo;
    while (a < b && w[a] === 0) a++;
    while (b > a && w[b - 1] === 0) b--;
    first[o] = lo + a;
    for (let j = a; j < b; j++) weights[o * maxTaps + n++] = total > 0 ? w[j] / total : 0;
    num[o] = n;
  }
  return { first, count: num, weights, maxTaps };
}

/** Per-pixel value in [0, 1] for channel `c` of the target (luma for one channel, as PIL's convert('L')). */
function planes(px: RgbaPixels, channels: number): Float32Array[] {
  const n = px.width * px.height;
  const d = px.data;
  if (channels === 1) {
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = (d[4 * i] * 0.299 + d[4 * i + 1] * 0.587 + d[4 * i + 2] * 0.114) / 255;
    return [g];
  }
  const out = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c][i] = d[4 * i + c] / 255;
  return out;
}

/** Resizes, crops, scales and normalises an image into a `[C, H, W]` float32 array (no batch). */
export function preprocessImage(px: RgbaPixels, opts: PreprocessOptions): Float32Array {
  const { channels: C, height: H, width: W } = opts;
  if (C !== 1 && C !== 3) throw new Error(`an image can feed a 1- or 3-channel input, not ${C} channels; give an .npy array instead`);
  if (px.width < 1 || px.height < 1) throw new Error('the image is empty');
  if (px.data.length < px.width * px.height * 4) throw new Error(`pixel data too short for ${px.width}x${px.height} RGBA`);
  const norm = opts.normalization ?? defaultNormalization(C);
  if (norm.mean.length !== C || norm.std.length !== C) throw new Error(`mean and std need ${C} values each for a ${C}-channel input`);
  if (norm.std.some((s) => s === 0)) throw new Error('std must not be 0');
  const antialias = opts.antialias ?? true;
  const g = resizeGeometry(px.height, px.width, H, W);
  const rows = resampleTaps(px.height, g.resizedHeight, g.top, H, antialias);
  const cols = resampleTaps(px.width, g.resizedWidth, g.left, W, antialias);
  const out = new Float32Array(C * H * W);
  const tmp = new Float32Array(px.height * W);
  planes(px, C).forEach((plane, c) => {
    // Horizontal pass over every source row, then the vertical pass into the crop.
    for (let y = 0; y < px.height; y++) {
      const row = y * px.width;
      for (let x = 0; x < W; x++) {
        let s = 0;
        const f = cols.first[x];
        const base = x * cols.maxTaps;
        for (let t = 0; t < cols.count[x]; t++) s += cols.weights[base + t] * plane[row + f + t];
        tmp[y * W + x] = s;
      }
    }
    const mean = norm.mean[c];
    const std = norm.std[c];
    for (let y = 0; y < H; y++) {
      const f = rows.first[y];
      const base = y * rows.maxTaps;
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let t = 0; t < rows.count[y]; t++) s += rows.weights[base + t] * tmp[(f + t) * W + x];
        out[(c * H + y) * W + x] = (s - mean) / std;
      }
    }
  });
  return out;
}
