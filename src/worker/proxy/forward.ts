/**
 * One proxied request: the request context (server/context.ts), the tries against upstream
 * peers, and the streamed response. The Exchange is itself the undici dispatch handler, in
 * undici's core interface (onConnect, onHeaders, onData, onComplete, onError): the newer
 * onRequestStart API wraps that one with a controller and a parsed header object per response,
 * which the hot path does not need. A request costs one object, not a closure per event.
 *
 * Failure flows, never throws: connect-phase failures are retried on the next peer while tries
 * remain (Kong `retries`); other failures are retried only for idempotent requests whose body
 * was not sent; then Kong's 502/503/504. After the response head went out, a failure can only
 * close the client connection, which is what nginx does too.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { RouteRuntime, ServiceRuntime } from '../runtime';
import type { Balancer, Peer } from '../balancer/peer';
import type { RequestBody } from './stream-request';
import { RequestContext, RESPONSE_STATE } from '../server/context';
import { log, isLogEnabled } from '../../lib/log';
import { upstreamHeaders, writeProxiedHeaders, connectionTokens } from './headers';
import { headerKind, parseLength, KIND } from './raw-headers';
import { classify, statusFor, isConnectPhase, IDEMPOTENT, FAILURE, FAILURE_CODE } from './upstream-errors';
import { statusLine, writeGatewayError, NGINX_MESSAGES, ERROR_KIND, type ErrorKind, type GatewayError } from '../server/respond';

// Cork trampolines: res.cork() runs its callback synchronously, so a module-level target lets
// one shared function do the work instead of a new closure per write.
let corkTarget: Exchange;
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
const waitingHeads: Exchange[] = [];
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
function corkedHeadFlush(): void {
  corkTarget.writeHead();
  corkTarget.flushKnownLengthHead();
}
const EMPTY = Buffer.alloc(0);
const NO_HEADERS: Buffer[] = [];

// One reason object for every abort: the client went away; nobody reads its stack.
const CLIENT_ABORTED = new Error('client aborted');
const WRITE_TIMEOUT = Object.assign(new Error('write_timeout: the upstream took no request bytes'), { code: 'HW_ERR_UPSTREAM_TIMEOUT' });
// res.cork() runs its callback synchronously: one shared error slot and trampoline, no closure.
let errorTarget: Exchange;
const pendingError: GatewayError = { status: 0, message: '', kind: ERROR_KIND.NGINX, close: false, headers: null };
function corkedError(): void { errorTarget.writeError(); }

export class Exchange extends RequestContext {
  /** The upstream's response headers, raw: [name, value, …] Buffers (see raw-headers.ts). */
  responseHeaders: Buffer[] = NO_HEADERS;
  /** The body length the upstream declared, or -1 (chunked, or until the upstream closes). */
  contentLength = -1;
  /** performance.now() when the current try was dispatched, and the upstream's answer time (ms). */
  tDispatch = 0;
  upstreamLatency = 0;
  /** undici's resume for a paused upstream (set with each head). */
  resumeUpstream: (() => void) | null = null;
  /** Names the upstream's Connection headers list (hop-by-hop for this response), or null. */
  #dropHeaders: Set<string> | null = null;
  /** HEAD, 204 and 304: the head is the whole response. */
  #headOnly = false;
  /** Body bytes handed to uWS so far (known-length responses). */
  #bodySent = 0;
  /** A known-length chunk uWS did not take in full, and the write offset it started at. */
  #pending: Buffer | null = null;
  #pendingBase = 0;
  /** A chunked write that uWS buffered: the upstream stays paused until onWritable. */
  #backpressured = false;
  /** The upstream's body ended while a chunk still waited for the socket. */
  #upstreamEnded = false;
  #onWritable: ((offset: number) => boolean) | null = null;

  /** The upstream's final head (status >= 200) is in: judge its framing, then write it or hold it. */
  startResponse(status: number, rawHeaders: Buffer[]): void {
    this.status = status;
    this.responseHeaders = rawHeaders;
    // One scan of the head for what decides framing and filtering: Content-Length, Connection.
    let length = -1;
    let connection: string | null = null;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const kind = headerKind(rawHeaders[i]);
      if (kind === KIND.CONTENT_LENGTH) length = parseLength(rawHeaders[i + 1]);
      else if (kind === KIND.CONNECTION) {
        const v = rawHeaders[i + 1].toString('latin1');
        connection = connection === null ? v : `${connection}, ${v}`;
      }
    }
    this.contentLength = length;
    this.#dropHeaders = connection === null ? null : connectionTokens(connection);
    this.#headOnly = this.method === 'HEAD' || status === 204 || status === 304;
    if (this.#headOnly || length === 0) {
      corkTarget = this;
      this.res.cork(corkedHead);
      return;
    }
    this.state = RESPONSE_STATE.HEAD_PENDING;
    waitingHeads.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flushHeads);
    }
  }

  /** A body chunk from the upstream. Returns false while uWS has unsent bytes (undici pauses). */
  streamChunk(chunk: Buffer): boolean {
    if (this.state >= RESPONSE_STATE.ENDING) return true;
    corkTarget = this;
    corkChunk = chunk;
    this.res.cork(corkedChunk);
    return this.#pending === null && !this.#backpressured;
  }

  /** The upstream's body is complete. */
  streamEnd(): void {
    if (this.state >= RESPONSE_STATE.ENDING) return;
    corkTarget = this;
    this.res.cork(corkedEnd);
  }

  /** MUST run corked. Status, headers, and for bodiless responses the end. */
  writeHead(): void {
    const res = this.res;
    this.state = RESPONSE_STATE.HEAD_SENT;
    res.writeStatus(statusLine(this.status));
    writeProxiedHeaders(res, this, this.responseHeaders, this.#dropHeaders, this.status, this.upstreamLatency, Math.round(this.tDispatch - this.t0));
    if (this.#headOnly) {
      this.state = RESPONSE_STATE.ENDING;
      this.releaseBody();
      // A 204 has no Content-Length (nginx drops it too); HEAD and 304 report the upstream's.
      if (this.contentLength >= 0 && this.status !== 204) res.endWithoutBody(this.contentLength);
      else res.endWithoutBody();
      this.finish();
    } else if (this.contentLength === 0) {
      this.state = RESPONSE_STATE.ENDING;
      this.releaseBody();
      res.end();
      this.finish();
    }
  }

  /** MUST run corked, right after writeHead: sends the rest of a known-length head now. */
  flushKnownLengthHead(): void {
    if (this.state >= RESPONSE_STATE.ENDING || this.contentLength <= 0) return;
    this.#pendingBase = this.res.getWriteOffset();
    this.res.tryEnd(EMPTY, this.contentLength);
  }

  /** MUST run corked. Known length: tryEnd streams toward the total; unknown: chunked write. */
  writeChunk(chunk: Buffer): void {
    const res = this.res;
    if (this.contentLength >= 0) {
      this.#bodySent += chunk.length;
      // The last bytes are about to go: the request body is no longer wanted (see releaseBody).
      if (this.#bodySent >= this.contentLength) this.releaseBody();
      this.#pendingBase = res.getWriteOffset();
      const [ok, done] = res.tryEnd(chunk, this.contentLength);
      if (done) {
        this.finish();
      } else if (!ok) {
        this.#pending = chunk;
        res.onWritable(this.#onWritable ??= this.onWritable.bind(this));
      }
    } else if (!res.write(chunk)) {
      this.#backpressured = true;
      res.onWritable(this.#onWritable ??= this.onWritable.bind(this));
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
      if (!ok) return false;
      this.#pending = null;
      if (this.#upstreamEnded) {
        // Everything the upstream sent is out, yet less than its Content-Length: cut.
        this.cut();
        return true;
      }
    }
    this.#backpressured = false;
    this.resumeUpstream?.();
    return true;
  }

  /** MUST run corked. */
  writeEnd(): void {
    this.#upstreamEnded = true;
    // Known length with a chunk still waiting for the socket: onWritable finishes the response.
    if (this.#pending !== null) return;
    this.state = RESPONSE_STATE.ENDING;
    this.releaseBody();
    if (this.contentLength < 0) this.res.end();
    else this.res.close(); // fewer bytes than Content-Length promised: the client must see a cut
    this.finish();
  }

  /** Close the client connection: after the head went out, the only honest failure signal. */
  cut(): void {
    this.state = RESPONSE_STATE.ENDING;
    this.res.close();
    this.finish();
  }

  #tries = 0;
  #peer: Peer | null = null;
  /** undici's abort for the current try. */
  #abort: ((err: Error) => void) | null = null;
  /** The upstream header list of the first try; retries only swap the Host value. */
  #upstreamHeaders: string[] | null = null;
  #hostIndex = -1;

  /**
   * The upstream took no request bytes for write_timeout: fail this try as a timeout (504).
   * Once it has answered, the rest of the body no longer matters (nginx stops sending it too).
   */
  onWriteTimeout(): void {
    if (this.status === 0 && this.#abort !== null) this.#abort(WRITE_TIMEOUT);
  }

  override onAborted(): void {
    super.onAborted();
    if (this.#abort !== null) this.#abort(CLIENT_ABORTED);
  }

  /** One try: the next peer from the route's balancer. MUST only be called after routing. */
  dispatch(): void {
    const route = this.route as RouteRuntime;
    const peer = (route.balancer as Balancer).next();
    if (peer === null) {
      if (isLogEnabled('info')) log('info', 'no peer', { code: 'HW_ERR_BALANCER_NO_PEER', service: route.service?.snap.name, requestId: this.requestId });
      this.sendError(503, 'failure to get a peer from the ring-balancer', ERROR_KIND.KONG_ERROR);
      return;
    }
    this.#peer = peer;
    this.#tries++;
    this.#abort = null;
    this.tDispatch = performance.now();
    const service = (route.service as ServiceRuntime).snap;
    const hasBody = this.body !== null;
    peer.pool.dispatch(
      {
        path: this.upstreamPath,
        method: this.method,
        headers: this.#headersFor(peer),
        body: hasBody ? (this.body as RequestBody).stream() : null,
        headersTimeout: service.readTimeout,
        bodyTimeout: service.readTimeout,
      } as Dispatcher.DispatchOptions,
      this,
    );
  }

  #headersFor(peer: Peer): string[] {
    let h = this.#upstreamHeaders;
    if (h === null) {
      h = upstreamHeaders(this, peer.hostHeader);
      this.#upstreamHeaders = h;
      // Names sit at even indexes; a header *value* may well be the word 'host'.
      for (let i = 0; i < h.length; i += 2) if (h[i] === 'host') this.#hostIndex = i + 1;
    } else if (!(this.route as RouteRuntime).snap.preserveHost) {
      h[this.#hostIndex] = peer.hostHeader;
    }
    return h;
  }

  // ---- undici's handler -----------------------------------------------------------------------

  onConnect(abort: (err: Error) => void): void {
    this.#abort = abort;
    if (this.state === RESPONSE_STATE.ABORTED) abort(CLIENT_ABORTED);
  }

  /** Returns false to pause the upstream (undici's contract); `resume` continues it. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx interim responses (102, 103) precede the real one: nginx does not relay them either.
    if (statusCode < 200) return true;
    this.resumeUpstream = resume;
    if (this.state >= RESPONSE_STATE.ENDING) {
      this.#abort?.(CLIENT_ABORTED);
      return false;
    }
    this.upstreamLatency = Math.round(performance.now() - this.tDispatch);
    this.startResponse(statusCode, rawHeaders);
    return true;
  }

  /** Returns false while uWS has unsent bytes: undici stops reading until `resume`. */
  onData(chunk: Buffer): boolean {
    return this.streamChunk(chunk);
  }

  onComplete(): void {
    this.streamEnd();
  }

  onError(err: Error & { code?: string }): void {
    if (this.state >= RESPONSE_STATE.ENDING) {
      this.finish();
      return;
    }
    if (this.state === RESPONSE_STATE.HEAD_SENT) {
      // The head is out: the only honest signal left is a cut connection.
      this.cut();
      return;
    }
    const failure = classify(err);
    if (isLogEnabled('info')) {
      log('info', 'upstream failure', { code: FAILURE_CODE[failure], cause: err.code, err: err.message, try: this.#tries, peer: this.#peer?.hostHeader, requestId: this.requestId });
    }
    if (this.state === RESPONSE_STATE.HEAD_PENDING) {
      // The upstream's head arrived but nothing was written yet: answer the failure instead,
      // and never retry a request the upstream already answered.
      this.sendError(statusFor(failure), NGINX_MESSAGES[statusFor(failure)], ERROR_KIND.NGINX);
      return;
    }
    const service = ((this.route as RouteRuntime).service as ServiceRuntime).snap;
    const bodySent = this.body !== null && this.body.consumed;
    const retryable = failure !== FAILURE.BAD_RESPONSE && failure !== FAILURE.DNS && failure !== FAILURE.INTERNAL &&
      (isConnectPhase(err, failure) ? !bodySent : !bodySent && IDEMPOTENT.has(this.method));
    if (retryable && this.#tries <= service.retries) {
      this.dispatch();
      return;
    }
    if (failure === FAILURE.DNS) this.sendError(503, 'name resolution failed', ERROR_KIND.KONG_ERROR);
    else this.sendError(statusFor(failure), NGINX_MESSAGES[statusFor(failure)], ERROR_KIND.NGINX);
  }

  // ---- gateway-generated responses ------------------------------------------------------------

  /**
   * Kong's error responses (server/respond.ts writes them), unless the response has begun;
   * `kind` says which part of Kong produces the answer, which decides its body (ERROR_KIND).
   */
  sendError(status: number, message: string, kind: ErrorKind, close = false, headers: string[] | null = null): void {
    if (this.state >= RESPONSE_STATE.HEAD_SENT) return;
    this.state = RESPONSE_STATE.ENDING;
    this.status = status;
    pendingError.status = status;
    pendingError.message = message;
    pendingError.kind = kind;
    pendingError.close = close;
    pendingError.headers = headers;
    errorTarget = this;
    this.res.cork(corkedError);
  }

  /** MUST run corked: called by the trampoline with pendingError filled in. */
  writeError(): void {
    this.releaseBody();
    writeGatewayError(this.res, this, pendingError);
    this.finish();
  }
}
