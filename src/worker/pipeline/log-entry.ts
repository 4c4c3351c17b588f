/**
 * Kong's `kong.log.serialize()` for log handlers: built once per request, only on routes whose
 * chain has a log phase, right after the response (the request's state is final then).
 */
import type { LogEntry, LogFacts } from '../../plugins/types';
import type { Exchange } from '../proxy/forward';
import type { RunContext } from './run-context';
import { parseQuery } from '../../plugins/lib/body-codec';

function headerObject(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i].toLowerCase();
    out[k] = k in out ? `${out[k]}, ${flat[i + 1]}` : flat[i + 1];
  }
  return out;
}

function rawHeaderObject(raw: readonly Buffer[]): Record<string, string> {
  const flat: string[] = [];
  for (const b of raw) flat.push(b.toString('latin1'));
  return headerObject(flat);
}

export function buildLogEntry(ctx: Exchange, run: RunContext, now: number): LogEntry {
  const total = Math.round(now - ctx.t0);
  const proxy = ctx.upstreamLatency;
  const route = ctx.route;
  const service = route?.service?.snap ?? null;
  const host = ctx.host === '' ? ctx.hostName() : ctx.host;
  const querystring: Record<string, string | string[] | true> = {};
  for (const [k, v] of parseQuery(run.query)) {
    const prev = querystring[k];
    const value = v as string | true;
    querystring[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, String(value)] : [String(prev), String(value)];
  }
  const consumer = run.consumer;
  // run.fromUpstream is only set when a header filter ran: the exchange knows in every case.
  const proxied = run.fromUpstream || ctx.proxied;
  return {
    request: {
      method: ctx.method,
      uri: ctx.url + ctx.search,
      url: `${ctx.tls ? 'https' : 'http'}://${host}${ctx.url}${ctx.search}`,
      size: ctx.body?.received ?? 0,
      headers: headerObject(ctx.headers),
      querystring,
    },
    response: {
      status: ctx.status,
      size: ctx.bodyBytes,
      headers: proxied ? rawHeaderObject(ctx.responseHeaders) : {},
    },
    latencies: { request: total, kong: Math.max(0, total - proxy), proxy },
    client_ip: ctx.realIp,
    started_at: Math.round(Date.now() - (now - ctx.t0)),
    route: route === null ? null : { id: route.snap.id, name: route.snap.name },
    service: service === null ? null : { id: service.id, name: service.name, host: service.host, port: service.port, protocol: service.protocol },
    consumer: consumer === null ? null : { id: consumer.id, username: consumer.username, custom_id: consumer.customId },
    upstream_uri: ctx.upstreamPath,
    source: proxied ? 'upstream' : ctx.status >= 500 && ctx.status <= 504 ? 'kong' : 'exit',
  };
}

/** The one LogFacts object of this worker: measure handlers run synchronously and keep nothing. */
const FACTS: LogFacts = {
  status: 0, fromUpstream: false, routeId: null, serviceId: null, consumerId: null,
  requestSize: 0, responseSize: 0, requestLatency: 0, kongLatency: 0, proxyLatency: -1,
  upstreamTried: false, shared: null,
};

export function fillLogFacts(ctx: Exchange, run: RunContext, now: number): LogFacts {
  const total = Math.round(now - ctx.t0);
  const proxied = run.fromUpstream || ctx.proxied;
  const proxy = proxied ? ctx.upstreamLatency : -1;
  const route = ctx.route;
  const f = FACTS;
  f.status = ctx.status;
  f.fromUpstream = proxied;
  f.routeId = route === null ? null : route.snap.id;
  f.serviceId = route?.service?.snap.id ?? null;
  f.consumerId = run.consumer === null ? null : run.consumer.id;
  f.requestSize = ctx.body?.received ?? 0;
  f.responseSize = ctx.bodyBytes;
  f.requestLatency = total;
  f.kongLatency = Math.max(0, total - Math.max(proxy, 0));
  f.proxyLatency = proxy;
  f.upstreamTried = ctx.tDispatch > 0;
  f.shared = run.sharedIfUsed;
  return f;
}
