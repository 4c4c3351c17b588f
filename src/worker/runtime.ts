/**
 * Everything a worker derives from one Snapshot, built once when the snapshot arrives and then
 * read-only on the request path: the router, each service's balancer and pools, the trusted-IP
 * matcher, the header switches. A new snapshot builds a new Runtime and swaps one reference.
 */
import type { WorkerSnapshot, ServiceSnap, RouteSnap } from '../shared/snapshot';
import type { Settings } from '../shared/settings';
import { compileIpMatcher, type IpMatcher } from '../lib/cidr';
import { Router } from './router';
import { UpstreamPools, type UpstreamTls } from './proxy/upstream-pool';
import type { Balancer, Peer } from './balancer/peer';
import { passiveStatuses } from './balancer/health';
import { SinglePeer, beginLatencyBuild, endLatencyBuild, upstreamBalancer, type BalancerBuild } from './balancer';
import type { HealthchecksConf } from '../shared/healthchecks';
import { buildChain, ChainIndex, configureInstances, type PluginChain } from './pipeline/chain';
import { buildPluginEnv, type PluginEnv } from '../plugins/env';

export interface ServiceRuntime {
  snap: ServiceSnap;
  balancer: Balancer;
}

/**
 * Everything the request path needs about one route, in one record: what a RouteMatch's
 * routeIndex points at. Later per-route features (the plugin chain first) live here.
 */
export interface RouteRuntime {
  readonly snap: RouteSnap;
  /** null when the route has no service (Kong answers 503). */
  readonly service: ServiceRuntime | null;
  /** The service's balancer (shared with every route of that service), or null without one. */
  readonly balancer: Balancer | null;
  /** True when the route accepts plain http (else the request gets 426 or a redirect). */
  readonly acceptsHttp: boolean;
  /**
   * The plugin chain resolved for this route (pipeline/chain.ts), or null when no plugin applies:
   * a route without plugins pays one null check.
   */
  readonly plugins: PluginChain | null;
}

/** Kong's `headers` setting, one switch per header (server_tokens and latency_tokens are groups). */
export interface HeaderSwitches {
  serverTokens: boolean;
  via: boolean;
  upstreamLatency: boolean;
  proxyLatency: boolean;
  responseLatency: boolean;
  requestId: boolean;
  upstreamStatus: boolean;
  upstreamRequestId: boolean;
}

export class Runtime {
  readonly snapshot: WorkerSnapshot;
  readonly settings: Settings;
  readonly router: Router;
  /** Indexed by RouteMatch.routeIndex. */
  readonly routes: RouteRuntime[];
  readonly services: ServiceRuntime[];
  readonly trusted: IpMatcher;
  /** Consumers and credentials for the plugins: the snapshot's consumer directory, read in place. */
  readonly pluginEnv: PluginEnv;
  readonly headers: HeaderSwitches;
  readonly listenerPort: number;
  readonly listenerPortText: string;
  /** The first `ssl` proxy_listen entry's port (redirects, X-Forwarded-Port), 0 without one. */
  readonly tlsPort: number;
  readonly tlsPortText: string;

  constructor(snapshot: WorkerSnapshot, pools: UpstreamPools) {
    this.snapshot = snapshot;
    this.settings = snapshot.settings;
    this.listenerPort = snapshot.settings.proxyListen.port;
    this.listenerPortText = String(this.listenerPort);
    this.tlsPort = snapshot.settings.proxySslListens?.[0]?.port ?? 0;
    this.tlsPortText = String(this.tlsPort);
    this.router = new Router(snapshot.routes, snapshot.services);
    this.trusted = compileIpMatcher(snapshot.settings.trustedIps);
    const names = new Set(snapshot.settings.headers.map((name) => name.toLowerCase()));
    const off = names.has('off');
    this.headers = {
      serverTokens: !off && (names.has('server_tokens') || names.has('server')),
      via: !off && (names.has('server_tokens') || names.has('via')),
      upstreamLatency: !off && (names.has('latency_tokens') || names.has('x-kong-upstream-latency')),
      proxyLatency: !off && (names.has('latency_tokens') || names.has('x-kong-proxy-latency')),
      responseLatency: !off && (names.has('latency_tokens') || names.has('x-kong-response-latency')),
      requestId: !off && names.has('x-kong-request-id'),
      upstreamStatus: !off && names.has('x-kong-upstream-status'),
      upstreamRequestId: snapshot.settings.headersUpstream.map((name) => name.toLowerCase()).includes('x-kong-request-id'),
    };
    pools.begin();
    beginLatencyBuild();
    const build: BalancerBuild = { continua: new Map() };
    this.services = snapshot.services.map((svc) => ({ snap: svc, balancer: buildBalancer(snapshot, svc, pools, build) }));
    endLatencyBuild();
    this.pluginEnv = buildPluginEnv(snapshot);
    const confs = configureInstances(snapshot, this.pluginEnv);
    const chains = new ChainIndex(snapshot, confs, this.pluginEnv);
    this.routes = snapshot.routes.map((snap, index) => {
      const service = snap.service < 0 ? null : this.services[snap.service];
      return {
        snap,
        service,
        balancer: service === null ? null : service.balancer,
        acceptsHttp: snap.protocols.includes('http'),
        plugins: buildChain(snapshot, this.pluginEnv, confs, index, snap.service, undefined, chains),
      };
    });
    pools.sweep(); // last: a build that throws leaves the serving runtime's pools alone
  }
}

function defaultPort(protocol: string): number {
  return protocol === 'https' || protocol === 'grpcs' ? 443 : 80;
}

function hostHeaderFor(host: string, port: number, protocol: string): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port === defaultPort(protocol) ? h : `${h}:${port}`;
}

/** The service's TLS options with its client certificate's PEM resolved, or null (Kong's default: no verification). */
function upstreamTls(snapshot: WorkerSnapshot, svc: ServiceSnap): UpstreamTls | null {
  const t = svc.tls;
  if (t === undefined || t === null) return null;
  const client = t.clientCertificate >= 0 ? snapshot.certificates?.[t.clientCertificate] ?? null : null;
  return { verify: t.verify, verifyDepth: t.verifyDepth, ca: t.ca, cert: client?.cert ?? null, key: client?.key ?? null };
}

/** A service's balancer: a plain host's single peer, or its upstream's algorithm over one peer per target. */
function buildBalancer(snapshot: WorkerSnapshot, svc: ServiceSnap, pools: UpstreamPools, build: BalancerBuild): Balancer {
  const settings = snapshot.settings;
  if (svc.upstream < 0) {
    const pool = pools.get(svc.protocol, svc.host, svc.port, svc.connectTimeout, settings, upstreamTls(snapshot, svc));
    return new SinglePeer({ host: svc.host, port: svc.port, hostHeader: hostHeaderFor(svc.host, svc.port, svc.protocol), pool, slot: -1, countsLoad: false, passive: null, index: 0 });
  }
  const upstream = snapshot.upstreams[svc.upstream];
  const peers: Peer[] = [];
  const weights: number[] = [];
  const hc = upstream.healthchecks as HealthchecksConf;
  const passive = passiveStatuses(hc);
  const countsLoad = upstream.algorithm === 'least-connections';
  let lowestSlot = -1;
  for (const target of upstream.targets) {
    const pool = pools.get(svc.protocol, target.host, target.port, svc.connectTimeout, settings, upstreamTls(snapshot, svc));
    // host_header overrides the target host; the port is appended as Kong's set_host_header does.
    const hostHeader = upstream.hostHeader !== null
      ? hostHeaderFor(upstream.hostHeader, target.port, svc.protocol)
      : hostHeaderFor(target.hostName ?? target.host, target.port, svc.protocol);
    const slot = target.slot ?? -1;
    if (slot >= 0 && (lowestSlot < 0 || slot < lowestSlot)) lowestSlot = slot;
    peers.push({ host: target.host, port: target.port, hostHeader, pool, slot, countsLoad, passive, index: peers.length });
    weights.push(target.weight);
  }
  return upstreamBalancer(upstream, peers, weights, lowestSlot, hc?.threshold ?? 0, build);
}
