/**
 * The request context: what the gateway knows about one client request, and where its response
 * stands. The request copier fills it (request.ts), routing sets `match` and `route` (app.ts),
 * header writers and gateway answers read it (proxy/headers.ts, answers.ts), and the plugin
 * pipeline will hand it to every phase. The proxy's Exchange extends it (proxy/stream-response.ts,
 * proxy/forward.ts), so one proxied request is still one object.
 */
import { performance } from 'node:perf_hooks';
import type { HttpResponse } from './uws';
import type { WorkerSlot } from '../../shared/counter-slab';
import type { Runtime, RouteRuntime } from '../runtime';
import type { RouteMatch } from '../router';
import type { RequestBody } from '../proxy/stream-request';

/**
 * Where the response stands. It only moves forward: IDLE → HEAD_PENDING → HEAD_SENT → ENDING →
 * DONE, or to ABORTED from any state.
 *   IDLE          nothing written: a gateway answer or the upstream's head may still go
 *   HEAD_PENDING  the upstream's head is in, held until the first body bytes (stream-response.ts)
 *   HEAD_SENT     status and headers are written; the body streams
 *   ENDING        the last write is under way: nobody else may touch `res`
 *   DONE          the response is complete and counted
 *   ABORTED       the client went away (or the gateway cut the connection): `res` is dead
 * `state >= ENDING` means `res` MUST NOT be touched again.
 */
export const RESPONSE_STATE = { IDLE: 0, HEAD_PENDING: 1, HEAD_SENT: 2, ENDING: 3, DONE: 4, ABORTED: 5 } as const;
export type ResponseState = (typeof RESPONSE_STATE)[keyof typeof RESPONSE_STATE];

/**
 * What the plugin pipeline adds to a request whose route has plugins (worker/pipeline/run-context.ts
 * implements it). The core calls these at its seams; `pipeline === null` skips them all.
 */
export interface PipelineHooks {
  /** A header filter will run: the core must offer the head before writing it. */
  readonly filtersHead: boolean;
  /** A body filter will run: the response is sent chunked and every chunk offered. */
  readonly filtersBody: boolean;
  /**
   * Header filters over a gateway answer's head. `headers` is flat [name, value, …] strings,
   * changed in place; returns the list to write.
   */
  filterAnswerHead(headers: string[]): string[];
  /** Header filters over the upstream's head (raw Buffers); returns the list to write. */
  filterUpstreamHead(raw: Buffer[]): Buffer[];
  /** One response chunk through the body filters (`last` with the end, possibly empty). */
  filterBody(chunk: Buffer, last: boolean): Buffer;
  /** The response is complete or aborted: queue the log phase. */
  afterResponse(): void;
}

/**
 * The client's address as uWS spells it (`127.0.0.1`, or all eight groups for IPv6). The text is
 * ASCII, so UTF-8 decoding is exact, and TextDecoder reads the ArrayBuffer without a Buffer view
 * or a latin1 copy in between.
 */
const ADDRESS_TEXT = new TextDecoder();
export function clientAddress(res: HttpResponse): string {
  return ADDRESS_TEXT.decode(res.getRemoteAddressAsText());
}

export class RequestContext {
  readonly res: HttpResponse;
  readonly runtime: Runtime;
  readonly slot: WorkerSlot;
  /** performance.now() when the request arrived. */
  readonly t0: number;
  method = '';
  url = '';
  /** The raw query string with its `?` (kept for a bare trailing `?`), or '' when there is none. */
  search = '';
  host = '';
  /** Client headers, flat [name, value, …], names lowercased by uWS. */
  headers: string[] = [];
  /**
   * Bit i set: client header pair i (of the first 32) is not sent upstream as it came (copyRequest
   * marks them; proxy/headers.ts upstreamHeaders reads the marks while no plugin changed the list).
   */
  hopPairs = 0;
  connection: string | null = null;
  /**
   * The client's Connection header lists `close` in a form uWS does not act on (`close, X-Secret`):
   * the gateway closes the connection after the response (RFC 9112 §9.6). A bare `close` uWS
   * honours by itself.
   */
  closeAfter = false;
  remote = '';
  realIp = '';
  trusted = false;
  requestId = '';
  debug = false;
  /** The request arrived on a TLS listener (uWS SSLApp). */
  tls = false;
  /** TLS only: the server name when it is one registered exactly (tls-listeners.ts), else ''. */
  sni = '';

  /** The router's result (prefix, captures); null until routed. */
  match: RouteMatch | null = null;
  /** The matched route's record in the Runtime; null until routed. */
  route: RouteRuntime | null = null;
  upstreamPath = '';
  /** The client's request body reader; null when the request has no body. */
  body: RequestBody | null = null;

  /** The plugin pipeline of this request, or null when its route has no plugins. */
  pipeline: PipelineHooks | null = null;
  /** Set by plugins: the method, Host and body sent upstream instead of the client's. */
  upstreamMethod: string | null = null;
  upstreamHost: string | null = null;
  bodyBuffer: Buffer | null = null;

  state: ResponseState = RESPONSE_STATE.IDLE;
  /** The response status: the upstream's, or the gateway's own answer; 0 until known. */
  status = 0;
  /** Response body bytes handed to uWS so far. */
  bodyBytes = 0;

  constructor(res: HttpResponse, runtime: Runtime, slot: WorkerSlot) {
    this.res = res;
    this.runtime = runtime;
    this.slot = slot;
    this.t0 = performance.now();
    slot.requestStarted();
  }

  /** The port the request arrived on (X-Forwarded-Port): the TLS listener's for TLS requests. */
  get listenerPortText(): string { return this.tls ? this.runtime.tlsPortText : this.runtime.listenerPortText; }

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
   * The response is about to end while the client may still be sending its body (an early 401
   * or 413): resume the client if it was paused and drop the rest, so the keep-alive connection
   * drains instead of stalling. MUST run before the final write, while `res` is still valid.
   */
  releaseBody(): void {
    if (this.body !== null) this.body.release();
  }

  /** uWS onAborted: the client went away. Subclasses also stop their upstream work. */
  onAborted(): void {
    const counted = this.state >= RESPONSE_STATE.DONE;
    this.state = RESPONSE_STATE.ABORTED;
    if (!counted) this.#afterResponse();
  }

  /** The response is written (or cut): count it once. Safe to call more than once. */
  finish(): void {
    if (this.state >= RESPONSE_STATE.DONE) return;
    this.state = RESPONSE_STATE.DONE;
    this.#afterResponse();
  }

  /**
   * Runs exactly once per request, after the response is complete (state DONE) or the client
   * went away (state ABORTED); `status`, `t0`, `body.received` and the route are final here.
   * The log phase only queues its work (never writes, never delays): `res` is dead, and this
   * runs inside the last write's cork.
   */
  #afterResponse(): void {
    this.slot.requestFinished();
    if (this.body !== null) this.body.discard();
    if (this.pipeline !== null) this.pipeline.afterResponse();
  }
}
