/**
 * The protobuf wire format, write side only, for the few scalar and message fields the ONNX
 * export needs. A message is a list of byte chunks; a nested message is appended by reference
 * (its length prefix, then its chunks), so megabytes of weights are copied once, by `finish`.
 *
 * Wire types: 0 varint (int32, int64, enums), 1 fixed64, 2 length-delimited (strings, bytes,
 * messages, packed repeated scalars), 5 fixed32 (float).
 */

const VARINT = 0;
const LEN = 2;
const FIXED32 = 5;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes in `chunks`. */
  length = 0;
  /** Small writes collect here before becoming a chunk. */
  private scratch: number[] = [];

  private flush(): void {
    if (this.scratch.length) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }

  private pushBytes(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
    this.length += b.byteLength;
  }

  /** A varint: non-negative values as they are, negative ones as 64-bit two's complement (ten bytes), as int64 fields need. */
  private varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    if (v < 0x80n) {
      this.scratch.push(Number(v));
      this.length++;
      return;
    }
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
      this.length++;
    }
    this.scratch.push(Number(v));
    this.length++;
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** int32, int64 and enum fields. */
  int(field: number, n: number): this {
    if (!Number.isSafeInteger(n)) throw new Error(`protobuf: field ${field}: ${n} is not an integer`);
    this.tag(field, VARINT);
    this.varint(n);
    return this;
  }

  float(field: number, x: number): this {
    this.tag(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    for (const v of b) this.scratch.push(v);
    this.length += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(b.byteLength);
    this.pushBytes(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** A nested message, taken over by reference: do not write to `m` afterwards. */
  message(field: number, m: ProtoWriter): this {
    m.flush();
    this.tag(field, LEN);
    this.varint(m.length);
    this.flush();
    for (const c of m.chunks) this.chunks.push(c);
    this.length += m.length;
    return this;
  }

  /** A packed repeated int64 / int32 field. */
  packedInts(field: number, ns: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const n of ns) {
      if (!Number.isSafeInteger(n)) throw new Error(`protobuf: field ${field}: ${n} is not an integer`);
      inner.varint(n);
    }
    return this.message(field, inner);
  }

  /** A packed repeated float field. */
  packedFloats(field: number, xs: readonly number[]): this {
    const b = new Uint8Array(4 * xs.length);
    const view = new DataView(b.buffer);
    xs.forEach((x, i) => view.setFloat32(4 * i, x, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}
