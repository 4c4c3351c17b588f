/**
 * A request body given as a Readable (a request_buffering spill-file reader, or any stream a
 * caller dispatches; the client's streamed body comes as a ChunkSource instead, chunk-writer.ts)
 * written to the upstream socket: as it is when the head carries a Content-Length, else in chunks. The
 * stream is paused while the socket has unsent bytes and resumed on 'drain', so the stream stops
 * asking the client for more, and its write_timeout clock runs (stream-request.ts).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** What the writer tells its connection. */
export interface BodyOwner {
  readonly socket: Socket;
  /** The last byte went to the socket. */
  bodySent(): void;
  bodyFailed(err: Error): void;
  /** The stream was destroyed before its end (the client left, or the exchange is done with it). */
  bodyCut(): void;
}

/**
 * One body chunk to `s`: as it is, or framed as an HTTP/1.1 chunk (size line, data, CRLF: three
 * writes, which the caller corks into one). Returns the last write's result.
 */
export function writeBodyChunk(s: Socket, chunk: Buffer, chunked: boolean): boolean {
  if (!chunked) return s.write(chunk);
  s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
  s.write(chunk);
  return s.write('\r\n', 'latin1');
}

/** The chunked body's end (the last, empty chunk; no trailers). */
export function writeLastChunk(s: Socket): void {
  s.write('0\r\n\r\n', 'latin1');
}

export class BodyWriter {
  readonly #owner: BodyOwner;
  #body: Readable | null = null;
  #chunked = false;
  #paused = false;

  constructor(owner: BodyOwner) {
    this.#owner = owner;
  }

  /** A body is still being written. */
  get active(): boolean {
    return this.#body !== null;
  }

  start(body: Readable, chunked: boolean): void {
    this.#body = body;
    this.#chunked = chunked;
    this.#paused = false;
    body.on('data', this.#onData);
    body.on('end', this.#onEnd);
    body.on('error', this.#onError);
    body.on('close', this.#onClose);
  }

  /** The socket's 'drain'. */
  drain(): void {
    if (this.#paused && this.#body !== null) {
      this.#paused = false;
      this.#body.resume();
    }
  }

  /** Stop listening to the stream (whose owner, the exchange, destroys it). */
  detach(): void {
    const b = this.#body;
    if (b === null) return;
    this.#body = null;
    b.off('data', this.#onData);
    b.off('end', this.#onEnd);
    b.off('error', this.#onError);
    b.off('close', this.#onClose);
  }

  readonly #onData = (chunk: Buffer): void => {
    const s = this.#owner.socket;
    if (this.#chunked) s.cork();
    const ok = writeBodyChunk(s, chunk, this.#chunked);
    if (this.#chunked) s.uncork();
    if (!ok && this.#body !== null) {
      this.#paused = true;
      this.#body.pause();
    }
  };

  readonly #onEnd = (): void => {
    this.detach();
    if (this.#chunked) writeLastChunk(this.#owner.socket);
    this.#owner.bodySent();
  };

  readonly #onError = (err: Error): void => {
    this.detach();
    this.#owner.bodyFailed(err);
  };

  readonly #onClose = (): void => {
    if (this.#body === null) return;
    this.detach();
    this.#owner.bodyCut();
  };
}
