/**
 * LSP's base protocol over a byte stream (stdio), read strictly: header lines `Name: value`,
 * a blank line, a `Content-Length` of decimal digits and that many bytes of UTF-8 JSON. The
 * library's reader reports a bad header and goes on reading, out of step with the client:
 * the server then never answers and never exits. Here a bad header is a `FramingError`, after
 * which the caller ends the connection with the reason; a body that is not JSON is a
 * `BodyError`, after which reading goes on (the framing still holds).
 */
import { AbstractMessageReader, Disposable, type DataCallback, type Message, type MessageReader } from 'vscode-languageserver/node';

/** The stream cannot be read any further. */
export class FramingError extends Error {}

/** One message could not be decoded; the next one can. */
export class BodyError extends Error {}

const HEADER_END = Buffer.from('\r\n\r\n');
/** No client sends more than a few dozen bytes of headers. */
const MAX_HEADER_BYTES = 8 * 1024;
/** Larger than any string V8 makes (the text of a document must fit in one). */
const MAX_BODY_BYTES = 512 * 1024 * 1024;

function show(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

export class StrictMessageReader extends AbstractMessageReader implements MessageReader {
  /** What has arrived and is not read yet; joined only when a header or a whole body is there. */
  private chunks: Buffer[] = [];
  private size = 0;
  /** The body's length once its headers are read; -1 while reading headers. */
  private bodyLength = -1;
  private failed = false;

  constructor(private readonly input: NodeJS.ReadableStream) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, callback);
    const onError = (e: Error) => this.fireError(e);
    const onEnd = () => {
      if (!this.failed && this.size > 0) this.fireError(new FramingError('the input ended in the middle of a message'));
      this.fireClose();
    };
    this.input.on('data', onData);
    this.input.on('error', onError);
    this.input.on('end', onEnd);
    return Disposable.create(() => {
      this.input.off('data', onData);
      this.input.off('error', onError);
      this.input.off('end', onEnd);
    });
  }

  /** The unread bytes as one buffer. */
  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private consume(n: number): void {
    const rest = this.joined().subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
  }

  private onData(chunk: Buffer, callback: DataCallback): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    try {
      for (;;) {
        if (this.bodyLength < 0) {
          const buffer = this.joined();
          const end = buffer.indexOf(HEADER_END);
          if (end < 0) {
            if (this.size > MAX_HEADER_BYTES) throw new FramingError(`no end of the headers (a blank line) in the first ${MAX_HEADER_BYTES} bytes`);
            return;
          }
          this.bodyLength = parseHeaders(buffer.toString('latin1', 0, end));
          this.consume(end + HEADER_END.length);
        }
        if (this.size < this.bodyLength) return;
        const body = this.joined().toString('utf8', 0, this.bodyLength);
        this.consume(this.bodyLength);
        this.bodyLength = -1;
        const message = decode(body);
        if (message instanceof BodyError) this.fireError(message);
        else deliver(message, callback, (e) => this.fireError(e));
      }
    } catch (e) {
      this.failed = true;
      this.chunks = [];
      this.fireError(e instanceof FramingError ? e : new FramingError(e instanceof Error ? e.message : String(e)));
    }
  }
}

/** The body length the headers give; a FramingError for anything else than LSP's headers. */
export function parseHeaders(text: string): number {
  let length: number | undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FramingError(`malformed header line ${show(line)} (expected 'Name: value')`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) throw new FramingError(`Content-Length ${show(value)} is not a number of bytes`);
      length = Number(value);
      if (length > MAX_BODY_BYTES) throw new FramingError(`Content-Length ${value} is larger than ${MAX_BODY_BYTES} bytes`);
    } else if (name === 'content-type') {
      const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(value)?.[1].toLowerCase();
      if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new FramingError(`Content-Type charset ${show(charset)} is not supported (only utf-8)`);
    }
  }
  if (length === undefined) throw new FramingError(`no Content-Length header in ${show(text)}`);
  return length;
}

/** The connection reads a message's fields as it queues it: one it cannot read is that message's problem only. */
function deliver(message: Message, callback: DataCallback, fail: (e: BodyError) => void): void {
  try {
    callback(message);
  } catch (e) {
    fail(new BodyError(`a message could not be read (${e instanceof Error ? e.message : String(e)}): ${show(JSON.stringify(message))}`));
  }
}

function decode(body: string): Message | BodyError {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    return new BodyError(`a message body is not JSON (${(e as Error).message}): ${show(body)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return new BodyError(`a message body is not a JSON-RPC object: ${show(body)}`);
  return value as Message;
}
