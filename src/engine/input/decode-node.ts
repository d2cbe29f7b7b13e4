/**
 * Image decoding for Node: PNG through pngjs, JPEG through jpeg-js, both to RGBA as a browser's
 * ImageData. The headers are read here first, so that a damaged or hostile file is refused in
 * one line before a decoder allocates for it: pngjs alone spends 24 s and 3 GB on a 69-byte
 * PNG that declares 20000x20000 pixels, and answers a truncated file with "There are some read
 * requests waitng on finished stream".
 */
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbaPixels } from './preprocess';

export type ImageFormat = 'png' | 'jpeg';

/** Above this the decoders are not asked: 200 megapixels, as jpeg-js's own limit here. */
export const MAX_IMAGE_PIXELS = 200_000_000;

/**
 * Deflate encodes at most 258 bytes in a 2-bit code, 1032:1; no valid zlib stream inflates
 * further, so image data smaller than the pixels need by more than this is truncated or forged.
 */
const MAX_DEFLATE_RATIO = 1100;

/** A damaged, truncated or unsupported image file: one line, without the decoder's internals. */
export class ImageError extends Error {}

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/** The format from the file's first bytes, whatever its name says. */
export function sniffImage(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use it). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface PngLayout extends ImageHeader {
  /** The IDAT chunks' data, in order: one zlib stream together. */
  idat: [number, number][];
  /** Bytes the image data inflate to: each row (of each Adam7 pass) with its filter byte. */
  rawBytes: number;
}

/** Adam7: x0, y0, dx, dy of each of the seven passes. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function pngRawBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!interlaced) return rows(width, height);
  return ADAM7.reduce((a, [x0, y0, dx, dy]) => a + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0);
}

/** Walks every chunk: the signature, IHDR first, each chunk inside the file with a good CRC, IEND at the end. */
function pngLayout(bytes: Uint8Array): PngLayout {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new ImageError('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let width = -1;
  let height = -1;
  let bitsPerPixel = 0;
  let interlaced = false;
  let idatBytes = 0;
  const idat: [number, number][] = [];
  let ended = false;
  while (!ended) {
    if (at + 8 > bytes.length) throw new ImageError('truncated PNG file');
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new ImageError(`corrupt PNG file: a chunk at byte ${at} has no valid type`);
    const data = at + 8;
    if (length > 0x7fffffff || data + length + 4 > bytes.length) throw new ImageError('truncated PNG file');
    if (crc32(bytes, at + 4, data + length) !== view.getUint32(data + length)) throw new ImageError(`corrupt PNG file: chunk ${type} fails its CRC check`);
    if (width < 0 && type !== 'IHDR') throw new ImageError('corrupt PNG file: it does not start with an IHDR chunk');
    if (type === 'IHDR') {
      if (length !== 13) throw new ImageError('corrupt PNG file: the IHDR chunk is not 13 bytes');
      width = view.getUint32(data);
      height = view.getUint32(data + 4);
      const depth = bytes[data + 8];
      const channels = PNG_CHANNELS[bytes[data + 9]];
      if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new ImageError(`corrupt PNG file: bit depth ${depth} with colour type ${bytes[data + 9]}`);
      bitsPerPixel = depth * channels;
      interlaced = bytes[data + 12] === 1;
    } else if (type === 'IDAT') {
      idatBytes += length;
      idat.push([data, data + length]);
    } else if (type === 'IEND') {
      ended = true;
    }
    at = data + length + 4;
  }
  checkSize(width, height);
  const rawBytes = pngRawBytes(width, height, bitsPerPixel, interlaced);
  if (idatBytes * MAX_DEFLATE_RATIO < rawBytes) throw new ImageError(`truncated PNG file: ${idatBytes} bytes of image data cannot hold ${width}x${height} pixels`);
  return { format: 'png', width, height, idat, rawBytes };
}

/**
 * pngjs fills in whatever the image data lack, or garbage where they do not inflate, without a
 * word: inflate them here first (no further than the image needs) and check that they make up
 * every row.
 */
function checkPngData(bytes: Uint8Array, layout: PngLayout): void {
  const stream = Buffer.concat(layout.idat.map(([a, b]) => bytes.subarray(a, b)));
  let raw: Buffer;
  try {
    raw = inflateSync(stream, { maxOutputLength: layout.rawBytes + 1 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // pngjs refuses data beyond the last row too (libpng would only warn): say so rather than its "read requests waitng".
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new ImageError('corrupt PNG file: more image data than its rows need');
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test((e as Error).message)) throw new ImageError('truncated PNG file: the image data stop early');
    throw new ImageError('corrupt PNG file: the image data do not decompress');
  }
  if (raw.length < layout.rawBytes) throw new ImageError(`truncated PNG file: the image data hold ${raw.length} of the ${layout.rawBytes} bytes its rows need`);
  if (raw.length > layout.rawBytes) throw new ImageError('corrupt PNG file: more image data than its rows need');
}

/** SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Walks the segments up to the first scan, then looks for the end-of-image marker. */
function jpegHeader(bytes: Uint8Array): ImageHeader {
  let at = 2;
  let width = -1;
  let height = -1;
  let blocks = 0;
  for (;;) {
    // Fill bytes (0xFF) may precede a marker.
    while (at < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
    if (at + 4 > bytes.length) throw new ImageError('truncated JPEG file');
    if (bytes[at] !== 0xff) throw new ImageError(`corrupt JPEG file: no marker at byte ${at}`);
    const marker = bytes[at + 1];
    if (marker === 0xd9) throw new ImageError('corrupt JPEG file: it ends before any image data');
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) throw new ImageError(`corrupt JPEG file: segment 0x${marker.toString(16).toUpperCase()} has length ${length}`);
    if (at + 2 + length > bytes.length) throw new ImageError('truncated JPEG file');
    if (isSof(marker)) {
      if (length < 8) throw new ImageError('corrupt JPEG file: the frame header is too short');
      height = (bytes[at + 5] << 8) | bytes[at + 6];
      width = (bytes[at + 7] << 8) | bytes[at + 8];
      blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
    }
    at += 2 + length;
    if (marker === 0xda) break; // start of scan: entropy-coded data follow
  }
  if (width < 0) throw new ImageError('corrupt JPEG file: no frame header before the image data');
  checkSize(width, height);
  let end = bytes.length - 2;
  while (end >= at && !(bytes[end] === 0xff && bytes[end + 1] === 0xd9)) end--;
  if (end < at) throw new ImageError('truncated JPEG file');
  // The shortest code per 8x8 block is two bits (a DC difference and an end-of-block), one component alone.
  if ((end - at) * 8 < 2 * blocks) throw new ImageError(`truncated JPEG file: ${end - at} bytes of image data cannot hold ${width}x${height} pixels`);
  return { format: 'jpeg', width, height };
}

function checkSize(width: number, height: number): void {
  if (width === 0 || height === 0) throw new ImageError(`the image is ${width}x${height} pixels`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageError(`the image is ${width}x${height} pixels (${Math.round((width * height) / 1e6)} MP), more than the ${MAX_IMAGE_PIXELS / 1e6} MP allowed; resize it first`);
  }
}

/** The format and size from the headers alone, every structural check done; throws ImageError. */
export function imageHeader(bytes: Uint8Array): ImageHeader {
  const format = sniffImage(bytes);
  if (format === 'png') {
    const { width, height } = pngLayout(bytes);
    return { format, width, height };
  }
  if (format === 'jpeg') return jpegHeader(bytes);
  throw new ImageError('not a PNG or JPEG image (nor an .npy array)');
}

/** What a decoder says, in words a user can act on. */
function decoderMessage(format: ImageFormat, e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  // The data were checked against the rows before: what pngjs still finds wrong is in their content.
  if (format === 'png' && /read requests|finished stream|unrecognised content at end/i.test(msg)) return 'corrupt PNG file: the image data do not match its header';
  if (format === 'png' && /inflate|incorrect header check|invalid (block|distance|code|stored)/i.test(msg)) return 'corrupt PNG file: the image data do not decompress';
  if (format === 'jpeg' && /marker|eof|end of/i.test(msg)) return 'corrupt or truncated JPEG file';
  return `cannot decode the ${format === 'png' ? 'PNG' : 'JPEG'}: ${msg}`;
}

/** Decodes a PNG or JPEG after checking its headers; throws ImageError, one line, for other or damaged files. */
export function decodeImage(bytes: Uint8Array): RgbaPixels {
  let header: ImageHeader;
  if (sniffImage(bytes) === 'png') {
    const layout = pngLayout(bytes);
    checkPngData(bytes, layout);
    header = layout;
  } else {
    header = imageHeader(bytes);
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let px: RgbaPixels;
  try {
    if (header.format === 'png') {
      const png = PNG.sync.read(buf);
      px = { width: png.width, height: png.height, data: png.data };
    } else {
      // The limits keep a hostile or mistaken file from exhausting memory.
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 2048 });
      px = { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new ImageError(decoderMessage(header.format, e));
  }
  if (px.width !== header.width || px.height !== header.height || px.data.length < px.width * px.height * 4) {
    throw new ImageError(`corrupt ${header.format === 'png' ? 'PNG' : 'JPEG'} file: the decoder gave ${px.width}x${px.height} pixels for a ${header.width}x${header.height} header`);
  }
  return px;
}
