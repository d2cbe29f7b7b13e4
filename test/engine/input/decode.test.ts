/**
 * Image headers are checked before a decoder runs: a file that declares more pixels than it can
 * hold, a truncated or zero-sized one, gets one line at once. The files are built here: PNGs
 * chunk by chunk with zlib's CRC, JPEGs with jpeg-js's encoder, then cut or patched.
 */
import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, imageHeader, MAX_IMAGE_PIXELS } from '../../../src/engine/input/decode-node';

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function ihdr(width: number, height: number, depth = 8, colour = 6): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = depth;
  d[9] = colour;
  return chunk('IHDR', d);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG from its chunks, IEND added. */
function png(...chunks: Buffer[]): Uint8Array {
  return Buffer.concat([SIGNATURE, ...chunks, chunk('IEND', new Uint8Array(0))]);
}

/** A real w x h RGBA PNG, written by pngjs. */
function realPng(w: number, h: number): Uint8Array {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < p.data.length; i++) p.data[i] = (i * 37) & 0xff;
  return PNG.sync.write(p);
}

function realJpeg(w: number, h: number): Uint8Array {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
  return jpeg.encode({ data, width: w, height: h }, 90).data;
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

/** Refused in one line matching `re`, fast and without allocating for the declared pixels. */
function expectRefused(bytes: Uint8Array, re: RegExp): void {
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  const m = message(() => decodeImage(bytes));
  expect(m).toMatch(re);
  expect(m).not.toContain('\n');
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
}

describe('PNG headers', () => {
  it('a 69-byte PNG declaring 20000x20000 pixels is refused by the pixel cap', () => {
    const bytes = png(ihdr(20000, 20000), chunk('IDAT', Buffer.alloc(12)));
    expect(bytes.length).toBe(69);
    expect(() => imageHeader(bytes)).toThrow(/20000x20000/);
    expectRefused(bytes, /^the image is 20000x20000 pixels \(400 MP\), more than the 200 MP allowed; resize it first$/);
  });
  it('below the cap, image data far too short for the pixels is truncated (deflate inflates 1032:1 at most)', () => {
    const bytes = png(ihdr(10000, 10000), chunk('IDAT', deflateSync(Buffer.alloc(100))));
    expect(10000 * 10000).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
    expectRefused(bytes, /^truncated PNG file: \d+ bytes of image data cannot hold 10000x10000 pixels$/);
  });
  it('a file cut anywhere after the signature is a truncated PNG file', () => {
    const whole = realPng(16, 12);
    expect(decodeImage(whole)).toMatchObject({ width: 16, height: 12 });
    for (const cut of [9, 20, 33, Math.floor(whole.length / 2), whole.length - 1]) expectRefused(whole.subarray(0, cut), /^truncated PNG file$/);
  });
  it('0x0 pixels', () => {
    expectRefused(png(ihdr(0, 0), chunk('IDAT', deflateSync(Buffer.alloc(0)))), /^the image is 0x0 pixels$/);
    expectRefused(png(ihdr(5, 0), chunk('IDAT', deflateSync(Buffer.alloc(0)))), /^the image is 5x0 pixels$/);
  });
  it('a chunk whose CRC does not match, no IHDR first, a bad bit depth', () => {
    const bad = Buffer.from(realPng(4, 4));
    bad[8 + 8 + 2] ^= 0xff; // a byte of IHDR's width
    expectRefused(bad, /^corrupt PNG file: chunk IHDR fails its CRC check$/);
    expectRefused(png(chunk('IDAT', deflateSync(Buffer.alloc(4))), ihdr(1, 1)), /^corrupt PNG file: it does not start with an IHDR chunk$/);
    expectRefused(png(ihdr(1, 1, 3, 6), chunk('IDAT', deflateSync(Buffer.alloc(5)))), /^corrupt PNG file: bit depth 3 with colour type 6$/);
  });
  it('image data that do not inflate, or inflate to fewer bytes than the rows need (pngjs fills those in silently)', () => {
    const rows = 4 * (1 + 4 * 4);
    expectRefused(png(ihdr(4, 4), chunk('IDAT', Buffer.alloc(rows, 7))), /^corrupt PNG file: the image data do not decompress$/);
    expectRefused(png(ihdr(4, 4), chunk('IDAT', deflateSync(Buffer.alloc(rows - 17)))), /^truncated PNG file: the image data hold 51 of the 68 bytes its rows need$/);
    expectRefused(png(ihdr(4, 4), chunk('IDAT', deflateSync(Buffer.alloc(rows)).subarray(0, 6))), /^truncated PNG file: the image data stop early$/);
    // Split over several IDAT chunks, and interlaced, they decode; more data than the rows is an error too.
    const z = deflateSync(Buffer.alloc(rows));
    expect(decodeImage(png(ihdr(4, 4), chunk('IDAT', z.subarray(0, 5)), chunk('IDAT', z.subarray(5))))).toMatchObject({ width: 4, height: 4 });
    const adam7 = Buffer.from(ihdr(4, 4));
    adam7[8 + 12] = 1;
    adam7.writeUInt32BE(crc32(adam7.subarray(4, 8 + 13)) >>> 0, 8 + 13);
    // Adam7 on 4x4: passes 2 and 3 are empty; 1 and 4 one pixel, 5 one row of 2, 6 two rows of 2, 7 two rows of 4.
    const passBytes = 5 + 5 + 9 + 2 * 9 + 2 * 17;
    expect(decodeImage(png(adam7, chunk('IDAT', deflateSync(Buffer.alloc(passBytes)))))).toMatchObject({ width: 4, height: 4 });
    expectRefused(png(adam7, chunk('IDAT', deflateSync(Buffer.alloc(passBytes - 1)))), /^truncated PNG file: the image data hold 70 of the 71 bytes/);
    expectRefused(png(ihdr(4, 4), chunk('IDAT', deflateSync(Buffer.alloc(rows + 1)))), /^corrupt PNG file: more image data than its rows need$/);
  });
});

describe('JPEG headers', () => {
  /** Patches the frame header (SOF0) of an encoded JPEG to declare another size. */
  function withSize(bytes: Uint8Array, w: number, h: number): Uint8Array {
    const b = Buffer.from(bytes);
    const at = b.indexOf(Buffer.from([0xff, 0xc0]));
    b.writeUInt16BE(h, at + 5);
    b.writeUInt16BE(w, at + 7);
    return b;
  }

  it('decodes a whole file', () => {
    expect(decodeImage(realJpeg(24, 16))).toMatchObject({ width: 24, height: 16 });
  });
  it('a file cut before or inside the image data is a truncated JPEG file', () => {
    const whole = realJpeg(64, 48);
    for (const cut of [10, 100, Math.floor(whole.length * 0.8), whole.length - 2]) expectRefused(whole.subarray(0, cut), /^truncated JPEG file/);
  });
  it('a size beyond the cap, a zero size, and more pixels than the data can code', () => {
    const small = realJpeg(16, 16);
    expectRefused(withSize(small, 30000, 30000), /^the image is 30000x30000 pixels \(900 MP\), more than the 200 MP allowed/);
    expectRefused(withSize(small, 16, 0), /^the image is 16x0 pixels$/);
    expectRefused(withSize(small, 8000, 8000), /^truncated JPEG file: \d+ bytes of image data cannot hold 8000x8000 pixels$/);
  });
  it('not an image at all', () => {
    expect(message(() => decodeImage(new TextEncoder().encode('network A {}')))).toBe('not a PNG or JPEG image (nor an .npy array)');
  });
});
