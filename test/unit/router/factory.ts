/** Test helpers: RouteSnap/ServiceSnap factories with Kong's defaults, and a terse matcher. */
import type { RouteSnap, ServiceSnap } from '../../../src/shared/snapshot';
import type { Router } from '../../../src/worker/router';

let seq = 0;

/** A route with Kong's defaults; ids increase with creation order unless given. */
export function route(over: Partial<RouteSnap> = {}): RouteSnap {
  seq++;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    name: null,
    protocols: ['http', 'https'],
    methods: null,
    hosts: null,
    paths: null,
    headers: null,
    snis: null,
    stripPath: true,
    preserveHost: false,
    regexPriority: 0,
    pathHandling: 'v0',
    httpsRedirectStatusCode: 426,
    requestBuffering: true,
    responseBuffering: true,
    tags: [],
    service: -1,
    ...over,
  };
}

export function service(over: Partial<ServiceSnap> = {}): ServiceSnap {
  return {
    id: 'service-' + ++seq,
    name: null,
    protocol: 'http',
    host: 'example.com',
    port: 80,
    path: null,
    retries: 5,
    connectTimeout: 60000,
    writeTimeout: 60000,
    readTimeout: 60000,
    enabled: true,
    tags: [],
    upstream: -1,
    ...over,
  };
}

export interface Req {
  method?: string;
  host?: string;
  path?: string;
  headers?: string[];
  port?: number;
  sni?: string;
}

/** Index of the matched route, or null. */
export function hit(router: Router, req: Req): number | null {
  const m = router.match(
    req.method ?? 'GET',
    req.host ?? '',
    req.path ?? '/',
    req.headers ?? [],
    req.port ?? 8000,
    req.sni,
  );
  return m === null ? null : m.routeIndex;
}
