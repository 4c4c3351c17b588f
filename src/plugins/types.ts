/**
 * The plugin contract: Kong's, typed. A plugin is a folder with two files:
 *
 *   schema.ts   plain data the primary validates `config` with (fields from the core's typedefs,
 *               Kong's defaults, a `check` for Kong's entity_checks). Never imported by workers.
 *   handler.ts  `{ name, priority, version }` plus one method per phase it uses, called as
 *               (ctx, conf). Never imports the schema (workers must not load the validator).
 *
 * Phases are Kong's: `rewrite` (global instances only, before routing), `access` (after routing
 * and authentication order by PRIORITY), `headerFilter` (the response head, mutable),
 * `bodyFilter` (each response chunk), `log` (after the response, never delaying it).
 * Instances run in descending PRIORITY, Kong's numbers, so mixed chains run in Kong's order.
 */
import type { ConsumerSnap } from '../shared/snapshot';
import type { PluginEnv } from './env';

export type { PluginEnv };

/** What identified the consumer: the credential's id and the value Kong sends as X-Credential-Identifier. */
export interface CredentialRef {
  id: string;
  /** key-auth: the credential id; basic-auth: the username; jwt: the key (Kong's `credential.identifier`). */
  identifier: string;
}

/**
 * The request as plugins see it (kong.request / kong.service.request / kong.response / kong.client).
 * Header names are lowercase. There is one request header list, as in nginx: a write (set, add,
 * remove) changes what goes upstream and what later plugins read back, as `ngx.req.set_header`
 * does in Kong.
 */
export interface PluginContext {
  // ---- the client's request (read) ----------------------------------------------------------
  readonly method: string;
  /** The normalized request path, without the query string (Kong's `kong.request.get_path()`). */
  readonly path: string;
  /** The raw query string without its `?` ('' when none); after `setQuery`, the new one. */
  readonly query: string;
  /** 'http' here (TLS listeners are a later issue), or 'https' when a trusted proxy says so. */
  readonly scheme: string;
  /** The client address after trusted_ips / real_ip_header (Kong's `kong.client.get_forwarded_ip`). */
  readonly clientIp: string;
  /** The peer address of the TCP connection (`kong.client.get_ip`). */
  readonly remoteIp: string;
  readonly requestId: string;
  /** Ids and names of the matched route and its service (null before routing / when absent). */
  readonly routeId: string | null;
  readonly routeName: string | null;
  readonly serviceId: string | null;
  readonly serviceName: string | null;
  /** The matched service's host and port as configured (an upstream's name for a balanced service). */
  readonly serviceHost: string | null;
  readonly servicePort: number;
  /** The address the last try went to (the balancer's pick: an IP for a balanced target), or null before any. */
  readonly upstreamHost: string | null;
  readonly upstreamPort: number;
  /** Regex captures of the matched route path (numbered and named), or null. */
  readonly uriCaptures: Record<string, string> | null;
  /** First value of a request header (after earlier plugins' writes), or null. */
  requestHeader(name: string): string | null;
  /** Every value of a request header, in order (empty when absent). */
  requestHeaderValues(name: string): string[];
  /** Declared body length: 0 none, -2 chunked, else the Content-Length. */
  readonly requestBodyLength: number;
  /**
   * The whole request body, buffered (at most `limit` bytes: more rejects with a RangeError
   * that has `code: 'HW_ERR_BODY_TOO_LARGE'`). Once read, the body sent upstream is the buffer,
   * or what `setRequestBody` put there.
   */
  readRequestBody(limit: number): Promise<Buffer>;

  // ---- the upstream request (write) ---------------------------------------------------------
  setRequestHeader(name: string, value: string): void;
  addRequestHeader(name: string, value: string): void;
  removeRequestHeader(name: string): void;
  /** Replaces the query string sent upstream (without `?`; '' for none). */
  setQuery(query: string): void;
  /** Replaces the path sent upstream (already joined with the service path by the caller). */
  setUpstreamPath(path: string): void;
  setMethod(method: string): void;
  /** Replaces the request body sent upstream (Content-Length follows it). */
  setRequestBody(body: Buffer): void;

  // ---- consumer -----------------------------------------------------------------------------
  readonly consumer: ConsumerSnap | null;
  readonly credential: CredentialRef | null;
  /**
   * kong.client.authenticate plus the upstream headers Kong's auth plugins set: X-Consumer-ID,
   * X-Consumer-Custom-ID, X-Consumer-Username, X-Credential-Identifier; X-Anonymous-Consumer is
   * `true` when `credential` is null (an anonymous consumer) and removed otherwise.
   */
  authenticate(consumer: ConsumerSnap, credential: CredentialRef | null): void;
  /** Consumer by id or username (Kong's anonymous lookup), or null. */
  findConsumer(idOrUsername: string): ConsumerSnap | null;

  // ---- short-circuits -----------------------------------------------------------------------
  /**
   * kong.response.exit: answers the client without touching the upstream. A string body is sent
   * as is; an object is JSON (`Content-Type: application/json; charset=utf-8`); null/undefined
   * gives an empty body. `headers` are added as given. Later phases' header filters still run.
   */
  exit(status: number, body?: string | Buffer | object | null, headers?: Record<string, string> | null): void;
  /**
   * kong.response.error: Kong's error body `{"message": …, "request_id": …}` negotiated on
   * Accept (JSON, HTML, XML, text), as the core's own errors are.
   */
  error(status: number, message?: string, headers?: Record<string, string> | null): void;
  /** True once exit/error was called (an access handler's later code MUST NOT continue). */
  readonly exited: boolean;

  // ---- the response (headerFilter / bodyFilter / log) --------------------------------------
  /** The status that goes to the client. */
  readonly status: number;
  /** True when the response comes from the upstream (not an exit/error of the gateway). */
  readonly fromUpstream: boolean;
  responseHeader(name: string): string | null;
  setResponseHeader(name: string, value: string): void;
  addResponseHeader(name: string, value: string): void;
  removeResponseHeader(name: string): void;

  /** Per-request scratch space shared by the phases of all plugins (kong.ctx.plugin / shared). */
  readonly shared: Record<string, unknown>;
}

/** Kong's `kong.log.serialize()` subset handed to `log` handlers. */
export interface LogEntry {
  request: { method: string; uri: string; url: string; size: number; headers: Record<string, string>; querystring: Record<string, string | string[] | true> };
  response: { status: number; size: number; headers: Record<string, string> };
  latencies: { request: number; kong: number; proxy: number };
  client_ip: string;
  started_at: number;
  route: { id: string; name: string | null } | null;
  service: { id: string; name: string | null; host: string; port: number; protocol: string } | null;
  consumer: { id: string; username: string | null; custom_id: string | null } | null;
  upstream_uri: string;
  source: 'upstream' | 'exit' | 'kong';
}

/**
 * What a metrics plugin needs of a finished request, without the cost of a LogEntry (which
 * copies every request and response header into objects and parses the query string: dozens of
 * allocations a counter never reads). One object is reused for every request of a worker: it is
 * valid only during the `measure` call and MUST NOT be kept.
 */
export interface LogFacts {
  status: number;
  /** True when the response came from the service (Kong's `source` "service"), else "kong". */
  fromUpstream: boolean;
  routeId: string | null;
  serviceId: string | null;
  consumerId: string | null;
  /** Request body bytes received, response body bytes sent. */
  requestSize: number;
  responseSize: number;
  /** Kong's latencies in ms; `proxy` is -1 when the request never reached an upstream. */
  requestLatency: number;
  kongLatency: number;
  proxyLatency: number;
  /**
   * A try was sent to an upstream (false when the gateway or a plugin answered before any). With
   * `fromUpstream` false it means the gateway answered the upstream's failure itself: 504 for a
   * timeout, 502 or 503 when it could not be reached. Always set by the pipeline.
   */
  upstreamTried?: boolean;
  /** The request's `PluginContext.shared`, or null when no plugin used it. Always set by the pipeline. */
  shared?: Record<string, unknown> | null;
}

/** Where a plugin instance is configured (Kong's `conf.route_id` / `conf.service_id`). */
export interface PluginScope {
  id: string;
  routeId: string | null;
  serviceId: string | null;
}

export interface PluginHandler<C = unknown> {
  readonly name: string;
  /** Kong's PRIORITY (kong-reference f): higher runs first. */
  readonly priority: number;
  readonly version: string;
  /**
   * Runs once per config snapshot in each worker for each instance: compile what the request
   * path needs (CIDR tables, header lists, regexes). Returns the `conf` the phases receive;
   * without it they receive the raw config record. `env` holds the snapshot's consumers and
   * credentials, indexed (auth plugins keep a reference to it in their conf). `scope` says where
   * the instance is configured (rate-limiting keys its counters by it, as Kong does).
   */
  configure?(config: Record<string, unknown>, env: PluginEnv, scope?: PluginScope): C;
  rewrite?(ctx: PluginContext, conf: C): void | Promise<void>;
  access?(ctx: PluginContext, conf: C): void | Promise<void>;
  headerFilter?(ctx: PluginContext, conf: C): void;
  /**
   * One response chunk; returns the chunk to send (possibly changed or empty). `last` is true for
   * the final call (its chunk may be empty). A filter that may change the body's length MUST
   * remove Content-Length in its headerFilter (the response then goes chunked, as in Kong); with
   * the length kept, bytes pass through and the final call may not come.
   */
  bodyFilter?(ctx: PluginContext, conf: C, chunk: Buffer, last: boolean): Buffer;
  /** After the response was written; MUST NOT throw into the request, MUST NOT block. */
  log?(entry: LogEntry, conf: C): void;
  /**
   * The log phase for counters: runs synchronously right after the response (no macrotask, no
   * LogEntry built for it), so it MUST be a few arithmetic operations, never I/O; a throw is
   * logged. A route whose plugins have only `measure` never builds a LogEntry. `ctx` is the
   * request's context, read-only here: what its access phase kept is found by it (passed by
   * the pipeline; optional for unit tests).
   */
  measure?(facts: LogFacts, conf: C, ctx?: PluginContext): void;
}
