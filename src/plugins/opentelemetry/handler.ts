/**
 * Kong's opentelemetry plugin. Access: W3C trace context in (the incoming trace id kept, a new
 * one when none), the sampling decision made, and a `traceparent` with a NEW span id (the
 * `kong.balancer` span's, as Kong injects it) set on the upstream request. Measure (right after
 * the response, no LogEntry built): a sampled request's end is noted, and after that turn its
 * root span `kong` and `kong.balancer` child are encoded to protobuf (lib/otlp-encode.ts) and
 * appended to a batch queue (lib/batch-queue.ts) that posts them as OTLP/HTTP from the worker,
 * off the request path. An unsampled request costs two ids and a header; nothing is recorded.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { undici } from '../../lib/optional-packages';
import type { PluginContext, PluginHandler } from '../types';
import { BatchQueue } from '../lib/batch-queue';
import type { QueueConf } from '../lib/queue-schema';
import { encodeExport, encodeSpan, exportFrame, SPAN_KIND, STATUS_CODE, type Attrs, type SpanData } from '../lib/otlp-encode';
import { formatTraceparent, parseTraceparent, randomId, sampledByRate } from './trace-context';
import { log } from '../../lib/log';

const VERSION = '3.10.0';

interface OtelConf {
  /** null: propagation only (no traces_endpoint). */
  queue: BatchQueue<Buffer> | null;
  extract: boolean;
  inject: boolean;
  clear: readonly string[];
  /** null: every new trace is sampled (Hyperway has no kong.conf tracing_sampling_rate). */
  rate: number | null;
  traceIdHeader: string | null;
}

/**
 * What access keeps of a sampled request (unsampled ones keep nothing), found again by `measure`
 * through a WeakMap keyed by the request's context: no allocation for requests without state.
 */
interface TraceState {
  queue: BatchQueue<Buffer>;
  traceId: Buffer;
  rootId: Buffer;
  balancerId: Buffer;
  parentId: Buffer | null;
  traceState: string;
  flags: number;
  /** Epoch ms (fractional) when access ran: the balancer span starts about then. */
  accessMs: number;
  /** Root span attributes known at access; the status is appended at the end. */
  attrs: Attrs;
  peerName: string | null;
  peerPort: number;
  // Filled by measure:
  endMs: number;
  requestMs: number;
  proxyMs: number;
  status: number;
  proxied: boolean;
}

const traces = new WeakMap<PluginContext, TraceState>();
/** Sampled requests that ended this turn: encoded together after it, off the response path. */
let ended: TraceState[] = [];
const queues = new Map<string, BatchQueue<Buffer>>();
const warned = new Set<string>();

function sender(config: Record<string, unknown>): (spans: Buffer[]) => Promise<void> {
  const endpoint = config.traces_endpoint as string;
  const headers: Record<string, string> = { ...((config.headers as Record<string, string> | null) ?? {}), 'content-type': 'application/x-protobuf' };
  const readTimeout = config.read_timeout as number;
  const { Agent, request } = undici();
  const dispatcher = new Agent({ connectTimeout: config.connect_timeout as number });
  const attrs: Attrs = ['service.name', 'kong', 'service.version', VERSION, 'service.instance.id', `${hostname()}:${process.pid}`];
  const custom = (config.resource_attributes as Record<string, string> | null) ?? {};
  for (const [k, v] of Object.entries(custom)) {
    const at = attrs.indexOf(k);
    if (at >= 0 && at % 2 === 0) attrs[at + 1] = v;
    else attrs.push(k, v);
  }
  const frame = exportFrame(attrs, 'kong-internal', '0.1.0');
  return async (spans) => {
    const res = await request(endpoint, { method: 'POST', headers, body: encodeExport(frame, spans), dispatcher, headersTimeout: readTimeout, bodyTimeout: readTimeout });
    const text = await res.body.text();
    if (res.statusCode >= 400) throw new Error(`failed to send spans to ${endpoint}: status ${res.statusCode} ${text.slice(0, 200)}`);
  };
}

/** Kong's header_type / propagation, reduced to what Hyperway honours: W3C in and out. */
function propagation(config: Record<string, unknown>): { extract: boolean; inject: boolean; clear: string[] } {
  const p = (config.propagation as Record<string, unknown> | null) ?? {};
  const extractList = p.extract as string[] | null | undefined;
  const injectList = p.inject as string[] | null | undefined;
  const clear = ((p.clear as string[] | null | undefined) ?? []).map((h) => h.toLowerCase());
  if (extractList != null || injectList != null) {
    const extract = (extractList ?? []).includes('w3c');
    const inject = (injectList ?? []).some((f) => f === 'w3c' || f === 'preserve');
    const unsupported = [...(extractList ?? []), ...(injectList ?? [])].filter((f) => f !== 'w3c' && f !== 'preserve');
    if (unsupported.length > 0) warnOnce(`propagation formats not honoured (W3C only): ${[...new Set(unsupported)].join(', ')}`);
    return { extract, inject, clear };
  }
  const type = config.header_type as string;
  if (type !== 'preserve' && type !== 'w3c' && type !== 'ignore') warnOnce(`header_type '${type}' is not honoured: W3C traceparent is extracted and injected`);
  return { extract: type !== 'ignore', inject: true, clear };
}

function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  log('warn', `opentelemetry: ${msg}`);
}

function spanOf(t: TraceState, id: Buffer, parent: Buffer | null, name: string, kind: number, startMs: number, endMs: number, attributes: Attrs, statusCode: number): SpanData {
  return { traceId: t.traceId, spanId: id, parentSpanId: parent, traceState: t.traceState, name, kind, startMs, endMs, attributes, statusCode, flags: t.flags };
}

function encodeEnded(): void {
  const batch = ended;
  ended = [];
  for (const t of batch) {
    try {
      exportSpans(t);
    } catch (err) {
      log('error', 'opentelemetry: span encoding failed', { err: (err as Error).message });
    }
  }
}

function exportSpans(t: TraceState): void {
  const endMs = t.endMs;
  const startMs = endMs - t.requestMs;
  const status = t.status;
  const error = status >= 500 ? STATUS_CODE.ERROR : STATUS_CODE.UNSET;
  t.attrs.push('http.status_code', status);
  t.queue.add(encodeSpan(spanOf(t, t.rootId, t.parentId, 'kong', SPAN_KIND.SERVER, startMs, endMs, t.attrs, error)));
  if (!t.proxied || t.peerName === null) return;
  // The try to the upstream, inside the root span (ms rounding could put it a hair outside).
  const bStart = Math.min(Math.max(t.accessMs, startMs), endMs);
  const bEnd = Math.min(bStart + Math.max(t.proxyMs, 0), endMs);
  const battrs: Attrs = ['net.peer.name', t.peerName, 'net.peer.port', t.peerPort, 'http.status_code', status];
  t.queue.add(encodeSpan(spanOf(t, t.balancerId, t.rootId, 'kong.balancer', SPAN_KIND.CLIENT, bStart, bEnd, battrs, error)));
}

/** Kong's root span attributes that the request itself gives (http.url as Kong builds it). */
function requestAttrs(ctx: PluginContext): Attrs {
  const host = ctx.requestHeader('host');
  const attrs: Attrs = [
    'http.method', ctx.method,
    'http.url', `${ctx.scheme}://${host ?? ''}${ctx.path}${ctx.query === '' ? '' : `?${ctx.query}`}`,
    'http.scheme', ctx.scheme,
    'http.flavor', '1.1',
    'http.client_ip', ctx.clientIp,
    'net.peer.ip', ctx.remoteIp,
    'kong.request.id', ctx.requestId,
  ];
  if (host !== null) attrs.push('http.host', host);
  if (ctx.routeId !== null) attrs.push('kong.route.id', ctx.routeId);
  if (ctx.routeName !== null) attrs.push('kong.route.name', ctx.routeName);
  if (ctx.serviceId !== null) attrs.push('kong.service.id', ctx.serviceId);
  if (ctx.serviceName !== null) attrs.push('kong.service.name', ctx.serviceName);
  if (ctx.consumer !== null) attrs.push('kong.consumer.id', ctx.consumer.id);
  return attrs;
}

export const handler: PluginHandler<OtelConf> = {
  name: 'opentelemetry',
  priority: 14,
  version: VERSION,
  configure(config) {
    let queue: BatchQueue<Buffer> | null = null;
    if (typeof config.traces_endpoint === 'string') {
      // Same configuration, same queue: a reload that changes nothing keeps the queued spans.
      const key = JSON.stringify(config);
      queue = queues.get(key) ?? null;
      if (queue === null) {
        queue = new BatchQueue<Buffer>(`opentelemetry ${new URL(config.traces_endpoint).host}`, config.queue as unknown as QueueConf, sender(config));
        queues.set(key, queue);
      }
    }
    if (config.logs_endpoint != null) warnOnce('logs_endpoint is not honoured: Hyperway exports traces only');
    const p = propagation(config);
    return {
      queue,
      extract: p.extract,
      inject: p.inject,
      clear: p.clear,
      rate: typeof config.sampling_rate === 'number' ? config.sampling_rate : null,
      traceIdHeader: typeof config.http_response_header_for_traceid === 'string' ? config.http_response_header_for_traceid : null,
    };
  },
  access(ctx, conf) {
    const incoming = conf.extract ? parseTraceparent(ctx.requestHeader('traceparent')) : null;
    const traceId = incoming === null ? randomId(16) : incoming.traceId;
    // Kong's decision: an unsampled parent wins; a plugin rate applies to the rest; without a
    // rate a sampled parent is followed, and a new trace is recorded (README).
    let sampled: boolean;
    if (incoming !== null && (incoming.flags & 1) === 0) sampled = false;
    else if (conf.rate !== null) sampled = sampledByRate(traceId, conf.rate);
    else sampled = true;
    const flags = (incoming === null ? 0 : incoming.flags) | (sampled ? 1 : 0);
    const balancerId = randomId(8);
    for (let i = 0; i < conf.clear.length; i++) ctx.removeRequestHeader(conf.clear[i]);
    if (conf.inject) {
      ctx.setRequestHeader('traceparent', formatTraceparent(traceId, balancerId, flags));
      // A tracestate without a valid traceparent is meaningless downstream (the spec drops it).
      if (incoming === null) ctx.removeRequestHeader('tracestate');
    }
    if (conf.traceIdHeader !== null) ctx.setResponseHeader(conf.traceIdHeader, traceId.toString('hex'));
    if (!sampled || conf.queue === null) return;
    traces.set(ctx, {
      queue: conf.queue,
      traceId,
      rootId: randomId(8),
      balancerId,
      parentId: incoming === null ? null : incoming.parentId,
      traceState: incoming === null ? '' : ctx.requestHeaderValues('tracestate').join(','),
      flags,
      accessMs: performance.timeOrigin + performance.now(),
      attrs: requestAttrs(ctx),
      peerName: ctx.serviceHost,
      peerPort: ctx.servicePort,
      endMs: 0,
      requestMs: 0,
      proxyMs: 0,
      status: 0,
      proxied: false,
    });
  },
  /** Right after the response: a sampled request's end is noted; its spans are encoded after this turn. */
  measure(facts, _conf, ctx) {
    if (ctx === undefined) return;
    const t = traces.get(ctx);
    if (t === undefined) return;
    traces.delete(ctx);
    t.endMs = performance.timeOrigin + performance.now();
    t.requestMs = facts.requestLatency;
    t.proxyMs = facts.proxyLatency;
    t.status = facts.status;
    t.proxied = facts.fromUpstream;
    // The balancer span names the target the balancer picked, as Kong's does.
    if (ctx.upstreamHost !== null) {
      t.peerName = ctx.upstreamHost;
      t.peerPort = ctx.upstreamPort;
    }
    if (t.status === 0) return;
    if (ended.length === 0) setImmediate(encodeEnded);
    ended.push(t);
  },
};
