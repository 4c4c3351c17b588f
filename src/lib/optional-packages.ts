/**
 * Packages that only some configurations use, each loaded when first asked for. Loaded up front,
 * undici, ioredis, ws and jose cost every worker's start ~0.15 s of CPU (~160 modules) and its RSS
 * several MB, and prom-client and yaml cost the primary's start ~0.09 s, on a machine where the
 * workers boot while the primary compiles a large config: a feature that is not configured costs
 * nothing. Who asks:
 *   undici      HTTPS upstreams and `upstream_client: undici` (worker/proxy/upstream-pool.ts), http-log, opentelemetry
 *   ioredis     rate-limiting's redis policy
 *   ws          the first proxied WebSocket
 *   jose        the first jwt credential a worker imports
 *   prom-client the first /metrics scrape (primary/metrics/registry.ts)
 *   piscina     the first reload of a large file (primary/config/compile-pool.ts)
 *   yaml        a file fast-yaml does not read, or one with problems to place (primary/config/load.ts),
 *               the Admin API's YAML bodies, the state file
 * Type-only imports (`import type`) stay where they are: they cost nothing at run time.
 */
/* eslint-disable @typescript-eslint/no-require-imports */

function once<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= load());
}

export const undici = once(() => require('undici') as typeof import('undici'));
export const ioredis = once(() => (require('ioredis') as typeof import('ioredis')).default);
export const ws = once(() => require('ws') as typeof import('ws'));
export const jose = once(() => require('jose') as typeof import('jose'));
export const promClient = once(() => require('prom-client') as typeof import('prom-client'));
export const piscina = once(() => require('piscina') as typeof import('piscina'));
export const yaml = once(() => require('yaml') as typeof import('yaml'));
