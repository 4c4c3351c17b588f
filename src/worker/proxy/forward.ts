/**
 * One proxied request's tries against upstream peers. The Exchange is the request context
 * (server/context.ts) and its response writer (stream-response.ts), and it is itself the undici
 * dispatch handler, in undici's core interface (onConnect, onHeaders, onData, onComplete,
 * onError): the newer onRequestStart API wraps that one with a controller and a parsed header
 * object per response, which the hot path does not need. A request costs one object, not a
 * closure per event.
 *
 * Failure flows, never throws: connect-phase failures are retried on the next peer while tries
 * remain (Kong `retries`); other failures are retried only for idempotent requests whose body
 * was not sent; then Kong's 502/503/504. After the response head went out, a failure can only
 * close the client connection, which is what nginx does too.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { RouteRuntime, ServiceRuntime } from '../runtime';
import type { Balancer, BalanceContext, Peer, TryOutcome } from '../balancer/peer';
import { COUNTER, type Counter } from '../../shared/target-table';
import { StreamedResponse } from './stream-response';
import { RESPONSE_STATE } from '../server/context';
import { answerNoPeer, answerDnsFailure, answerUpstreamFailure } from '../server/answers';
import { log, isLogEnabled } from '../../lib/log';
import { upstreamHeaders } from './headers';
import { classify, statusFor, isConnectPhase, IDEMPOTENT, FAILURE, FAILURE_CODE } from './upstream-errors';
import { upstreamReads, type ReadWatch } from './read-deadline';

// One reason object for every abort: the client went away; nobody reads its stack.
const CLIENT_ABORTED = new Error('client aborted');
/**
 * undici runs timeouts up to 1 s on node's timers. An abort from the gateway's sweep leaves undici
 * reconnecting once for the aborted request (its socket closes as "informational"): below this the
 * clients time out themselves.
 */
const NATIVE_TIMER_MS = 1000;
const WRITE_TIMEOUT = Object.assign(new Error('write_timeout: the upstream took no request bytes'), { code: 'HW_ERR_UPSTREAM_TIMEOUT' });
const READ_TIMEOUT = Object.assign(new Error('read_timeout: the upstream sent nothing'), { code: 'HW_ERR_UPSTREAM_TIMEOUT' });

export class Exchange extends StreamedResponse implements BalanceContext, TryOutcome, ReadWatch {
  #tries = 0;
  #peer: Peer | null = null;
  /** The peer of the current (or last) try, or null before any. */
  get peer(): Peer | null { return this.#peer; }
  // BalanceContext: what the balancer keeps on the request between tries.
  failedPeers = 0;
  hashPoint = -1;
  // TryOutcome: how the current try ended, read by the balancer's release().
  tryStatus = 0;
  tryFailure: Counter | -1 = -1;
  /** Read by release() as the try ends, so only a balancer that wants it pays for the clock. */
  get tryLatency(): number { return performance.now() - this.tDispatch; }
  /** undici's abort for the current try. */
  #abort: ((err: Error) => void) | null = null;
  /** The upstream header list of the first try; retries only swap the Host value. */
  #upstreamHeaders: string[] | null = null;
  #hostIndex = -1;
  /** The current try on #peer has not been released to the balancer yet. */
  #inTry = false;
  // ReadWatch: Kong's read_timeout, swept per worker (read-deadline.ts), not undici's coarse timers.
  reads = 0;
  readSeen = 0;
  readSince = 0;
  readLimit = 0;
  readIndex = -1;
  readPaused = false;

  /**
   * Ends the current try exactly once: the balancer's release() with the outcome (the status
   * when the upstream answered, else the failure: connect errors and resets are TCP failures, as
   * Kong counts them; a client that went away reports none), which also marks the peer failed
   * for this request's retries.
   */
  #endTry(err: (Error & { code?: string }) | null): void {
    if (!this.#inTry) return;
    this.#inTry = false;
    upstreamReads.unwatch(this);
    const peer = this.#peer as Peer;
    let failure: Counter | -1 = -1;
    if (this.tryStatus === 0 && err !== null && err !== CLIENT_ABORTED) {
      const f = classify(err);
      failure = f === FAILURE.TIMEOUT ? COUNTER.TIMEOUT : f === FAILURE.CONNECT || f === FAILURE.RESET || f === FAILURE.BAD_RESPONSE ? COUNTER.TCP : -1;
      this.failedPeers |= 1 << (peer.index & 31);
    }
    this.tryFailure = failure;
    ((this.route as RouteRuntime).balancer as Balancer).release(peer, this);
  }

  /**
   * The upstream took no request bytes for write_timeout: fail this try as a timeout (504).
   * Once it has answered, the rest of the body no longer matters (nginx stops sending it too).
   */
  onWriteTimeout(): void {
    if (this.status === 0 && this.#abort !== null) this.#abort(WRITE_TIMEOUT);
  }

  readExpired(): void {
    if (this.#abort !== null) this.#abort(READ_TIMEOUT);
  }

  /** client_body_timeout (client-body-deadline.ts): nginx's 408 and a closed connection; the try, if any, is aborted. */
  clientBodyTimedOut(): void {
    this.closeAfter = true;
    if (this.state === RESPONSE_STATE.HEAD_SENT) this.cut();
    else answerUpstreamFailure(this, 408);
    if (this.#abort !== null) this.#abort(CLIENT_ABORTED);
  }

  override onAborted(): void {
    super.onAborted();
    if (this.#abort !== null) this.#abort(CLIENT_ABORTED);
  }

  /** One try: the next peer from the route's balancer. MUST only be called after routing. */
  dispatch(): void {
    if (this.body !== null && this.bodyBuffer === null && this.body.hold(this)) return;
    const route = this.route as RouteRuntime;
    // Every try is released before the next one picks (onError does it first; this is the guard).
    this.#endTry(null);
    const peer = (route.balancer as Balancer).pick(this);
    if (peer === null) {
      if (isLogEnabled('info')) log('info', 'no peer', { code: 'HW_ERR_BALANCER_NO_PEER', service: route.service?.snap.name, requestId: this.requestId });
      answerNoPeer(this);
      return;
    }
    this.#peer = peer;
    this.#inTry = true;
    this.tryStatus = 0;
    this.#tries++;
    this.#abort = null;
    this.tDispatch = performance.now();
    // The own client takes a streamed body's chunks straight from the RequestBody; undici gets a Readable.
    const body = this.bodyBuffer ?? (this.body === null ? null : this.body.bodyFor(peer.pool.takesChunks === true));
    peer.pool.dispatch(this.#dispatchOptions(peer, body as Dispatcher.DispatchOptions['body']), this);
  }

  /**
   * One options object per exchange: a retry updates the fields a try changes (Host, a fresh
   * body stream). undici has built its request from the previous try's options by then.
   */
  #options: Dispatcher.DispatchOptions | null = null;
  #dispatchOptions(peer: Peer, body: Dispatcher.DispatchOptions['body']): Dispatcher.DispatchOptions {
    const headers = this.#headersFor(peer);
    let o = this.#options;
    if (o === null) {
      // Up to NATIVE_TIMER_MS the client's own timers are exact (undici's are node timers there,
      // the own client's always are) and a timeout closes the connection cleanly; above it the
      // worker's sweep keeps read_timeout (undici's coarse fast timers fire up to ~1 s late).
      const rt = ((this.route as RouteRuntime).service as ServiceRuntime).snap.readTimeout;
      const own = rt <= NATIVE_TIMER_MS ? rt : 0;
      o = { path: this.upstreamPath, method: this.upstreamMethod ?? this.method, headers, body, headersTimeout: own, bodyTimeout: own } as Dispatcher.DispatchOptions;
      this.#options = o;
    } else {
      o.body = body;
    }
    return o;
  }

  #headersFor(peer: Peer): string[] {
    let h = this.#upstreamHeaders;
    if (h === null) {
      h = upstreamHeaders(this, peer.hostHeader);
      this.#upstreamHeaders = h;
      // Names sit at even indexes; a header *value* may well be the word 'host'.
      for (let i = 0; i < h.length; i += 2) if (h[i] === 'host') this.#hostIndex = i + 1;
    } else if (!(this.route as RouteRuntime).snap.preserveHost && this.upstreamHost === null) {
      h[this.#hostIndex] = peer.hostHeader;
    }
    return h;
  }

  // ---- undici's handler -----------------------------------------------------------------------

  onConnect(abort: (err: Error) => void): void {
    this.#abort = abort;
    if (this.state === RESPONSE_STATE.ABORTED) abort(CLIENT_ABORTED);
  }

  /** The whole request is written: read_timeout runs from here, as nginx's proxy_read_timeout. */
  onRequestSent(): void {
    const rt = ((this.route as RouteRuntime).service as ServiceRuntime).snap.readTimeout;
    if (this.readLimit === 0 && rt > NATIVE_TIMER_MS) upstreamReads.watch(this, rt);
  }

  /** Returns false to pause the upstream (undici's contract); `resume` continues it. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.reads++;
    // An upstream that answers before taking the whole body is reading now.
    if (this.readLimit === 0) this.onRequestSent();
    // 1xx interim responses (102, 103) precede the real one: nginx does not relay them either.
    if (statusCode < 200) return true;
    this.resumeUpstream = resume;
    this.tryStatus = statusCode;
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
    this.reads++;
    const taken = this.streamChunk(chunk);
    // Paused for the client: read_timeout waits until onWritable resumes the upstream.
    this.readPaused = !taken;
    return taken;
  }

  /** The client drained what waited: the upstream is read again, and its clock restarts. */
  override onWritable(offset: number): boolean {
    const drained = super.onWritable(offset);
    if (drained) {
      this.readPaused = false;
      this.reads++;
    }
    return drained;
  }

  onComplete(): void {
    this.#endTry(null);
    this.streamEnd();
  }

  /** The response is about to complete for the client: the try is over (in-flight released). */
  protected override beforeLastWrite(): void {
    this.#endTry(null);
  }

  onError(err: Error & { code?: string }): void {
    this.#endTry(err);
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
      answerUpstreamFailure(this, statusFor(failure));
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
    if (failure === FAILURE.DNS) answerDnsFailure(this);
    else answerUpstreamFailure(this, statusFor(failure));
  }
}
