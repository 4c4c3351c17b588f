/**
 * Writes an upstream's response to the client: the head, the body with backpressure (tryEnd
 * toward a known length, or chunked writes, with onWritable to resume), and the end. The tries
 * and the undici handler that feed it live in forward.ts, which extends this class.
 *
 * Every write runs corked through a module-level trampoline: res.cork() runs its callback
 * synchronously, so one shared function per step does the work instead of a closure per write.
 */
import { RequestContext, RESPONSE_STATE, type PipelineHooks } from '../server/context';
import { endWithoutBody, statusLine } from '../server/respond';
import { writeScannedHeaders, connectionTokens } from './headers';
import { scanHead, type HeadScan } from './raw-headers';
import { stall, progressed, unstall, type Stallable } from './send-deadline';

let corkTarget: StreamedResponse;
let corkChunk: Buffer;
function corkedHead(): void { corkTarget.writeHead(); }
function corkedChunk(): void {
  if (corkTarget.state === RESPONSE_STATE.HEAD_PENDING) corkTarget.writeHead();
  corkTarget.writeChunk(corkChunk);
}
function corkedEnd(): void {
  if (corkTarget.state === RESPONSE_STATE.HEAD_PENDING) corkTarget.writeHead();
  corkTarget.writeEnd();
}

// The response head waits for the first body bytes so that head and body leave in one send
// (undici usually delivers both in the same parser pass). Heads still waiting when that pass
// ends are flushed from one microtask for all responses. uWS sends the end of a head (its own
// Date, framing and blank line) only with the first body write, so a known-length head is
// pushed out with an empty tryEnd; a chunked head still waits for its first chunk (uWS 20.30
// sends nothing for an empty write).
const waitingHeads: StreamedResponse[] = [];
let flushScheduled = false;
function flushHeads(): void {
  flushScheduled = false;
  for (let i = 0; i < waitingHeads.length; i++) {
    const response = waitingHeads[i];
    if (response.state !== RESPONSE_STATE.HEAD_PENDING) continue;
    corkTarget = response;
    response.res.cork(corkedHeadFlush);
  }
  waitingHeads.length = 0;
}
function corkedHeldEnd(): void { corkTarget.endHeld(); }
/** Bodies up to this size are held for `Connection: close, …` (see #held); larger ones keep the connection. */
const HOLD_LIMIT = 1024 * 1024;
function corkedHeadFlush(): void {
  corkTarget.writeHead();
  corkTarget.flushKnownLengthHead();
}
const EMPTY = Buffer.alloc(0);
const NO_HEADERS: Buffer[] = [];

export class StreamedResponse extends RequestContext implements Stallable, HeadScan {
  /** The upstream's response headers, raw: [name, value, …] Buffers (see raw-headers.ts). */
  responseHeaders: Buffer[] = NO_HEADERS;
  /** The body length the upstream declared, or -1 (chunked, or until the upstream closes). */
  contentLength = -1;
  // HeadScan: the response head's names, classified once as it arrives (raw-headers.ts).
  headSkip = 0;
  headServer: Buffer | null = null;
  headVia: string | null = null;
  headLength = -1;
  headHasLength = false;
  headConnection: string | null = null;
  /** performance.now() when the current try was dispatched, and the upstream's answer time (ms). */
  tDispatch = 0;
  upstreamLatency = 0;
  /** The response is the upstream's (its final head came in), whether or not a plugin filtered it. */
  proxied = false;
  /** A Set-Cookie value the balancer adds to the response (consistent-hashing on a cookie), or null. */
  balancerCookie: string | null = null;
  /** undici's resume for a paused upstream (forward.ts sets it with each head). */
  resumeUpstream: (() => void) | null = null;
  /** Names the upstream's Connection headers list (hop-by-hop for this response), or null. */
  #dropHeaders: Set<string> | null = null;
  /** HEAD, 204 and 304: the head is the whole response. */
  #headOnly = false;
  /**
   * `Connection: close, …` with a known-length body (see closeAfter): the body is held and sent
   * with its head in one end(body, true), the only uWS call that both keeps Content-Length and
   * closes after the last byte (tryEnd cannot close; end(…, true) after a streamed head writes
   * its `Connection: close` line into the body on uWS 20.30). null otherwise.
   */
  #held: Buffer[] | null = null;
  /** A known-length chunk uWS did not take in full, and the write offset it started at. */
  #pending: Buffer | null = null;
  #pendingBase = 0;
  /** A chunked write that uWS buffered: the upstream stays paused until onWritable. */
  #backpressured = false;
  /** The upstream's body ended while a chunk still waited for the socket. */
  #upstreamEnded = false;
  #onWritable: ((offset: number) => boolean) | null = null;
  /** send_timeout's clock while a write waits for the client (send-deadline.ts). */
  stalledSince = 0;
  stallIndex = -1;

  get settled(): boolean {
    return this.state >= RESPONSE_STATE.ENDING;
  }

  /** A response that ends (or whose client left) leaves the send_timeout watch now, not at the next sweep. */
  override finish(): void {
    unstall(this);
    super.finish();
  }

  override onAborted(): void {
    unstall(this);
    super.onAborted();
  }

  /** The upstream's final head (status >= 200) is in: judge its framing, then write it or hold it. */
  startResponse(status: number, rawHeaders: Buffer[]): void {
    this.status = status;
    this.proxied = true;
    this.responseHeaders = rawHeaders;
    // The one walk over the head: framing, filtering and what writeHead will skip or add.
    scanHead(rawHeaders, this);
    const length = this.headLength;
    this.contentLength = length;
    this.#dropHeaders = this.headConnection === null ? null : connectionTokens(this.headConnection);
    this.#headOnly = this.method === 'HEAD' || status === 204 || status === 304;
    if (this.#headOnly || length === 0) {
      corkTarget = this;
      this.res.cork(corkedHead);
      return;
    }
    this.state = RESPONSE_STATE.HEAD_PENDING;
    if (this.closeAfter && length <= HOLD_LIMIT && (this.pipeline === null || !this.pipeline.filtersBody)) {
      this.#held = [];
      return;
    }
    waitingHeads.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flushHeads);
    }
  }

  /** A body chunk from the upstream. Returns false while uWS has unsent bytes (undici pauses). */
  streamChunk(chunk: Buffer): boolean {
    if (this.state >= RESPONSE_STATE.ENDING) return true;
    if (this.#held !== null) {
      this.#hold(chunk);
      return true;
    }
    corkTarget = this;
    corkChunk = chunk;
    this.res.cork(corkedChunk);
    return this.#pending === null && !this.#backpressured;
  }

  /** The upstream's body is complete. */
  streamEnd(): void {
    if (this.state >= RESPONSE_STATE.ENDING) return;
    if (this.#held !== null) {
      // Fewer bytes than Content-Length promised, and nothing written yet: the client sees a cut.
      this.cut();
      return;
    }
    corkTarget = this;
    this.res.cork(corkedEnd);
  }

  #hold(chunk: Buffer): void {
    const held = this.#held as Buffer[];
    // undici may reuse the chunk's memory once onData returns.
    held.push(Buffer.from(chunk));
    this.bodyBytes += chunk.length;
    if (this.bodyBytes < this.contentLength) return;
    corkTarget = this;
    this.res.cork(corkedHeldEnd);
  }

  /** MUST run corked: head and held body in one end(), closing after it. */
  endHeld(): void {
    const held = this.#held as Buffer[];
    this.writeHead();
    this.state = RESPONSE_STATE.ENDING;
    this.releaseBody();
    this.res.end(held.length === 1 ? held[0] : Buffer.concat(held), true);
    this.#held = null;
    this.finish();
  }

  /** MUST run corked. Status, headers, and for bodiless responses the end. */
  writeHead(): void {
    const res = this.res;
    this.state = RESPONSE_STATE.HEAD_SENT;
    const pipeline = this.pipeline;
    if (pipeline !== null && pipeline.filtersHead) this.#filterHead(pipeline);
    res.writeStatus(statusLine(this.status));
    writeScannedHeaders(res, this, this.responseHeaders, this, this.#dropHeaders, this.status, this.upstreamLatency, Math.round(this.tDispatch - this.t0));
    if (this.balancerCookie !== null) res.writeHeader('set-cookie', this.balancerCookie);
    if (this.#headOnly) {
      this.state = RESPONSE_STATE.ENDING;
      this.beforeLastWrite();
      this.releaseBody();
      // A 204 has no Content-Length (nginx drops it too); HEAD and 304 report the upstream's.
      endWithoutBody(res, this.status === 204 ? -1 : this.contentLength, this.closeAfter);
      this.finish();
    } else if (this.contentLength === 0) {
      this.state = RESPONSE_STATE.ENDING;
      this.beforeLastWrite();
      this.releaseBody();
      res.end('', this.closeAfter);
      this.finish();
    }
  }

  /**
   * Plugins' header filters (the slow path: only routes with such plugins come here). A header
   * filter that removes Content-Length turns the response chunked, as with nginx: that is how a
   * body filter that changes the length (response-transformer's JSON edits) says so. A body
   * filter that keeps the length leaves the upstream's framing alone.
   */
  #filterHead(pipeline: PipelineHooks): void {
    const after = pipeline.filterUpstreamHead(this.responseHeaders);
    this.responseHeaders = after;
    // The filtered head is what gets written: classify it again (framing stays the upstream's).
    scanHead(after, this);
    if (this.contentLength >= 0 && !this.headHasLength) this.contentLength = -1;
  }

  /** MUST run corked, right after writeHead: sends the rest of a known-length head now. */
  flushKnownLengthHead(): void {
    if (this.state >= RESPONSE_STATE.ENDING || this.contentLength <= 0) return;
    this.#pendingBase = this.res.getWriteOffset();
    this.res.tryEnd(EMPTY, this.contentLength);
  }

  /** MUST run corked. Known length: tryEnd streams toward the total; unknown: chunked write. */
  writeChunk(chunk: Buffer): void {
    const pipeline = this.pipeline;
    if (pipeline !== null && pipeline.filtersBody) {
      // A filter that changes the length removed Content-Length in its header filter, so the
      // response is chunked (#filterHead); one that keeps it passes the bytes through.
      chunk = pipeline.filterBody(chunk, false);
      if (chunk.length === 0) return;
    }
    this.#send(chunk);
  }

  /** MUST run corked. */
  #send(chunk: Buffer): void {
    const res = this.res;
    this.bodyBytes += chunk.length;
    if (this.contentLength >= 0) {
      // The last bytes are about to go: the request body is no longer wanted (see releaseBody).
      if (this.bodyBytes >= this.contentLength) {
        this.beforeLastWrite();
        this.releaseBody();
      }
      this.#pendingBase = res.getWriteOffset();
      const [ok, done] = res.tryEnd(chunk, this.contentLength);
      if (done) {
        this.finish();
      } else if (!ok) {
        this.#pending = chunk;
        res.onWritable(this.#onWritable ??= this.onWritable.bind(this));
        stall(this);
      }
    } else if (!res.write(chunk)) {
      this.#backpressured = true;
      res.onWritable(this.#onWritable ??= this.onWritable.bind(this));
      stall(this);
    }
  }

  /** uWS drained the socket: retry the unsent part of the chunk, then resume the upstream. */
  onWritable(offset: number): boolean {
    if (this.state >= RESPONSE_STATE.ENDING) return true;
    const pending = this.#pending;
    if (pending !== null) {
      const [ok, done] = this.res.tryEnd(pending.subarray(offset - this.#pendingBase), this.contentLength);
      if (done) {
        this.#pending = null;
        this.finish();
        return true;
      }
      if (!ok) {
        // The client took some bytes: send_timeout counts between two successful writes.
        progressed(this);
        return false;
      }
      this.#pending = null;
      if (this.#upstreamEnded) {
        // Everything the upstream sent is out, yet less than its Content-Length: cut.
        this.cut();
        return true;
      }
    }
    this.#backpressured = false;
    unstall(this);
    this.resumeUpstream?.();
    return true;
  }

  /** MUST run corked. */
  writeEnd(): void {
    this.#upstreamEnded = true;
    // Known length with a chunk still waiting for the socket: onWritable finishes the response.
    if (this.#pending !== null) return;
    const pipeline = this.pipeline;
    if (pipeline !== null && pipeline.filtersBody) {
      // What the filters held back goes out now (a whole edited JSON body, say).
      const last = pipeline.filterBody(EMPTY, true);
      if (last.length > 0) {
        this.#send(last);
        if (this.state >= RESPONSE_STATE.ENDING || this.#pending !== null) return;
      }
    }
    this.state = RESPONSE_STATE.ENDING;
    this.beforeLastWrite();
    this.releaseBody();
    if (this.contentLength < 0) this.res.end();
    else this.res.close(); // fewer bytes than Content-Length promised: the client must see a cut
    this.finish();
  }

  /**
   * The write that completes the response for the client comes next. Whatever the response
   * holds on to upstream (the target's shared in-flight count) is released here, not after:
   * the client may send its next request, to another worker, the moment the bytes leave.
   */
  protected beforeLastWrite(): void {}

  /** Close the client connection: after the head went out, the only honest failure signal. */
  cut(): void {
    this.state = RESPONSE_STATE.ENDING;
    this.res.close();
    this.finish();
  }
}
