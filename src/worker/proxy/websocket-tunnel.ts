/**
 * A proxied WebSocket after the handshake: the client's socket (uWS) and the upstream's (ws),
 * frames relayed both ways as they came (text stays text, binary stays binary), close codes
 * and reasons passed through, pings relayed.
 *
 * Backpressure:
 *   upstream → client: a send that uWS has to buffer pauses reading from the upstream socket;
 *     uWS's drain resumes it once less than RESUME_BELOW is buffered.
 *   client → upstream: uWS (20.30 and 20.57) cannot pause reading one WebSocket, so what the
 *     upstream has not taken is bounded instead: past limits.upstreamBufferLimit the client is closed
 *     with 1008 and the upstream connection dropped.
 * Ping/pong: uWS answers the client's pings itself and the upstream's pings are relayed to the
 * client (the gateway does not answer them), whose pongs go back; the client's pings are also
 * sent on to the upstream, so each side sees the other's liveness. Idle clients are pinged by
 * uWS (sendPingsAutomatically) and closed when they stop answering (limits.idleTimeoutS).
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import type { UwsWebSocket } from '../server/websocket-uws';
import { SEND } from '../server/websocket-uws';
import type { WebSocketExchange } from './websocket-handshake';
import { log, isLogEnabled } from '../../lib/log';

/**
 * Limits from the settings (websocket_max_message_size, websocket_idle_timeout,
 * websocket_upstream_buffer_limit), set by the worker before it creates its apps: uWS takes its
 * part when App.ws is registered, so they change with a restart.
 */
export const limits = {
  /** The largest message either side may send (ws maxPayload; fromClient for the client); larger → 1009. */
  maxPayload: 16 * 1024 * 1024,
  /**
   * uWS's maxPayloadLength: twice maxPayload. uWS (20.30) answers a message over its own limit by
   * dropping the connection without a close frame (the client sees 1006), so the gateway keeps
   * that for messages over twice the limit and answers those in between with a 1009 itself.
   */
  uwsMaxPayload: 32 * 1024 * 1024,
  /** uWS's own cap on a client's buffered bytes (a send past it is dropped): never reached while the pause works. */
  maxBackpressure: 32 * 1024 * 1024,
  /** Client messages the upstream has not taken yet, at most (see the file comment); beyond → 1008. */
  upstreamBufferLimit: 32 * 1024 * 1024,
  /** uWS closes a client that neither sends nor answers a ping for this long (seconds, 0 = never; 20.30 granularity 4 s). */
  idleTimeoutS: 120,
};

export function setWebSocketLimits(s: { websocketMaxMessageSize: number; websocketIdleTimeout: number; websocketUpstreamBufferLimit: number }): void {
  // A snapshot from an older primary has none of them: the defaults stay.
  if (s.websocketMaxMessageSize === undefined) return;
  limits.maxPayload = s.websocketMaxMessageSize;
  limits.uwsMaxPayload = 2 * s.websocketMaxMessageSize;
  // Room for two whole messages: a single message is never dropped while the pause is pending.
  limits.maxBackpressure = 2 * s.websocketMaxMessageSize;
  limits.upstreamBufferLimit = s.websocketUpstreamBufferLimit;
  limits.idleTimeoutS = Math.round(s.websocketIdleTimeout / 1000);
}

/** The upstream is read again once the client has less than this left to send. */
const RESUME_BELOW = 64 * 1024;

/** What res.upgrade carries to the uWS handlers (see UwsWebSocket.getUserData). */
export interface TunnelRef {
  tunnel: Tunnel;
}
export type ClientSocket = UwsWebSocket<TunnelRef>;

const TUNNEL = Symbol('hyperway.websocket.tunnel');
type UpstreamSocket = WebSocket & { [TUNNEL]: Tunnel };
const BINARY = { binary: true };
const TEXT = { binary: false };
const GOING_AWAY = 'going away';
const EMPTY = Buffer.alloc(0);

/** Tunnels whose client side is open: closed with 1001 when the worker drains. */
const open = new Set<Tunnel>();
let draining = false;

// Writes to a client socket from outside uWS's handlers run corked (one send, no warning):
// module-level trampolines instead of a closure per message.
let target: ClientSocket;
let payload: Buffer | ArrayBuffer;
let isBinary = false;
let code = 0;
let sent: number = SEND.SUCCESS;
function corkedSend(): void { sent = target.send(payload, isBinary, false); }
function corkedPing(): void { target.ping(payload); }
function corkedEnd(): void {
  if (code === 0) target.end();
  else target.end(code, payload);
}

const tunnelOf = (ws: WebSocket): Tunnel => (ws as UpstreamSocket)[TUNNEL];
function onUpstreamMessage(this: WebSocket, data: Buffer, binary: boolean): void { tunnelOf(this).fromUpstream(data, binary); }
function onUpstreamPing(this: WebSocket, data: Buffer): void { tunnelOf(this).upstreamPing(data); }
function onUpstreamClose(this: WebSocket, closeCode: number, reason: Buffer): void { tunnelOf(this).upstreamClosed(closeCode, reason); }

const corkedTunnels: Tunnel[] = [];
function uncorkAll(): void {
  for (let i = 0; i < corkedTunnels.length; i++) {
    corkedTunnels[i].corked = false;
    (corkedTunnels[i].socket as Socket).uncork();
  }
  corkedTunnels.length = 0;
}

/** Codes a close frame may carry (RFC 6455 §7.4, as ws accepts them). */
function sendableCode(c: number): boolean {
  return (c >= 1000 && c <= 1014 && c !== 1004 && c !== 1005 && c !== 1006) || (c >= 3000 && c <= 4999);
}

export class Tunnel {
  readonly exchange: WebSocketExchange;
  readonly upstream: WebSocket;
  /** The client's socket while it is open; null before uWS opens it and once it is closing. */
  client: ClientSocket | null = null;
  #clientDone = false;
  #upstreamDone = false;
  #paused = false;
  #upstreamError = false;
  /** Upstream pings relayed to the client whose pongs have not come back. */
  #pings = 0;
  /** The upstream's TCP socket (ws keeps it in `_socket`), corked while `corked`; null if ws hides it. */
  readonly socket: Socket | null;
  corked = false;

  constructor(exchange: WebSocketExchange, upstream: WebSocket) {
    this.exchange = exchange;
    this.upstream = upstream;
    (upstream as UpstreamSocket)[TUNNEL] = this;
    this.socket = (upstream as unknown as { _socket?: Socket })._socket ?? null;
    upstream.on('message', onUpstreamMessage);
    upstream.on('ping', onUpstreamPing);
    upstream.on('close', onUpstreamClose);
  }

  /** uWS opened the client's socket (inside res.upgrade): start reading the upstream. */
  clientOpened(ws: ClientSocket): void {
    this.client = ws;
    open.add(this);
    if (draining) {
      this.goAway();
      return;
    }
    this.upstream.resume();
  }

  // ---- client → upstream ----------------------------------------------------------------------

  /** MUST run inside uWS's message handler: ws copies the bytes (masking) before it returns. */
  fromClient(message: ArrayBuffer, binary: boolean): void {
    const up = this.upstream;
    if (up.readyState !== up.OPEN) return;
    if (message.byteLength > limits.maxPayload) {
      this.#closeClient(1009, 'message too big');
      this.#closeUpstream(1001, GOING_AWAY);
      return;
    }
    // The messages of one uWS read leave in one writev: the socket is corked until this turn of
    // the event loop is over (about 10-20% less CPU per message in bench/websocket.ts).
    if (!this.corked && this.socket !== null) {
      this.corked = true;
      this.socket.cork();
      if (corkedTunnels.push(this) === 1) setImmediate(uncorkAll);
    }
    up.send(message, binary ? BINARY : TEXT);
    if (up.bufferedAmount > limits.upstreamBufferLimit) {
      if (isLogEnabled('info')) log('info', 'websocket upstream too slow', { code: 'HW_ERR_WEBSOCKET_BACKPRESSURE', buffered: up.bufferedAmount, requestId: this.exchange.requestId });
      this.#closeClient(1008, 'upstream too slow');
      up.terminate();
    }
  }

  clientPing(message: ArrayBuffer): void {
    if (this.upstream.readyState === this.upstream.OPEN) this.upstream.ping(Buffer.from(message));
  }

  clientPong(message: ArrayBuffer): void {
    if (this.#pings === 0) return; // the answer to uWS's own keep-alive ping
    this.#pings--;
    if (this.upstream.readyState === this.upstream.OPEN) this.upstream.pong(Buffer.from(message));
  }

  /** uWS's close handler: the client closed (or went away, 1006), or the gateway closed it. */
  clientClosed(closeCode: number, reason: ArrayBuffer): void {
    open.delete(this);
    this.#clientDone = true;
    const byClient = this.client !== null;
    this.client = null;
    if (byClient) this.#closeUpstream(closeCode, reason);
    this.#maybeDone();
  }

  #closeUpstream(closeCode: number, reason: ArrayBuffer | string): void {
    const up = this.upstream;
    if (up.readyState !== up.OPEN) return;
    if (closeCode === 1005) up.close();
    // A client that vanished (1006) or sent a code the upstream may not see: 1001.
    else if (!sendableCode(closeCode)) up.close(1001);
    else up.close(closeCode, typeof reason === 'string' ? reason : Buffer.from(reason));
  }

  // ---- upstream → client ----------------------------------------------------------------------

  fromUpstream(data: Buffer, binary: boolean): void {
    const ws = this.client;
    if (ws === null) return;
    target = ws;
    payload = data;
    isBinary = binary;
    ws.cork(corkedSend);
    payload = EMPTY;
    if (sent === SEND.BACKPRESSURE) {
      if (!this.#paused) {
        this.#paused = true;
        this.upstream.pause();
      }
    } else if (sent === SEND.DROPPED) {
      // Over uWS's hard cap: the message is lost, so the stream cannot go on.
      this.#closeClient(1011, 'backpressure limit');
      this.upstream.terminate();
    }
  }

  /** uWS's drain handler: the client took some of what was buffered. */
  clientDrained(ws: ClientSocket): void {
    if (this.#paused && ws.getBufferedAmount() < RESUME_BELOW) {
      this.#paused = false;
      this.upstream.resume();
    }
  }

  upstreamPing(data: Buffer): void {
    const ws = this.client;
    if (ws === null) return;
    this.#pings++;
    target = ws;
    payload = data;
    ws.cork(corkedPing);
    payload = EMPTY;
  }

  upstreamError(err: Error): void {
    this.#upstreamError = true;
    if (isLogEnabled('info')) log('info', 'websocket upstream error', { code: 'HW_ERR_UPSTREAM_RESET', err: err.message, requestId: this.exchange.requestId });
  }

  /** ws's close event: the upstream's close frame (its code and reason) or a lost connection. */
  upstreamClosed(closeCode: number, reason: Buffer): void {
    this.#upstreamDone = true;
    if (this.#upstreamError || closeCode === 1006) this.#closeClient(1011, 'upstream connection failed');
    else if (closeCode === 1005) this.#closeClient(0, '');
    else this.#closeClient(closeCode, reason);
    this.#maybeDone();
  }

  /** The worker drains: 1001 to the client, and to the upstream. */
  goAway(): void {
    this.#closeClient(1001, GOING_AWAY);
    this.#closeUpstream(1001, GOING_AWAY);
  }

  /** A close frame to the client (0: without a code); uWS runs clientClosed at once. */
  #closeClient(closeCode: number, reason: Buffer | string): void {
    const ws = this.client;
    if (ws === null) return;
    this.client = null;
    target = ws;
    code = closeCode;
    payload = typeof reason === 'string' ? Buffer.from(reason) : reason;
    ws.cork(corkedEnd);
    payload = EMPTY;
  }

  #maybeDone(): void {
    if (this.#clientDone && this.#upstreamDone) this.exchange.tunnelClosed();
  }
}

/** Graceful shutdown: every open WebSocket gets 1001, and new ones get it as they open. */
export function closeAllTunnels(): void {
  draining = true;
  for (const tunnel of open) tunnel.goAway();
}

/** Open client sockets in this worker (tests, status). */
export function openTunnels(): number {
  return open.size;
}
