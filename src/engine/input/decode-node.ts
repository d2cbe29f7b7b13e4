/** Image decoding for Node: PNG through pngjs, JPEG through jpeg-js, both to RGBA as a browser's ImageData. */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbaPixels } from './preprocess';

export type ImageFormat = 'png' | 'jpeg';

/** The format from the file's first bytes, whatever its name says. */
export function sniffImage(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decodes a PNG or JPEG; throws one-line errors for other or damaged files. */
export function decodeImage(bytes: Uint8Array): RgbaPixels {
  const format = sniffImage(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === 'png') {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, data: png.data };
    }
    if (format === 'jpeg') {
      // The limits keep a hostile or mistaken file from exhausting memory.
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 200, maxMemoryUsageInMB: 2048 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot decode the ${format === 'png' ? 'PNG' : 'JPEG'}: ${msg.split('\n')[0]}`);
  }
  throw new Error('not a PNG or JPEG image (nor an .npy array)');
}
