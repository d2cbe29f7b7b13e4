/**
 * The safetensors format, read and written without dependencies (the npm packages for it are
 * unmaintained stubs): 8 bytes of little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`,
 * then the data, offsets relative to its start. Runs in Node and in browsers alike.
 */

/** A problem with a weights file: always one line, naming the tensor where there is one. */
export class WeightsError extends Error {}

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

const DTYPE_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1, U16: 2, U32: 4, U64: 8 };
const FLOATS = new Set(['F64', 'F32', 'F16', 'BF16']);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The reference implementation refuses headers above 100 MB; a larger length means a corrupt or foreign file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** The tensor's bytes within the file, not copied. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 0);
}

/**
 * Parses the header and checks it as the format requires, before any tensor is touched: every
 * tensor's dtype known and its shape's byte length equal to its data_offsets span, the spans in
 * bounds, not overlapping nor aliasing, and together covering the data exactly (no holes, no
 * trailing bytes: the rule that keeps polyglot files out); `__metadata__` a map of strings.
 * The data stay in `file` until converted.
 */
export function parseSafetensors(file: Uint8Array): SafetensorsFile {
  if (file.byteLength < 8) throw new WeightsError(`not a safetensors file: ${file.byteLength} bytes, too short for the header length`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new WeightsError(`corrupt safetensors header: it claims ${n} bytes (at most ${MAX_HEADER_BYTES} allowed)`);
  const headerLen = Number(n);
  if (8 + headerLen > file.byteLength) throw new WeightsError(`truncated safetensors file: the header needs ${headerLen} bytes, the file has ${file.byteLength - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new WeightsError(`corrupt safetensors header: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new WeightsError('corrupt safetensors header: not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = file.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsEntry>();
  const spans: { name: string; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new WeightsError('corrupt safetensors header: __metadata__ must be an object of strings');
      const bad = Object.entries(info as Record<string, unknown>).find(([, v]) => typeof v !== 'string');
      if (bad) throw new WeightsError(`corrupt safetensors header: __metadata__ entry '${bad[0]}' is not a string`);
      metadata = info as Record<string, string>;
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null || typeof t.dtype !== 'string' || !isShape(t.shape) || !Array.isArray(t.data_offsets) || t.data_offsets.length !== 2) {
      throw new WeightsError(`corrupt safetensors header: tensor '${name}' needs dtype, shape and data_offsets [begin, end]`);
    }
    const size = DTYPE_SIZE[t.dtype];
    if (size === undefined) throw new WeightsError(`tensor '${name}': unknown dtype ${t.dtype}`);
    const [begin, end] = t.data_offsets as unknown[];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < (begin as number)) {
      throw new WeightsError(`corrupt safetensors header: tensor '${name}' has data_offsets [${String(begin)}, ${String(end)}]`);
    }
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (!Number.isSafeInteger(count * size)) throw new WeightsError(`tensor '${name}': shape [${t.shape.join(', ')}] is too large`);
    if ((end as number) - (begin as number) !== count * size) {
      throw new WeightsError(`tensor '${name}': data_offsets span ${(end as number) - (begin as number)} bytes, but ${t.dtype} [${t.shape.join(', ')}] needs ${count * size}`);
    }
    if ((end as number) > dataLen) throw new WeightsError(`truncated safetensors file: tensor '${name}' ends at byte ${end} of the data, which has only ${dataLen}`);
    spans.push({ name, begin: begin as number, end: end as number });
    tensors.set(name, { name, dtype: t.dtype, shape: t.shape, bytes: file.subarray(dataStart + (begin as number), dataStart + (end as number)) });
  }
  // Sorted by offset, each tensor must start where the previous one ended: no overlap, no alias, no hole.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of spans) {
    if (s.begin < at) {
      const prev = spans[spans.indexOf(s) - 1];
      throw new WeightsError(`corrupt safetensors header: tensor '${s.name}' [${s.begin}, ${s.end}] overlaps tensor '${prev.name}' [${prev.begin}, ${prev.end}]`);
    }
    if (s.begin > at) throw new WeightsError(`corrupt safetensors header: bytes ${at} to ${s.begin} of the data belong to no tensor (before '${s.name}')`);
    at = s.end;
  }
  if (at !== dataLen) throw new WeightsError(`corrupt safetensors file: ${dataLen - at} bytes after the last tensor belong to no tensor`);
  return { tensors, metadata };
}

/** IEEE half to float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A float tensor's values as float32 (F64, F16 and BF16 converted); other dtypes are refused by name. */
export function toFloat32(e: SafetensorsEntry): Float32Array {
  if (!FLOATS.has(e.dtype)) throw new WeightsError(`tensor '${e.name}' is ${e.dtype}; weights must be F32 (or F16, BF16, F64)`);
  const view = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
  const n = e.bytes.byteLength / DTYPE_SIZE[e.dtype];
  const out = new Float32Array(n);
  switch (e.dtype) {
    case 'F32':
      // The data may sit at any byte offset in the file, so copy rather than alias: as bytes where the machine is little-endian too.
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(e.bytes);
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
  }
  return out;
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Writes float32 tensors in the given order, the header padded with spaces to 8 bytes as the reference writer does. */
export function writeSafetensors(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count !== t.data.length) throw new WeightsError(`tensor '${t.name}': shape [${t.shape.join(', ')}] needs ${count} values, got ${t.data.length}`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const t of tensors) {
    // The format is little-endian, as the machine mostly is: then the bytes are copied as they are.
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    at += 4 * t.data.length;
  }
  return out;
}
