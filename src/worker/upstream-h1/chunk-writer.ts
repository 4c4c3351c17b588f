/**
 * A streamed request body taken straight from the proxy's queue (a ChunkSource: the client's
 * RequestBody) and written to the upstream socket, without a Readable in between: as it is when
 * the head carries a Content-Length, else in chunks. Each feed runs corked, so what one turn hands
 * over (size line, data and CRLF of every chunk) leaves in one writev. Once SOCKET_LIMIT bytes
 * wait unsent the writer takes nothing more until the socket's 'drain'; meanwhile the source's
 * write_timeout clock runs and its queue fills until it pauses the client (stream-request.ts).
 */
import { writeBodyChunk, writeLastChunk, type BodyOwner } from './body-writer';
import type { ChunkSink, ChunkSource } from './types';

/** Unsent bytes in the socket above which no more chunks are taken until 'drain'. */
const SOCKET_LIMIT = 64 * 1024;

export class ChunkWriter implements ChunkSink {
  readonly #owner: BodyOwner;
  #source: ChunkSource | null = null;
  #chunked = false;
  /** The socket holds SOCKET_LIMIT unsent bytes: waiting for 'drain'. */
  #full = false;
  /** Chunks taken since start(). */
  taken = 0;

  constructor(owner: BodyOwner) {
    this.#owner = owner;
  }

  /** A body is still being written. */
  get active(): boolean {
    return this.#source !== null;
  }

  /** Takes `source` for one request; false when it is gone. Nothing is written until pump(). */
  start(source: ChunkSource, chunked: boolean): boolean {
    if (!source.attach(this)) return false;
    this.#source = source;
    this.#chunked = chunked;
    this.#full = false;
    this.taken = 0;
    return true;
  }

  /** Take what the source has queued, corked (the caller may hold its own cork too). */
  pump(): void {
    const src = this.#source;
    if (src === null || this.#full) return;
    const s = this.#owner.socket;
    s.cork();
    src.feed(this);
    s.uncork();
  }

  /** The socket's 'drain'. */
  drain(): void {
    if (!this.#full) return;
    this.#full = false;
    this.pump();
  }

  /** Stop taking from the source (the request completed or failed). */
  detach(): void {
    const src = this.#source;
    if (src === null) return;
    this.#source = null;
    src.detach(this);
  }

  // ChunkSink: what the source calls.

  chunk(c: Buffer): boolean {
    const s = this.#owner.socket;
    this.taken++;
    writeBodyChunk(s, c, this.#chunked);
    if (s.writableLength < SOCKET_LIMIT) return true;
    this.#full = true;
    return false;
  }

  end(): void {
    this.detach();
    if (this.#chunked) writeLastChunk(this.#owner.socket);
    this.#owner.bodySent();
  }

  ready(): void {
    this.pump();
  }

  cut(): void {
    if (this.#source === null) return;
    this.#source = null;
    this.#owner.bodyCut();
  }
}
