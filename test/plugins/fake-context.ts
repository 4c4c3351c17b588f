/**
 * A PluginContext for handler unit tests (Kong's spec/03-plugins/NN-name/02-access_spec: handler logic without a
 * proxy). It records what a handler did: the upstream request it would send, its exit, the
 * response headers it set. Proxy behaviour is tested through the real gateway in 03-proxy tests.
 */
import type { ConsumerSnap } from '../../src/shared/snapshot';
import type { CredentialRef, PluginContext } from '../../src/plugins/types';
import { buildPluginEnv, type PluginEnv } from '../../src/plugins/env';

export interface FakeRequest {
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  clientIp?: string;
  remoteIp?: string;
  routeId?: string | null;
  serviceId?: string | null;
  uriCaptures?: Record<string, string> | null;
}

export interface ExitRecord {
  status: number;
  body: string | Buffer | object | null | undefined;
  headers: Record<string, string>;
  /** 'exit' for ctx.exit, 'error' for ctx.error (Kong's error body). */
  kind: 'exit' | 'error';
}

type Headers = Map<string, string[]>;

function toHeaders(h: Record<string, string | string[]> | undefined): Headers {
  const m: Headers = new Map();
  for (const [k, v] of Object.entries(h ?? {})) m.set(k.toLowerCase(), Array.isArray(v) ? [...v] : [v]);
  return m;
}

export class FakeContext implements PluginContext {
  method: string;
  path: string;
  query: string;
  scheme = 'http';
  clientIp: string;
  remoteIp: string;
  requestId = '0123456789abcdef0123456789abcdef';
  routeId: string | null;
  routeName: string | null = null;
  serviceId: string | null;
  serviceName: string | null = null;
  serviceHost: string | null = null;
  upstreamHost: string | null = null;
  upstreamPort = 0;
  servicePort = 0;
  uriCaptures: Record<string, string> | null;
  requestBodyLength: number;
  consumer: ConsumerSnap | null = null;
  credential: CredentialRef | null = null;
  status = 200;
  fromUpstream = true;
  readonly shared: Record<string, unknown> = {};

  /** The client's request headers as sent (plugins read and write upstreamHeaders). */
  readonly clientHeaders: Headers;
  /** The request headers plugins read and write: what would go upstream. */
  readonly upstreamHeaders: Headers;
  upstreamQuery: string;
  upstreamPath: string | null = null;
  upstreamMethod: string;
  upstreamBody: Buffer | null = null;
  readonly responseHeaders: Headers = new Map();
  exitRecord: ExitRecord | null = null;
  readonly env: PluginEnv;
  #body: Buffer;

  constructor(req: FakeRequest = {}, env?: PluginEnv) {
    this.method = req.method ?? 'GET';
    this.path = req.path ?? '/';
    this.query = req.query ?? '';
    this.clientIp = req.clientIp ?? '127.0.0.1';
    this.remoteIp = req.remoteIp ?? this.clientIp;
    this.routeId = req.routeId ?? 'route-id';
    this.serviceId = req.serviceId ?? 'service-id';
    this.uriCaptures = req.uriCaptures ?? null;
    this.clientHeaders = toHeaders(req.headers);
    this.upstreamHeaders = toHeaders(req.headers);
    this.upstreamQuery = this.query;
    this.upstreamMethod = this.method;
    this.#body = typeof req.body === 'string' ? Buffer.from(req.body) : (req.body ?? Buffer.alloc(0));
    this.requestBodyLength = this.#body.length;
    this.env = env ?? buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
  }

  get exited(): boolean { return this.exitRecord !== null; }

  requestHeader(name: string): string | null { return this.upstreamHeaders.get(name)?.[0] ?? null; }
  requestHeaderValues(name: string): string[] { return [...(this.upstreamHeaders.get(name) ?? [])]; }
  async readRequestBody(limit: number): Promise<Buffer> {
    if (this.#body.length > limit) throw Object.assign(new RangeError('request body too large'), { code: 'HW_ERR_BODY_TOO_LARGE' });
    return this.#body;
  }

  setRequestHeader(name: string, value: string): void { this.upstreamHeaders.set(name.toLowerCase(), [value]); }
  addRequestHeader(name: string, value: string): void {
    const k = name.toLowerCase();
    this.upstreamHeaders.set(k, [...(this.upstreamHeaders.get(k) ?? []), value]);
  }
  removeRequestHeader(name: string): void { this.upstreamHeaders.delete(name.toLowerCase()); }
  setQuery(query: string): void { this.upstreamQuery = this.query = query; }
  setUpstreamPath(path: string): void { this.upstreamPath = path; }
  setMethod(method: string): void { this.upstreamMethod = method; }
  setRequestBody(body: Buffer): void { this.upstreamBody = body; }
  /** First value of a header as the upstream would receive it. */
  upstream(name: string): string | null { return this.upstreamHeaders.get(name.toLowerCase())?.[0] ?? null; }

  authenticate(consumer: ConsumerSnap, credential: CredentialRef | null): void {
    this.consumer = consumer;
    this.credential = credential;
    this.setRequestHeader('x-consumer-id', consumer.id);
    if (consumer.customId !== null) this.setRequestHeader('x-consumer-custom-id', consumer.customId);
    else this.removeRequestHeader('x-consumer-custom-id');
    if (consumer.username !== null) this.setRequestHeader('x-consumer-username', consumer.username);
    else this.removeRequestHeader('x-consumer-username');
    if (credential !== null) {
      this.setRequestHeader('x-credential-identifier', credential.identifier);
      this.removeRequestHeader('x-anonymous-consumer');
    } else {
      this.removeRequestHeader('x-credential-identifier');
      this.setRequestHeader('x-anonymous-consumer', 'true');
    }
  }
  findConsumer(idOrUsername: string): ConsumerSnap | null { return this.env.findConsumer(idOrUsername); }

  exit(status: number, body?: string | Buffer | object | null, headers?: Record<string, string> | null): void {
    this.exitRecord = { status, body, headers: { ...(headers ?? {}) }, kind: 'exit' };
    this.status = status;
    this.fromUpstream = false;
  }
  error(status: number, message?: string, headers?: Record<string, string> | null): void {
    this.exitRecord = { status, body: message ?? null, headers: { ...(headers ?? {}) }, kind: 'error' };
    this.status = status;
    this.fromUpstream = false;
  }

  responseHeader(name: string): string | null { return this.responseHeaders.get(name.toLowerCase())?.[0] ?? null; }
  setResponseHeader(name: string, value: string): void { this.responseHeaders.set(name.toLowerCase(), [value]); }
  addResponseHeader(name: string, value: string): void {
    const k = name.toLowerCase();
    this.responseHeaders.set(k, [...(this.responseHeaders.get(k) ?? []), value]);
  }
  removeResponseHeader(name: string): void { this.responseHeaders.delete(name.toLowerCase()); }
}
