/**
 * Streams a client's request body from uWS to the upstream client with backpressure both ways.
 *
 * uWS hands `onData` chunks that it neuters on return, so each chunk MUST be copied. Chunks wait
 * in our own queue and are handed over only when the try asks: the own client (upstream-h1/)
 * takes them straight from the queue (this is its ChunkSource: feed() while its socket has room,
 * ready() when chunks arrive while it waits); undici gets a Readable per try (BodyStream, `_read`).
 * While nothing has been handed over, a failed connect can be retried with a fresh try that
 * starts from the same queue. Above HIGH_WATER queued bytes the client socket is paused; below
 * LOW_WATER it is resumed.
 *
 * Kong's write_timeout is the longest gap between two successive writes to the upstream: when the
 * upstream stops taking bytes (the own client's socket is full, or undici stops asking), a timer
 * runs until the next ask; if it fires, the exchange fails the try with a timeout (504).
 *
 * With a route's request_buffering (Kong's default), the body is held whole before the first
 * try instead (hold()): in memory up to client_body_buffer_size, in a spill file beyond it
 * (request-buffer.ts), then sent with a Content-Length and replayable on a retry.
 */
import { Readable } from 'node:stream';
import type { HttpResponse } from '../server/uws';
import type { ChunkSink, ChunkSource } from '../upstream-h1/types';
import type { Exchange } from './forward';
import type { RouteRuntime } from '../runtime';
import { SpillFile, type SpillOwner } from './request-buffer';
import { answerInternalError } from '../server/answers';
import { log } from '../../lib/log';

const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

interface Collector {
  limit: number;
  resolve(body: Buffer): void;
  reject(err: Error): void;
}
/** Who fails the try when write_timeout runs out (the Exchange). */
export interface WriteTimeoutOwner {
  onWriteTimeout(): void;
}
// One timer callback for every body: the owner rides as the timer's argument, no bound function.
function writeTimedOut(owner: WriteTimeoutOwner): void {
  owner.onWriteTimeout();
}
// The body was dropped under a sink: told on the next tick, as a destroyed stream's 'close' is.
function cutSink(sink: ChunkSink): void {
  sink.cut();
}
const BODY_STREAM_OPTIONS = { highWaterMark: 64 * 1024 };

// The exchange ended (answered, or the client left) while a plugin waited for the body.
const BODY_GONE = Object.assign(new Error('request body no longer available'), { code: 'HW_ERR_BODY_GONE' });

export class RequestBody implements SpillOwner, ChunkSource {
  readonly #res: HttpResponse;
  #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #paused = false;
  #stream: BodyStream | null = null;
  /** The own client's try taking chunks straight from the queue. */
  #sink: ChunkSink | null = null;
  /** The sink took everything queued and waits for more (ready() when it comes). */
  #sinkWaiting = false;
  /** A try took the body as a stream: request_buffering no longer applies (hold()). */
  #streaming = false;
  /** The exchange no longer wants the body: further chunks are dropped (never queued). */
  #discarded = false;
  /** True once any byte left our queue: from then on the request cannot be retried. */
  consumed = false;
  received = 0;
  readonly #writeTimeout: number;
  readonly #owner: WriteTimeoutOwner;
  #stallTimer: NodeJS.Timeout | null = null;
  #collector: Collector | null = null;
  /** request_buffering: the exchange waiting for the whole body before its first try. */
  #holder: Exchange | null = null;
  #holdLimit = 0;
  #spill: SpillFile | null = null;
  /** The held body's length once it is whole (in the exchange's bodyBuffer or the spill file); else -1. */
  heldLength = -1;
  /** The client is paused (backpressure): client_body_timeout's clock stops (client-body-deadline.ts). */
  get readPaused(): boolean { return this.#paused; }

  constructor(res: HttpResponse, writeTimeoutMs: number, owner: WriteTimeoutOwner) {
    this.#res = res;
    this.#writeTimeout = writeTimeoutMs;
    this.#owner = owner;
  }

  /** uWS onData: copy, queue, push if the stream is waiting, pause the client above HIGH_WATER. */
  onData(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.#discarded) return;
    if (chunk.byteLength > 0) {
      const copy = Buffer.copyBytesFrom(new Uint8Array(chunk));
      this.#queue.push(copy);
      this.#queued += copy.length;
      this.received += copy.length;
    }
    if (isLast) this.#ended = true;
    if (this.#collector !== null) {
      this.#collecting();
      return;
    }
    if (this.#holder !== null) {
      this.#holding();
      return;
    }
    if (this.#sinkWaiting) (this.#sink as ChunkSink).ready();
    else {
      const s = this.#stream;
      if (s !== null && s.wanting) this.pull(s);
    }
    if (!this.#ended && !this.#paused && this.#queued > HIGH_WATER) {
      this.#paused = true;
      this.#res.pause();
    }
  }

  /**
   * The whole body as one Buffer, for plugins that read it (key_in_body, transformers, size
   * limits on chunked uploads). The client is never paused meanwhile; past `limit` bytes the
   * promise rejects with HW_ERR_BODY_TOO_LARGE. Once taken, the body is no longer streamed: the
   * caller sends the buffer (or its replacement) upstream.
   */
  collect(limit: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.#collector = { limit, resolve, reject };
      if (this.#paused) {
        this.#paused = false;
        this.#res.resume();
      }
      this.#collecting();
    });
  }

  #collecting(): void {
    const c = this.#collector as Collector;
    if (this.received > c.limit) {
      this.#collector = null;
      c.reject(Object.assign(new RangeError(`request body larger than ${c.limit} bytes`), { code: 'HW_ERR_BODY_TOO_LARGE' }));
    } else if (this.#ended) {
      this.#collector = null;
      const all = this.#queue.length === 1 ? this.#queue[0] : Buffer.concat(this.#queue, this.#queued);
      this.#queue = [];
      this.#queued = 0;
      c.resolve(all);
    }
  }

  /**
   * request_buffering (nginx's proxy_request_buffering): the whole body arrives before the first
   * try, so a slow uploader holds no upstream connection and the upstream gets a Content-Length.
   * A body whose declared length exceeds client_body_buffer_size streams instead (it has its
   * length already; see README). Returns true when the body is taken over: ex.dispatch() runs
   * again once it is whole (or ex is answered 500 if the spill file fails).
   */
  hold(ex: Exchange): boolean {
    if (this.heldLength >= 0 || this.#streaming || this.#discarded || !(ex.route as RouteRuntime).snap.requestBuffering) return false;
    const limit = ex.runtime.settings.clientBodyBufferSize;
    const declared = ex.header('content-length');
    if (declared !== null && Number(declared) > limit) return false;
    this.#holder = ex;
    this.#holdLimit = limit;
    if (this.#paused) {
      this.#paused = false;
      this.#res.resume();
    }
    this.#holding();
    return true;
  }

  #holding(): void {
    if (this.#spill === null && this.#queued > this.#holdLimit) {
      try {
        this.#spill = new SpillFile(this);
      } catch (e) {
        this.#holdFailed(e as Error);
        return;
      }
    }
    const spill = this.#spill;
    if (spill === null) {
      if (this.#ended) {
        const all = this.#queue.length === 1 ? this.#queue[0] : Buffer.concat(this.#queue, this.#queued);
        this.#queue = [];
        this.#queued = 0;
        const ex = this.#holder as Exchange;
        this.#holder = null;
        this.heldLength = all.length;
        ex.bodyBuffer = all;
        ex.dispatch();
      }
      return;
    }
    for (let i = 0; i < this.#queue.length; i++) spill.write(this.#queue[i]);
    this.#queue = [];
    this.#queued = 0;
    if (this.#ended) {
      if (spill.pending === 0) this.#spilled(spill);
    } else if (!this.#paused && spill.pending > HIGH_WATER) {
      this.#paused = true;
      this.#res.pause();
    }
  }

  spillWritten(err: Error | null): void {
    const spill = this.#spill;
    if (this.#holder === null || spill === null) return;
    if (err !== null) {
      this.#holdFailed(err);
      return;
    }
    if (this.#ended) this.#spilled(spill);
    else if (this.#paused && spill.pending < LOW_WATER) {
      this.#paused = false;
      this.#res.resume();
    }
  }

  #spilled(spill: SpillFile): void {
    const ex = this.#holder as Exchange;
    this.#holder = null;
    this.heldLength = spill.length;
    ex.dispatch();
  }

  /** nginx answers 500 when it cannot write client_body_temp. */
  #holdFailed(err: Error & { code?: string }): void {
    const ex = this.#holder as Exchange;
    this.#holder = null;
    log('error', 'request body file failed', { code: 'HW_ERR_BODY_SPILL', cause: err.code, err: err.message, requestId: ex.requestId });
    answerInternalError(ex);
  }

  spillPulled(): void {
    this.#stallClockStops();
  }

  /** The upstream takes bytes again (or the try is over): write_timeout's clock stops. */
  #stallClockStops(): void {
    if (this.#stallTimer !== null) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = null;
    }
  }

  spillStalled(): void {
    if (this.#stallTimer === null) this.#stallTimer = setTimeout(writeTimedOut, this.#writeTimeout, this.#owner);
  }

  /**
   * The body for one try: with `direct` (the own client) this queue itself, whose chunks the
   * client takes without a stream in between; else (undici) a new Readable. A spilled body is
   * always read from its file through a Readable.
   */
  bodyFor(direct: boolean): Readable | ChunkSource {
    if (!direct || (this.#spill !== null && this.heldLength >= 0)) return this.stream();
    this.#streaming = true;
    return this;
  }

  /** A new undici body for one try. */
  stream(): Readable {
    if (this.#spill !== null && this.heldLength >= 0) {
      // A retry: the previous try's write_timeout clock is not this one's.
      this.spillPulled();
      return this.#spill.reader();
    }
    this.#streaming = true;
    this.#sink = null;
    this.#sinkWaiting = false;
    const s = new BodyStream(this);
    this.#stream = s;
    return s;
  }

  // ChunkSource: the own client's writer (upstream-h1/chunk-writer.ts).

  attach(sink: ChunkSink): boolean {
    if (this.#discarded) return false;
    this.#stream = null;
    this.#sink = sink;
    this.#sinkWaiting = false;
    // A retry: the previous try's write_timeout clock is not this one's.
    this.#stallClockStops();
    return true;
  }

  feed(sink: ChunkSink): void {
    if (sink !== this.#sink) return;
    if (!this.#handOver(sink)) {
      this.#sinkWaiting = false;
    } else if (this.#ended) {
      this.#sinkWaiting = false;
      this.#sink = null;
      sink.end();
      return;
    } else {
      this.#sinkWaiting = true;
    }
    this.#resumeBelowLowWater();
  }

  detach(sink: ChunkSink): void {
    if (sink !== this.#sink) return;
    this.#sink = null;
    this.#sinkWaiting = false;
    // The try is over: its write_timeout clock with it.
    this.#stallClockStops();
  }

  pull(s: BodyStream): void {
    if (s !== this.#stream) return;
    s.wanting = true;
    if (!this.#handOver(s)) s.wanting = false;
    if (this.#queue.length === 0 && this.#ended) {
      s.wanting = false;
      s.push(null);
    }
    this.#resumeBelowLowWater();
  }

  /**
   * Hands queued chunks to the try (the own client's sink, or undici's BodyStream) until it is
   * full or none is left. False when it filled: the upstream is not taking bytes, and has
   * write_timeout to take more.
   */
  #handOver(taker: ChunkTaker): boolean {
    this.#stallClockStops();
    const q = this.#queue;
    while (q.length > 0) {
      const c = q.shift() as Buffer;
      this.#queued -= c.length;
      this.consumed = true;
      if (!taker.chunk(c)) {
        this.#stallTimer = setTimeout(writeTimedOut, this.#writeTimeout, this.#owner);
        return false;
      }
    }
    return true;
  }

  #resumeBelowLowWater(): void {
    if (this.#paused && this.#queued < LOW_WATER && !this.#ended) {
      this.#paused = false;
      this.#res.resume();
    }
  }

  /** The response is ending: resume a paused client so the rest of its body drains, and drop it. */
  release(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#res.resume();
    }
    this.discard();
  }

  /** Client aborted or the exchange ended: drop what is queued. Never touches `res`. */
  discard(): void {
    this.#discarded = true;
    this.#holder = null;
    if (this.#spill !== null) {
      this.#spill.close();
      this.#spill = null;
    }
    const c = this.#collector;
    if (c !== null) {
      this.#collector = null;
      c.reject(BODY_GONE);
    }
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
    this.#stallTimer = null;
    this.#queue = [];
    this.#queued = 0;
    this.#ended = true;
    const s = this.#stream;
    this.#stream = null;
    if (s !== null && !s.destroyed) s.destroy();
    const k = this.#sink;
    this.#sink = null;
    this.#sinkWaiting = false;
    if (k !== null) process.nextTick(cutSink, k);
  }
}

/** What #handOver() gives chunks to: false once it holds enough. */
interface ChunkTaker {
  chunk(c: Buffer): boolean;
}

class BodyStream extends Readable implements ChunkTaker {
  wanting = false;
  readonly #owner: RequestBody;
  constructor(owner: RequestBody) {
    super(BODY_STREAM_OPTIONS);
    this.#owner = owner;
  }
  override _read(): void {
    this.#owner.pull(this);
  }
  chunk(c: Buffer): boolean {
    return this.push(c);
  }
}
