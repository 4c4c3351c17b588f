/**
 * A WebSocket handshake through the gateway. It is an Exchange (routing, the access phase,
 * Kong's answers and the log phase work as for any request: app.ts serves it), whose dispatch
 * opens a WebSocket to the upstream peer instead of an HTTP request:
 *   - the upstream answers 101: the client's upgrade completes with the upstream's subprotocol
 *     and headers, and a Tunnel (websocket-tunnel.ts) carries the frames;
 *   - it answers anything else: that response (status, headers, body) is relayed as is;
 *   - the connection or handshake fails: Kong's 502 / 503 / 504 before any upgrade, after
 *     retrying connect failures on the next peer as forward.ts does.
 * No extension is negotiated on either side (no permessage-deflate): frames pass unchanged.
 * The exchange stays open (in flight, its try on the peer counted) for the tunnel's life: the log
 * phase runs when the connection ends, as nginx logs an upgraded request.
 */
import { isIP } from 'node:net';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { ws } from '../../lib/optional-packages';
import type { HttpResponse } from '../server/uws';
import type { WorkerSlot } from '../../shared/counter-slab';
import type { Runtime, RouteRuntime, ServiceRuntime } from '../runtime';
import type { Balancer, Peer } from '../balancer/peer';
import { COUNTER, type Counter } from '../../shared/target-table';
import { Exchange } from './forward';
import { RESPONSE_STATE } from '../server/context';
import { answerBadRequest, answerDnsFailure, answerNoPeer, answerUpstreamFailure } from '../server/answers';
import { upstreamHeaders, writeProxiedHeaders } from './headers';
import { classify, statusFor, FAILURE, FAILURE_CODE, type Failure } from './upstream-errors';
import type { UpgradeContext, UpgradeResponse } from '../server/websocket-uws';
import { Tunnel, limits } from './websocket-tunnel';
import { EXCHANGE, connectUpstream, generateMask } from './websocket-connect';
import { log, isLogEnabled } from '../../lib/log';

// ---- the balancer: its one use here (pick a peer for a try, release it with the outcome) ------

function pickPeer(ctx: WebSocketExchange): Peer | null {
  return ((ctx.route as RouteRuntime).balancer as Balancer).pick(ctx);
}

/** The exchange is the balancer's TryOutcome (forward.ts): the outcome goes on it, then release(). */
function releasePeer(ctx: WebSocketExchange, peer: Peer, status: number, failure: Counter | -1): void {
  ctx.tryStatus = status;
  ctx.tryFailure = failure;
  if (failure !== -1) ctx.failedPeers |= 1 << (peer.index & 31);
  ((ctx.route as RouteRuntime).balancer as Balancer).release(peer, ctx);
}

type UpstreamSocket = WebSocket & { [EXCHANGE]: WebSocketExchange };

/** The client's own handshake headers; ws writes the upstream's (a new key, our subprotocol list). */
const HANDSHAKE_HEADERS: ReadonlySet<string> = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']);

// ws events, one function each for every connection (the exchange rides on the socket).
const exchangeOf = (ws: WebSocket): WebSocketExchange => (ws as UpstreamSocket)[EXCHANGE];
function onUpgrade(this: WebSocket, res: IncomingMessage): void { exchangeOf(this).upstreamUpgraded(res); }
function onOpen(this: WebSocket): void { exchangeOf(this).upstreamOpened(); }
function onUnexpectedResponse(this: WebSocket, req: ClientRequest, res: IncomingMessage): void { exchangeOf(this).upstreamRefused(req, res); }
function onError(this: WebSocket, err: Error): void { exchangeOf(this).upstreamFailed(err); }
function onRefusalData(this: IncomingMessage & { [EXCHANGE]: WebSocketExchange }, chunk: Buffer): void {
  if (!this[EXCHANGE].streamChunk(chunk)) this.pause();
}
function onRefusalEnd(this: IncomingMessage & { [EXCHANGE]: WebSocketExchange }): void { this[EXCHANGE].streamEnd(); }
function onRefusalAborted(this: IncomingMessage & { [EXCHANGE]: WebSocketExchange }): void { this[EXCHANGE].refusalCut(); }

const TIMER = { NONE: 0, CONNECT: 1, READ: 2 } as const;
function onTimeout(exchange: WebSocketExchange): void { exchange.timedOut(); }

// ---- the exchange -----------------------------------------------------------------------------

export class WebSocketExchange extends Exchange {
  readonly context: UpgradeContext;
  /** The upstream is reached over TLS (service protocol https): wss. */
  secure = false;
  upstream: WebSocket | null = null;
  tunnel: Tunnel | null = null;
  #peer: Peer | null = null;
  #inTry = false;
  #tryCount = 0;
  #protocols: string[] | null = null;
  #timer: NodeJS.Timeout | null = null;
  #timerKind: number = TIMER.NONE;
  /** The timer that fired during this try (TIMER.CONNECT or READ), else TIMER.NONE. */
  #timedOut: number = TIMER.NONE;
  /** The upstream's 101 head, raw, until the client's upgrade writes it. */
  #upgradeHead: string[] | null = null;
  #refusal: ClientRequest | null = null;
  #hostSent = '';

  constructor(res: HttpResponse, runtime: Runtime, slot: WorkerSlot, context: UpgradeContext) {
    super(res, runtime, slot);
    this.context = context;
  }

  /** One try: a WebSocket to the next peer. Called by app.ts (or the access phase) after routing. */
  override dispatch(): void {
    if (this.state !== RESPONSE_STATE.IDLE) return;
    // A handshake has no body (RFC 6455 §4.1: a GET); one that claims one is not a handshake.
    if (this.body !== null) {
      answerBadRequest(this);
      return;
    }
    const protocols = this.#protocols ?? (this.#protocols = this.#requestedProtocols());
    const peer = pickPeer(this);
    if (peer === null) {
      if (isLogEnabled('info')) log('info', 'no peer', { code: 'HW_ERR_BALANCER_NO_PEER', service: this.route?.service?.snap.name, requestId: this.requestId });
      answerNoPeer(this);
      return;
    }
    this.#peer = peer;
    this.#inTry = true;
    this.#tryCount++;
    this.#timedOut = TIMER.NONE;
    this.tDispatch = performance.now();
    const service = ((this.route as RouteRuntime).service as ServiceRuntime).snap;
    this.secure = service.protocol === 'https';
    const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
    let upstream: UpstreamSocket;
    try {
      upstream = new (ws())(`${this.secure ? 'wss' : 'ws'}://${host}:${peer.port}${this.upstreamPath}`, protocols, {
        headers: this.#handshakeHeaders(peer),
        perMessageDeflate: false,
        followRedirects: false,
        maxPayload: limits.maxPayload,
        // Pings from the upstream go to the client, whose pong comes back (websocket-tunnel.ts).
        autoPong: false,
        generateMask,
        createConnection: connectUpstream as never,
        // Kong's tls_verify defaults to off for services (nginx's proxy_ssl_verify).
        rejectUnauthorized: false,
        [EXCHANGE]: this,
      } as WebSocket.ClientOptions) as UpstreamSocket;
    } catch (err) {
      // ws refuses the URL or the subprotocol list (a token ws would not send): the client's fault.
      this.#endTry(0);
      if (isLogEnabled('info')) log('info', 'bad websocket handshake', { code: 'HW_ERR_REQUEST_BAD', err: (err as Error).message, requestId: this.requestId });
      answerBadRequest(this);
      return;
    }
    upstream[EXCHANGE] = this;
    this.upstream = upstream;
    upstream.on('upgrade', onUpgrade);
    upstream.on('open', onOpen);
    upstream.on('unexpected-response', onUnexpectedResponse);
    upstream.on('error', onError);
    this.#startTimer(TIMER.CONNECT, service.connectTimeout);
  }

  /** The client's Sec-WebSocket-Protocol values (every header line), as ws wants them. */
  #requestedProtocols(): string[] {
    const out: string[] = [];
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] !== 'sec-websocket-protocol') continue;
      for (const p of h[i + 1].split(',')) {
        const t = p.trim();
        if (t !== '') out.push(t);
      }
    }
    return out;
  }

  /** The Host header sent upstream, without its port; '' for an IP address. */
  serverName(): string {
    const host = this.#hostSent;
    const name = host.startsWith('[') ? '' : host.replace(/:\d+$/, '');
    return isIP(name) === 0 ? name : '';
  }

  #handshakeHeaders(peer: Peer): Record<string, string | string[]> {
    const flat = upstreamHeaders(this, peer.hostHeader);
    const out: Record<string, string | string[]> = {};
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i];
      if (HANDSHAKE_HEADERS.has(name)) continue;
      if (name === 'host') this.#hostSent = flat[i + 1];
      const prev = out[name];
      if (prev === undefined) out[name] = flat[i + 1];
      else if (typeof prev === 'string') out[name] = [prev, flat[i + 1]];
      else prev.push(flat[i + 1]);
    }
    return out;
  }

  // ---- timers: connect_timeout until the TCP connect, then read_timeout for the answer -----------

  #startTimer(kind: number, ms: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerKind = kind;
    this.#timer = setTimeout(onTimeout, ms, this);
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerKind = TIMER.NONE;
  }

  connected(): void {
    if (this.#timerKind !== TIMER.CONNECT) return;
    this.#startTimer(TIMER.READ, ((this.route as RouteRuntime).service as ServiceRuntime).snap.readTimeout);
  }

  timedOut(): void {
    this.#timer = null;
    this.#timedOut = this.#timerKind;
    // ws then reports the handshake as failed (upstreamFailed), classified as a timeout.
    this.upstream?.terminate();
  }

  // ---- the upstream's answer ---------------------------------------------------------------------

  upstreamUpgraded(res: IncomingMessage): void {
    this.#stopTimer();
    this.#upgradeHead = res.rawHeaders;
  }

  /** ws checked the 101 (accept key, subprotocol): upgrade the client, corked. */
  upstreamOpened(): void {
    const upstream = this.upstream as WebSocket;
    if (this.state !== RESPONSE_STATE.IDLE) {
      // The client went away (or was answered) while the upstream was connecting.
      this.#endTry(0);
      upstream.terminate();
      return;
    }
    this.upstreamLatency = Math.round(performance.now() - this.tDispatch);
    // Nothing is read from the upstream until the client's side is open (Tunnel.clientOpened).
    upstream.pause();
    this.tunnel = new Tunnel(this, upstream);
    upgrading = this;
    this.res.cork(corkedUpgrade);
  }

  /** MUST run corked: the 101 with the upstream's headers and Kong's, then uWS's upgrade. */
  completeUpgrade(): void {
    const res = this.res as UpgradeResponse;
    this.status = 101;
    // uWS takes the connection over: `res` is dead from here on.
    this.state = RESPONSE_STATE.ENDING;
    let raw = upgradeHeaders(this.#upgradeHead);
    this.#upgradeHead = null;
    const pipeline = this.pipeline;
    if (pipeline !== null && pipeline.filtersHead) raw = pipeline.filterUpstreamHead(raw);
    res.writeStatus('101 Switching Protocols');
    writeProxiedHeaders(res, this, raw, null, 101, this.upstreamLatency, Math.round(this.tDispatch - this.t0));
    const upstream = this.upstream as WebSocket;
    res.upgrade({ tunnel: this.tunnel }, this.header('sec-websocket-key') ?? '', upstream.protocol, '', this.context);
  }

  /** The upstream answered without upgrading: relay its response (status, headers, body). */
  upstreamRefused(req: ClientRequest, res: IncomingMessage): void {
    this.#stopTimer();
    this.#refusal = req;
    this.#tryStatus = res.statusCode ?? 502;
    if (this.state !== RESPONSE_STATE.IDLE) {
      this.#endTry(0);
      req.destroy();
      return;
    }
    this.upstreamLatency = Math.round(performance.now() - this.tDispatch);
    const body = res as IncomingMessage & { [EXCHANGE]: WebSocketExchange };
    body[EXCHANGE] = this;
    this.resumeUpstream = resumeRefusal.bind(res);
    res.on('data', onRefusalData);
    res.on('end', onRefusalEnd);
    res.on('aborted', onRefusalAborted);
    const head = res.rawHeaders;
    const raw: Buffer[] = new Array(head.length);
    for (let i = 0; i < head.length; i++) raw[i] = Buffer.from(head[i], 'latin1');
    this.startResponse(this.#tryStatus, raw);
  }

  #tryStatus = 0;

  /** The refused response broke off mid-body. */
  refusalCut(): void {
    this.#endTry(0);
    if (this.state === RESPONSE_STATE.HEAD_SENT) this.cut();
    else if (this.state < RESPONSE_STATE.ENDING) answerUpstreamFailure(this, 502);
  }

  protected override beforeLastWrite(): void {
    this.#endTry(this.#tryStatus);
    this.#refusal?.destroy();
    this.#refusal = null;
  }

  /** A failure before the tunnel exists: retry a connect failure, else Kong's answer. */
  upstreamFailed(err: Error & { code?: string }): void {
    this.#stopTimer();
    if (this.tunnel !== null) {
      // After the upgrade the tunnel sees the close that follows; this only keeps ws quiet.
      this.tunnel.upstreamError(err);
      return;
    }
    this.upstream = null;
    if (this.state !== RESPONSE_STATE.IDLE) {
      // The client went away first (onAborted terminated the upstream): nothing to hold against the peer.
      this.#endTry(0);
      return;
    }
    const timedOut = this.#timedOut !== TIMER.NONE;
    const failure: Failure = timedOut ? FAILURE.TIMEOUT : classify(err);
    this.#endTry(0, timedOut ? COUNTER.TIMEOUT : failure === FAILURE.CONNECT || failure === FAILURE.RESET || failure === FAILURE.BAD_RESPONSE ? COUNTER.TCP : -1);
    if (isLogEnabled('info')) {
      log('info', 'upstream websocket failure', { code: FAILURE_CODE[failure], cause: err.code, err: err.message, try: this.#tryCount, peer: this.#peer?.hostHeader, requestId: this.requestId });
    }
    const connectPhase = failure === FAILURE.CONNECT || this.#timedOut === TIMER.CONNECT;
    if (connectPhase && this.#tryCount <= ((this.route as RouteRuntime).service as ServiceRuntime).snap.retries) {
      this.dispatch();
      return;
    }
    if (failure === FAILURE.DNS) answerDnsFailure(this);
    else answerUpstreamFailure(this, statusFor(failure));
  }

  /** Ends the current try once: with the upstream's status (> 0), or a failure counter, or neither (0, -1). */
  #endTry(status: number, failure: Counter | -1 = -1): void {
    if (!this.#inTry) return;
    this.#inTry = false;
    releasePeer(this, this.#peer as Peer, status, failure);
  }

  /** The tunnel is over on both sides: the try ends (101) and the request is counted and logged. */
  tunnelClosed(): void {
    this.#endTry(101);
    this.finish();
  }

  override onAborted(): void {
    // After the upgrade uWS owns the connection; the tunnel reports its end.
    if (this.tunnel !== null) return;
    this.#stopTimer();
    super.onAborted();
    const upstream = this.upstream;
    if (upstream !== null && upstream.readyState === upstream.CONNECTING) upstream.terminate();
    this.#refusal?.destroy();
  }
}

function resumeRefusal(this: IncomingMessage): void { this.resume(); }

let upgrading: WebSocketExchange;
function corkedUpgrade(): void { upgrading.completeUpgrade(); }

/** The upstream's 101 head minus what uWS writes itself for the client's handshake. */
function upgradeHeaders(head: string[] | null): Buffer[] {
  const out: Buffer[] = [];
  if (head === null) return out;
  for (let i = 0; i < head.length; i += 2) {
    const lower = head[i].toLowerCase();
    if (lower.startsWith('sec-websocket-')) continue;
    out.push(Buffer.from(head[i], 'latin1'), Buffer.from(head[i + 1], 'latin1'));
  }
  return out;
}
