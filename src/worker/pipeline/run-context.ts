/**
 * One request's run through its route's plugin chain: the PluginContext the handlers see, on
 * top of the core's Exchange, and the PipelineHooks the core calls at its seams (answers.ts,
 * stream-response.ts, context.ts). Created only for routes that have plugins.
 *
 * Request headers live in the Exchange's flat [name, value, …] list, which plugins change in
 * place: what they write is what later plugins read and what goes upstream, as with nginx's
 * ngx.req.set_header. Response headers are strings here (the filters' slow path); the core keeps
 * its raw Buffers when no filter runs.
 */
import { performance } from 'node:perf_hooks';
import type { ConsumerSnap } from '../../shared/snapshot';
import type { CredentialRef } from '../../plugins/types';
import type { PluginEnv } from '../../plugins/env';
import type { Exchange } from '../proxy/forward';
import { RESPONSE_STATE, type PipelineHooks } from '../server/context';
import { answerError, answerExit, answerPluginFailure } from '../server/answers';
import { escapeUpstreamPath } from '../router';
import { MIME } from '../server/respond';
import { log } from '../../lib/log';
import { reachedPhase, runAccess, runBodyFilter, runHeaderFilter, runMeasure, scheduleLog, type PipelineHost } from './run';
import type { PluginChain } from './chain';
import { buildLogEntry, fillLogFacts } from './log-entry';
import { fromRawHeaders, toRawHeaders } from './response-headers';

const CONSUMER_HEADERS: ReadonlySet<string> = new Set(['x-consumer-id', 'x-consumer-custom-id', 'x-consumer-username', 'x-credential-identifier', 'x-anonymous-consumer']);

export class RunContext implements PipelineHost, PipelineHooks {
  readonly chain: PluginChain;
  readonly exchange: Exchange;
  readonly env: PluginEnv;
  pluginConfs: unknown[] | null = null;
  /** The normalized request path (routing's), and the upstream path before the query. */
  readonly path: string;
  /** Declared body length: 0 none, -2 chunked, else the Content-Length. */
  readonly requestBodyLength: number;
  #upstreamPath: string;
  #pathChanged = false;
  query: string;
  consumer: ConsumerSnap | null = null;
  credential: CredentialRef | null = null;
  fromUpstream = false;
  filtersHead = false;
  filtersBody = false;
  #shared: Record<string, unknown> | null = null;
  /**
   * The response head while header filters run: flat [name, value, …] strings. Before a head
   * exists (the access phase), writes land in an empty list and are also recorded in
   * #pendingOps, replayed onto the real head (kong.response.set_header in access applies to the
   * response that comes later, an exit's or the upstream's).
   */
  #response: string[] = [];
  #pendingOps: string[] | null = null;
  #headKnown = false;

  constructor(exchange: Exchange, chain: PluginChain, env: PluginEnv, path: string, upstreamPath: string, bodyLength: number) {
    this.exchange = exchange;
    this.requestBodyLength = bodyLength;
    this.chain = chain;
    this.env = env;
    this.path = path;
    this.#upstreamPath = upstreamPath;
    this.query = exchange.search === '' ? '' : exchange.search.slice(1);
  }

  /** Runs the access phase; the request dispatches (accessDone) unless a plugin answered. */
  start(): void {
    runAccess(this);
  }

  // ---- PipelineHost ---------------------------------------------------------------------------

  get aborted(): boolean { return this.exchange.state === RESPONSE_STATE.ABORTED; }

  accessDone(): void {
    const ctx = this.exchange;
    if (ctx.state !== RESPONSE_STATE.IDLE) return;
    // Which filters apply is known once access is over (consumer-scoped instances included).
    this.#decideHeadFilter();
    this.filtersBody = reachedPhase(this, 'bodyFilter');
    if (this.#pathChanged) ctx.upstreamPath = escapeUpstreamPath(this.#upstreamPath) + (this.query === '' ? '' : `?${this.query}`);
    ctx.dispatch();
  }

  pluginFailed(plugin: string, err: unknown): void {
    log('error', 'plugin failed', { plugin, requestId: this.requestId, err: err instanceof Error ? err.stack : String(err) });
    this.#decideHeadFilter();
    answerPluginFailure(this.exchange);
  }

  // ---- the request (PluginContext) ------------------------------------------------------------

  get method(): string { return this.exchange.method; }
  get scheme(): string { return this.exchange.tls ? 'https' : 'http'; }
  get clientIp(): string { return this.exchange.realIp; }
  get remoteIp(): string { return this.exchange.remote; }
  get requestId(): string { return this.exchange.requestId; }
  get routeId(): string | null { return this.exchange.route?.snap.id ?? null; }
  get routeName(): string | null { return this.exchange.route?.snap.name ?? null; }
  get serviceId(): string | null { return this.exchange.route?.service?.snap.id ?? null; }
  get serviceName(): string | null { return this.exchange.route?.service?.snap.name ?? null; }
  get serviceHost(): string | null { return this.exchange.route?.service?.snap.host ?? null; }
  get servicePort(): number { return this.exchange.route?.service?.snap.port ?? 0; }
  get upstreamHost(): string | null { return this.exchange.peer?.host ?? null; }
  get upstreamPort(): number { return this.exchange.peer?.port ?? 0; }
  get status(): number { return this.exchange.status; }
  get exited(): boolean { return this.exchange.state !== RESPONSE_STATE.IDLE; }
  get shared(): Record<string, unknown> { return (this.#shared ??= {}); }
  /** `shared` without creating it (the log phase's facts: most requests never use it). */
  get sharedIfUsed(): Record<string, unknown> | null { return this.#shared; }

  get uriCaptures(): Record<string, string> | null {
    const m = this.exchange.match?.captures;
    if (m === null || m === undefined) return null;
    const out: Record<string, string> = {};
    for (let i = 0; i < m.length; i++) if (m[i] !== undefined) out[i] = m[i];
    if (m.groups) for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) out[k] = v;
    return out;
  }

  requestHeader(name: string): string | null { return this.exchange.header(name); }

  requestHeaderValues(name: string): string[] {
    const h = this.exchange.headers;
    const out: string[] = [];
    for (let i = 0; i < h.length; i += 2) if (h[i] === name) out.push(h[i + 1]);
    return out;
  }

  async readRequestBody(limit: number): Promise<Buffer> {
    const ctx = this.exchange;
    if (ctx.bodyBuffer !== null) {
      if (ctx.bodyBuffer.length > limit) throw Object.assign(new RangeError(`request body larger than ${limit} bytes`), { code: 'HW_ERR_BODY_TOO_LARGE' });
      return ctx.bodyBuffer;
    }
    if (ctx.body === null) return EMPTY;
    const body = await ctx.body.collect(limit);
    ctx.bodyBuffer = body;
    return body;
  }

  // ---- the upstream request -------------------------------------------------------------------

  setRequestHeader(name: string, value: string): void {
    const lower = name.toLowerCase();
    this.removeRequestHeader(lower);
    this.addRequestHeader(lower, value);
  }

  addRequestHeader(name: string, value: string): void {
    const lower = name.toLowerCase();
    if (lower === 'host') {
      this.exchange.upstreamHost = value;
      return;
    }
    this.exchange.headers.push(lower, value);
  }

  removeRequestHeader(name: string): void {
    this.#dropRequestHeaders(name.toLowerCase(), null);
  }

  /** One pass over the request headers, compacting in place: drops `one` and every name in `many`. */
  #dropRequestHeaders(one: string | null, many: ReadonlySet<string> | null): void {
    const h = this.exchange.headers;
    let w = 0;
    for (let r = 0; r < h.length; r += 2) {
      if (h[r] === one || (many !== null && many.has(h[r]))) continue;
      h[w++] = h[r];
      h[w++] = h[r + 1];
    }
    h.length = w;
  }

  setQuery(query: string): void {
    this.query = query;
    this.#pathChanged = true;
  }

  setUpstreamPath(path: string): void {
    this.#upstreamPath = path;
    this.#pathChanged = true;
  }

  setMethod(method: string): void { this.exchange.upstreamMethod = method; }

  setRequestBody(body: Buffer): void {
    this.exchange.bodyBuffer = body;
    this.setRequestHeader('content-length', String(body.length));
  }

  // ---- consumer -------------------------------------------------------------------------------

  authenticate(consumer: ConsumerSnap, credential: CredentialRef | null): void {
    this.consumer = consumer;
    this.credential = credential;
    // One pass clears what an earlier auth plugin (logical OR) set; a client's own were dropped at copy.
    this.#dropRequestHeaders(null, CONSUMER_HEADERS);
    const h = this.exchange.headers;
    h.push('x-consumer-id', consumer.id);
    if (consumer.customId !== null) h.push('x-consumer-custom-id', consumer.customId);
    if (consumer.username !== null) h.push('x-consumer-username', consumer.username);
    if (credential !== null) h.push('x-credential-identifier', credential.identifier);
    else h.push('x-anonymous-consumer', 'true');
  }

  findConsumer(idOrUsername: string): ConsumerSnap | null { return this.env.findConsumer(idOrUsername); }

  // ---- short-circuits -------------------------------------------------------------------------

  exit(status: number, body?: string | Buffer | object | null, headers?: Record<string, string> | null): void {
    if (this.exited) return;
    let text = '';
    let type: string | null = null;
    if (typeof body === 'string') text = body;
    else if (Buffer.isBuffer(body)) text = body.toString('utf8');
    else if (body !== null && body !== undefined) {
      text = JSON.stringify(body);
      type = MIME.json;
    }
    let flat: string[] | null = null;
    if (headers) {
      flat = [];
      for (const [k, v] of Object.entries(headers)) {
        // A Content-Type among the headers names the body's type (no second Content-Type).
        if (k.toLowerCase() === 'content-type') type = v;
        else flat.push(k, v);
      }
    }
    this.#decideHeadFilter();
    answerExit(this.exchange, status, text, type, flat);
  }

  error(status: number, message?: string, headers?: Record<string, string> | null): void {
    if (this.exited) return;
    let flat: string[] | null = null;
    if (headers) {
      flat = [];
      for (const [k, v] of Object.entries(headers)) flat.push(k, v);
    }
    this.#decideHeadFilter();
    answerError(this.exchange, status, message ?? DEFAULT_MESSAGES[status] ?? 'An unexpected error occurred', flat);
  }

  /**
   * The head is offered to us when a reached plugin filters it, or access set response headers.
   * Decided once access is over, or before an answer from it (the filters reached so far see it).
   */
  #decideHeadFilter(): void {
    this.filtersHead = this.#pendingOps !== null || reachedPhase(this, 'headerFilter');
  }

  // ---- the response ---------------------------------------------------------------------------

  responseHeader(name: string): string | null {
    const h = this.#response;
    for (let i = 0; i < h.length; i += 2) if (h[i].toLowerCase() === name) return h[i + 1];
    return null;
  }

  setResponseHeader(name: string, value: string): void {
    this.#record('set', name, value);
    this.#remove(name);
    this.#response.push(name, value);
  }

  addResponseHeader(name: string, value: string): void {
    this.#record('add', name, value);
    this.#response.push(name, value);
  }

  removeResponseHeader(name: string): void {
    this.#record('remove', name, '');
    this.#remove(name);
  }

  #record(op: string, name: string, value: string): void {
    if (!this.#headKnown) (this.#pendingOps ??= []).push(op, name, value);
  }

  /** The head is known: replay what access set, then the filters run on it. */
  #useHead(headers: string[]): void {
    this.#headKnown = true;
    this.#response = headers;
    const ops = this.#pendingOps;
    if (ops === null) return;
    for (let i = 0; i < ops.length; i += 3) {
      if (ops[i] !== 'add') this.#remove(ops[i + 1]);
      if (ops[i] !== 'remove') headers.push(ops[i + 1], ops[i + 2]);
    }
  }

  #remove(name: string): void {
    const lower = name.toLowerCase();
    const h = this.#response;
    let w = 0;
    for (let r = 0; r < h.length; r += 2) {
      if (h[r].toLowerCase() === lower) continue;
      h[w++] = h[r];
      h[w++] = h[r + 1];
    }
    h.length = w;
  }

  // ---- PipelineHooks --------------------------------------------------------------------------

  filterAnswerHead(headers: string[]): string[] {
    this.fromUpstream = false;
    this.#useHead(headers);
    runHeaderFilter(this);
    return this.#response;
  }

  filterUpstreamHead(raw: Buffer[]): Buffer[] {
    this.fromUpstream = true;
    this.#useHead(fromRawHeaders(raw));
    runHeaderFilter(this);
    return toRawHeaders(this.#response);
  }

  filterBody(chunk: Buffer, last: boolean): Buffer {
    return runBodyFilter(this, chunk, last);
  }

  afterResponse(): void {
    const now = performance.now();
    if (this.chain.hasMeasure) runMeasure(this, fillLogFacts(this.exchange, this, now));
    if (this.chain.hasLog && this.pluginConfs !== null) scheduleLog(this, buildLogEntry(this.exchange, this, now));
  }
}

const EMPTY = Buffer.alloc(0);

/** kong.response.error's default messages per status (kong/tools/http.lua). */
const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  429: 'API rate limit exceeded',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
};
