/**
 * One proxied request: the copied client request, the chosen route and service, the tries against
 * upstream peers, and the streamed response. The Exchange is itself the undici dispatch handler,
 * in undici's core interface (onConnect, onHeaders, onData, onComplete, onError): the newer
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
import type { HttpResponse } from '../server/uws';
import type { WorkerSlot } from '../../shared/counter-slab';
import type { Runtime, RouteRuntime, ServiceRuntime } from '../runtime';
import type { RouteMatch } from '../router';
import type { Balancer, Peer } from '../balancer/peer';
import { RequestBody } from './stream-request';
import { log, isLogEnabled } from '../../lib/log';
import { upstreamHeaders, writeProxiedHeaders, connectionTokens } from './headers';
import { headerKind, parseLength, KIND } from './raw-headers';
import { classify, statusFor, isConnectPhase, IDEMPOTENT, FAILURE, FAILURE_CODE } from './upstream-errors';
import { statusLine, writeGatewayError, NGINX_MESSAGES, ERROR_KIND, type ErrorKind, type GatewayError } from '../server/respond';

// Cork trampolines: res.cork() runs its callback synchronously, so a module-level target lets
// one shared function do the work instead of a new closure per write.
let corkTarget: Exchange;
let corkChunk: Buffer;
const pendingError: GatewayError = { status: 0, message: '', kind: ERROR_KIND.NGINX, close: false, headers: null };
const NO_HEADERS: Buffer[] = [];
// One reason object for every abort: the client went away; nobody reads its stack.
const CLIENT_ABORTED = new Error('client aborted');
const WRITE_TIMEOUT = Object.assign(new Error('write_timeout: the upstream took no request bytes'), { code: 'HW_ERR_UPSTREAM_TIMEOUT' });
function corkedHead(): void { corkTarget.writeHead(); }
function corkedChunk(): void {
  if (corkTarget.headPending) corkTarget.writeHead();
  corkTarget.writeChunk(corkChunk);
}
function corkedEnd(): void {
  if (corkTarget.headPending) corkTarget.writeHead();
  corkTarget.writeEnd();
}

// The response head waits for the first body bytes so that head and body leave in one send
// (undici usually delivers both in the same parser pass). Heads still waiting when that pass
// ends are flushed from one microtask for all exchanges. uWS sends the end of a head (its own
// Date, framing and blank line) only with the first body write, so a known-length head is
// pushed out with an empty tryEnd; a chunked head still waits for its first chunk (uWS 20.30
// sends nothing for an empty write).
const waitingHeads: Exchange[] = [];
let flushScheduled = false;
function flushHeads(): void {
  flushScheduled = false;
  for (let i = 0; i < waitingHeads.length; i++) {
    const x = waitingHeads[i];
    if (!x.headPending) continue;
    corkTarget = x;
    x.res.cork(corkedHeadFlush);
  }
  waitingHeads.length = 0;
}
function corkedHeadFlush(): void {
  corkTarget.writeHead();
  corkTarget.flushKnownLengthHead();
}
const EMPTY = Buffer.alloc(0);
function corkedError(): void { corkTarget.writeError(); }

export class Exchange {
  readonly res: HttpResponse;
  readonly rt: Runtime;
  readonly slot: WorkerSlot;
  readonly t0: number;
  method = '';
  url = '';
  /** The raw query string with its `?` (kept for a bare trailing `?`), or '' when there is none. */
  search = '';
  host = '';
  /** Client headers, flat [name, value, …], names lowercased by uWS. */
  headers: string[] = [];
  connection: string | null = null;
  remote = '';
  realIp = '';
  trusted = false;
  requestId = '';
  debug = false;

  match: RouteMatch | null = null;
  route: RouteRuntime | null = null;
  upstreamPath = '';
  body: RequestBody | null = null;

  #tries = 0;
  #peer: Peer | null = null;
  /** undici's abort for the current try, and the resume after a paused onData. */
  #abort: ((err: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #tDispatch = 0;
  #upstreamLatency = 0;
  #status = 0;
  /** The upstream's response headers, raw: [name, value, …] Buffers (see raw-headers.ts). */
  #rawHeaders: Buffer[] = NO_HEADERS;
  /** Names the upstream's Connection headers list (hop-by-hop for this response), or null. */
  #dropHeaders: Set<string> | null = null;
  /** Body bytes handed to uWS so far (known-length responses). */
  #bodySent = 0;
  #onWritable: ((offset: number) => boolean) | null = null;
  /** The upstream header list of the first try; retries only swap the Host value. */
  #upstreamHeaders: string[] | null = null;
  #hostIndex = -1;
  #contentLength = -1;
  #headOnly = false;
  #headSent = false;
  /** The head is received from the upstream but not yet written (see waitingHeads). */
  headPending = false;
  /** The uWS response is finished (ended, closed or aborted): it MUST NOT be touched again. */
  #resDone = false;
  #aborted = false;
  #open = true;
  #pending: Buffer | null = null;
  #pendingBase = 0;
  #backpressured = false;
  #upstreamEnded = false;

  constructor(res: HttpResponse, rt: Runtime, slot: WorkerSlot) {
    this.res = res;
    this.rt = rt;
    this.slot = slot;
    this.t0 = performance.now();
    slot.requestStarted();
  }

  get listenerPortText(): string { return this.rt.listenerPortText; }

  header(name: string): string | null {
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
    return null;
  }

  /** nginx `$host`: the Host header without its port, lowercased. */
  hostName(): string {
    const h = this.host;
    if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1).toLowerCase();
    const c = h.indexOf(':');
    return (c === -1 ? h : h.slice(0, c)).toLowerCase();
  }

  /** X-Forwarded-Prefix: the stripped prefix, when strip_path removed something other than `/`. */
  forwardedPrefix(): string | null {
    const route = this.route;
    const prefix = this.match === null ? '' : this.match.prefix;
    return route !== null && route.snap.stripPath && prefix !== '' && prefix !== '/' ? prefix : null;
  }

  /**
   * The upstream took no request bytes for write_timeout: fail this try as a timeout (504).
   * Once it has answered, the rest of the body no longer matters (nginx stops sending it too).
   */
  onWriteTimeout(): void {
    if (this.#status === 0 && this.#abort !== null) this.#abort(WRITE_TIMEOUT);
  }

  onAborted(): void {
    this.#aborted = true;
    this.#resDone = true;
    this.headPending = false; // flushHeads MUST NOT touch an aborted response
    if (this.#abort !== null) this.#abort(CLIENT_ABORTED);
    this.finish();
  }

  // ---- upstream tries -------------------------------------------------------------------------

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
    this.#tDispatch = performance.now();
    const s = (route.service as ServiceRuntime).snap;
    const hasBody = this.body !== null;
    peer.pool.dispatch(
      {
        path: this.upstreamPath,
        method: this.method,
        headers: this.#headersFor(peer),
        body: hasBody ? (this.body as RequestBody).stream() : null,
        headersTimeout: s.readTimeout,
        bodyTimeout: s.readTimeout,
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

  onConnect(abort: (err: Error) => void): void {
    this.#abort = abort;
    if (this.#aborted) abort(CLIENT_ABORTED);
  }

  /** Returns false to pause the upstream (undici's contract); `resume` continues it. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx interim responses (102, 103) precede the real one: nginx does not relay them either.
    if (statusCode < 200) return true;
    this.#resume = resume;
    if (this.#resDone) {
      this.#abort?.(CLIENT_ABORTED);
      return false;
    }
    this.#upstreamLatency = Math.round(performance.now() - this.#tDispatch);
    this.#status = statusCode;
    this.#rawHeaders = rawHeaders;
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
    this.#contentLength = length;
    this.#dropHeaders = connection === null ? null : connectionTokens(connection);
    this.#headOnly = this.method === 'HEAD' || statusCode === 204 || statusCode === 304;
    if (this.#headOnly || this.#contentLength === 0) {
      corkTarget = this;
      this.res.cork(corkedHead);
      return true;
    }
    this.headPending = true;
    waitingHeads.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flushHeads);
    }
    return true;
  }

  /** MUST run corked. Status, headers, and for bodiless responses the end. */
  writeHead(): void {
    const res = this.res;
    this.#headSent = true;
    this.headPending = false;
    res.writeStatus(statusLine(this.#status));
    writeProxiedHeaders(res, this, this.#rawHeaders, this.#dropHeaders, this.#status, this.#upstreamLatency, Math.round(this.#tDispatch - this.t0));
    if (this.#headOnly) {
      this.#resDone = true;
      this.#releaseBody();
      // A 204 has no Content-Length (nginx drops it too); HEAD and 304 report the upstream's.
      if (this.#contentLength >= 0 && this.#status !== 204) res.endWithoutBody(this.#contentLength);
      else res.endWithoutBody();
      this.finish();
    } else if (this.#contentLength === 0) {
      this.#resDone = true;
      this.#releaseBody();
      res.end();
      this.finish();
    }
  }

  /** Returns false while uWS has unsent bytes: undici stops reading until `resume`. */
  /** MUST run corked, right after writeHead: sends the rest of a known-length head now. */
  flushKnownLengthHead(): void {
    if (this.#resDone || this.#contentLength <= 0) return;
    this.#pendingBase = this.res.getWriteOffset();
    this.res.tryEnd(EMPTY, this.#contentLength);
  }

  onData(chunk: Buffer): boolean {
    if (this.#resDone) return true;
    corkTarget = this;
    corkChunk = chunk;
    this.res.cork(corkedChunk);
    return this.#pending === null && !this.#backpressured;
  }

  /** MUST run corked. Known length: tryEnd streams toward the total; unknown: chunked write. */
  writeChunk(chunk: Buffer): void {
    const res = this.res;
    if (this.#contentLength >= 0) {
      this.#bodySent += chunk.length;
      // The last bytes are about to go: the request body is no longer wanted (see #releaseBody).
      if (this.#bodySent >= this.#contentLength) this.#releaseBody();
      this.#pendingBase = res.getWriteOffset();
      const [ok, done] = res.tryEnd(chunk, this.#contentLength);
      if (done) {
        this.#resDone = true;
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
    if (this.#resDone) return true;
    const pending = this.#pending;
    if (pending !== null) {
      const [ok, done] = this.res.tryEnd(pending.subarray(offset - this.#pendingBase), this.#contentLength);
      if (done) {
        this.#pending = null;
        this.#resDone = true;
        this.finish();
        return true;
      }
      if (!ok) return false;
      this.#pending = null;
      if (this.#upstreamEnded) {
        // Everything the upstream sent is out, yet less than its Content-Length: cut.
        this.#resDone = true;
        this.res.close();
        this.finish();
        return true;
      }
    }
    this.#backpressured = false;
    this.#resume?.();
    return true;
  }

  onComplete(): void {
    if (this.#resDone) return;
    corkTarget = this;
    this.res.cork(corkedEnd);
  }

  /** MUST run corked. */
  writeEnd(): void {
    this.#upstreamEnded = true;
    // Known length with a chunk still waiting for the socket: onWritable finishes the response.
    if (this.#pending !== null) return;
    this.#resDone = true;
    this.#releaseBody();
    if (this.#contentLength < 0) this.res.end();
    else this.res.close(); // fewer bytes than Content-Length promised: the client must see a cut
    this.finish();
  }

  onError(err: Error & { code?: string }): void {
    if (this.#resDone) {
      this.finish();
      return;
    }
    if (this.#headSent) {
      // The head is out: the only honest signal left is a cut connection.
      this.#resDone = true;
      this.res.close();
      this.finish();
      return;
    }
    const failure = classify(err);
    if (isLogEnabled('info')) {
      log('info', 'upstream failure', { code: FAILURE_CODE[failure], cause: err.code, err: err.message, try: this.#tries, peer: this.#peer?.hostHeader, requestId: this.requestId });
    }
    if (this.headPending) {
      // The upstream's head arrived but nothing was written yet: answer the failure instead,
      // and never retry a request the upstream already answered.
      this.headPending = false;
      this.sendError(statusFor(failure), NGINX_MESSAGES[statusFor(failure)], ERROR_KIND.NGINX);
      return;
    }
    const s = ((this.route as RouteRuntime).service as ServiceRuntime).snap;
    const bodySent = this.body !== null && this.body.consumed;
    const retryable = failure !== FAILURE.BAD_RESPONSE && failure !== FAILURE.DNS && failure !== FAILURE.INTERNAL &&
      (isConnectPhase(err, failure) ? !bodySent : !bodySent && IDEMPOTENT.has(this.method));
    if (retryable && this.#tries <= s.retries) {
      this.dispatch();
      return;
    }
    if (failure === FAILURE.DNS) this.sendError(503, 'name resolution failed', ERROR_KIND.KONG_ERROR);
    else this.sendError(statusFor(failure), NGINX_MESSAGES[statusFor(failure)], ERROR_KIND.NGINX);
  }

  // ---- gateway-generated responses ------------------------------------------------------------

  /**
   * Kong's error responses (server/respond.ts writes them); `kind` says which part of Kong
   * produces the answer, which decides its body (ERROR_KIND).
   */
  sendError(status: number, message: string, kind: ErrorKind, close = false, headers: string[] | null = null): void {
    if (this.#resDone) return;
    this.#resDone = true;
    pendingError.status = status;
    pendingError.message = message;
    pendingError.kind = kind;
    pendingError.close = close;
    pendingError.headers = headers;
    corkTarget = this;
    this.res.cork(corkedError);
  }

  /** MUST run corked: called by the trampoline with pendingError filled in. */
  writeError(): void {
    this.#releaseBody();
    writeGatewayError(this.res, this, pendingError);
    this.finish();
  }

  /**
   * The response is about to end while the client may still be sending its body (an early 401
   * or 413): resume the client if it was paused and drop the rest, so the keep-alive connection
   * drains instead of stalling. MUST run before the final write, while `res` is still valid.
   */
  #releaseBody(): void {
    if (this.body !== null) this.body.release();
  }

  finish(): void {
    if (!this.#open) return;
    this.#open = false;
    this.slot.requestFinished();
    if (this.body !== null) this.body.discard();
  }
}
