/**
 * Keep-alive HTTP/1.1 connections to one upstream address, the own client's counterpart of an
 * undici Pool: a request takes the most recently idled connection (the least likely to have been
 * closed by the upstream meanwhile), else opens one; there is no limit on connections, as with
 * the undici Pool it replaces. An idle connection is closed after upstream_keepalive_idle_timeout
 * (0: kept), or sooner when the upstream said `Keep-Alive: timeout=N` (N less 2 s, undici's
 * margin); beyond upstream_keepalive_pool_size idle ones, or after
 * upstream_keepalive_max_requests requests (0: no limit), a connection is closed instead of kept.
 *
 * close() stops taking requests, closes the idle connections and lets the busy ones finish.
 */
import { H1Connection, type ConnectionOwner } from './connection';
import { H1Request } from './request';
import { buildRequestHead, lastHead } from './request-head';
import { h1Error } from './errors';
import type { DispatchHandler, DispatchOptions } from './types';

export interface H1PoolOptions {
  host: string;
  port: number;
  connectTimeout: number;
  /** ms; 0 = no idle limit of our own. */
  idleTimeout: number;
  /** 0 = no limit. */
  maxRequests: number;
  /** Idle connections kept at most. */
  maxIdle: number;
  /** proxy_buffer_size. */
  headLimit: number;
}

/** undici's keepAliveTimeoutThreshold: a hinted idle timeout is trusted less this. */
const HINT_MARGIN_MS = 2000;
const SWEEP_MS = 1000;

export class H1Pool implements ConnectionOwner {
  readonly host: string;
  readonly port: number;
  readonly connectTimeout: number;
  readonly headLimit: number;
  readonly #idleTimeout: number;
  readonly #maxRequests: number;
  readonly #maxIdle: number;
  readonly #idle: H1Connection[] = [];
  readonly #all = new Set<H1Connection>();
  #closed = false;
  #sweeper: NodeJS.Timeout | null = null;
  #drained: (() => void) | null = null;

  constructor(o: H1PoolOptions) {
    this.host = o.host;
    this.port = o.port;
    this.connectTimeout = o.connectTimeout;
    this.headLimit = o.headLimit;
    this.#idleTimeout = o.idleTimeout;
    this.#maxRequests = o.maxRequests;
    this.#maxIdle = o.maxIdle;
  }

  /** Connections open (idle or busy), for tests and stats. */
  get connections(): number {
    return this.#all.size;
  }

  get idle(): number {
    return this.#idle.length;
  }

  dispatch(opts: DispatchOptions, handler: DispatchHandler): boolean {
    if (this.#closed) {
      handler.onError(h1Error('HW_ERR_UPSTREAM_DISPATCH', 'the upstream connection pool is closed'));
      return false;
    }
    const head = buildRequestHead(opts.method, opts.path, opts.headers, opts.body);
    if (head === null) {
      handler.onError(h1Error('HW_ERR_UPSTREAM_DISPATCH', `invalid request: ${lastHead.invalid}`));
      return false;
    }
    const req = new H1Request(handler, opts.method, head, lastHead.framing, opts.body, opts.headersTimeout, opts.bodyTimeout);
    handler.onConnect(req.abort);
    if (req.done) return true;
    (this.#take() ?? this.#open()).start(req);
    return true;
  }

  replay(req: H1Request): void {
    if (this.#closed) {
      req.done = true;
      req.handler.onError(h1Error('HW_ERR_UPSTREAM_RESET', 'the upstream closed a kept-alive connection'));
      return;
    }
    this.#open().start(req);
  }

  #open(): H1Connection {
    const conn = new H1Connection(this);
    this.#all.add(conn);
    return conn;
  }

  #take(): H1Connection | null {
    const now = Date.now();
    const idle = this.#idle;
    while (idle.length > 0) {
      const conn = idle.pop() as H1Connection;
      if (conn.usable && now < conn.idleDeadline) return conn;
      conn.destroy();
    }
    return null;
  }

  released(conn: H1Connection): void {
    if (this.#closed || this.#idle.length >= this.#maxIdle || (this.#maxRequests > 0 && conn.uses >= this.#maxRequests)) {
      conn.destroy();
      return;
    }
    let keep = this.#idleTimeout > 0 ? this.#idleTimeout : Infinity;
    if (conn.keepAliveHintMs >= 0) keep = Math.min(keep, conn.keepAliveHintMs - HINT_MARGIN_MS);
    if (!(keep > 0)) {
      conn.destroy();
      return;
    }
    conn.idleDeadline = Date.now() + keep;
    this.#idle.push(conn);
    if (this.#sweeper === null && keep !== Infinity) {
      this.#sweeper = setInterval(this.#sweep, SWEEP_MS);
      this.#sweeper.unref();
    }
  }

  closed(conn: H1Connection): void {
    this.#all.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    if (this.#closed && this.#all.size === 0 && this.#drained !== null) {
      const done = this.#drained;
      this.#drained = null;
      done();
    }
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    const idle = this.#idle;
    for (let i = idle.length - 1; i >= 0; i--) if (now >= idle[i].idleDeadline) idle[i].destroy();
    if (idle.length === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  };

  /** Stop taking requests; resolves once the busy connections finished and closed. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
    for (const conn of [...this.#idle]) conn.destroy();
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  /** Close everything now; requests in flight fail. */
  destroy(): Promise<void> {
    const closing = this.close();
    const err = h1Error('HW_ERR_UPSTREAM_DISPATCH', 'the upstream connection pool was destroyed');
    for (const conn of [...this.#all]) {
      const req = conn.req;
      if (req !== null) conn.fail(req, err);
      else conn.destroy();
    }
    return closing;
  }
}
