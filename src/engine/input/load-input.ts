/** An input tensor from a file's bytes (Node): an .npy used as is, or a PNG/JPEG preprocessed. */
import { decodeImage, imageHeader, sniffImage, type ImageHeader } from './decode-node';
import { isNpy, readNpy } from './npy';
import { preprocessImage, type Normalization } from './preprocess';

export interface InputOptions {
  normalization?: Normalization;
  antialias?: boolean;
}

export interface LoadedInput {
  /** `[C, H, W]` (or `[N]`) values, no batch. */
  data: Float32Array;
  format: 'npy' | 'png' | 'jpeg';
  /** The image's own size, for the human output. */
  imageSize?: [number, number];
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * What an input file is, from its headers alone and before anything is decoded: an .npy, or
 * an image with its size (so that the caller can weigh the decoding against a memory budget).
 * Throws one-line errors for files of another kind or that cannot feed this input.
 */
export function inspectInput(bytes: Uint8Array, inputShape: readonly number[]): { kind: 'npy' } | { kind: 'image'; header: ImageHeader } {
  if (isNpy(bytes)) return { kind: 'npy' };
  if (!sniffImage(bytes)) throw new Error('not a PNG, JPEG or .npy file');
  if (inputShape.length !== 3) throw new Error(`an image cannot feed the flat input ${fmt(inputShape)}; give an .npy array`);
  return { kind: 'image', header: imageHeader(bytes) };
}

export function loadInput(bytes: Uint8Array, inputShape: readonly number[], opts: InputOptions = {}): LoadedInput {
  const kind = inspectInput(bytes, inputShape);
  if (kind.kind === 'npy') {
    const a = readNpy(bytes);
    const exact = a.shape.length === inputShape.length && a.shape.every((d, i) => d === inputShape[i]);
    const batched = a.shape.length === inputShape.length + 1 && a.shape[0] === 1 && a.shape.slice(1).every((d, i) => d === inputShape[i]);
    if (!exact && !batched) throw new Error(`the array has shape ${fmt(a.shape)}; the network's input is ${fmt(inputShape)} (optionally with a leading batch of 1)`);
    return { data: a.data, format: 'npy' };
  }
  const px = decodeImage(bytes);
  const [channels, height, width] = inputShape;
  return { data: preprocessImage(px, { channels, height, width, ...opts }), format: kind.header.format, imageSize: [px.width, px.height] };
}
