/**
 * Kong's upstream health endpoints (kong/api/routes/upstreams.lua), read from the shared target
 * table and the running snapshot:
 *   GET /upstreams/{name or id}/health[?balancer_health=1]
 *   GET /upstreams/{name or id}/targets/all
 *   PUT /upstreams/{u}/targets/{target or id}/healthy | unhealthy   (and …/{t}/{address}/…)
 * The PUTs write the target's state word (204): node-local and immediate, no reload, as in Kong;
 * the next active or passive transition may overturn it. The entity CRUD of `/upstreams` and
 * `/upstreams/{id or name}` (Kong `kong/api/routes/upstreams.lua`) is UPSTREAM_ROUTES below.
 */
import type http from 'node:http';
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import type { EntityRoute } from './entity-router';
import type { TargetSnap, UpstreamSnap } from '../../shared/snapshot';
import { REGION, region } from '../../shared/shm';
import { checksOn, type HealthchecksConf } from '../../shared/healthchecks';
import { HEALTH, SOURCE, healthName, healthOf, sourceOf, setHealth } from '../../shared/target-table';
import { normalizeTarget } from '../config/entities/targets';

const NOT_FOUND: AdminResponse = { status: 404, body: { message: 'Not found' } };
const NOT_ALLOWED: AdminResponse = { status: 405, body: { message: 'Method not allowed' } };

/** Handles the health paths under /upstreams/; null for the others (the entity routes below). */
export function upstreamsRoute(ctx: AdminContext, req: http.IncomingMessage, path: string): AdminResponse | null {
  const parts = path.split('/').slice(2).map((p) => safeDecode(p));
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const upstream = findUpstream(ctx, parts[0]);
  if (parts.length === 2 && parts[1] === 'health') {
    if (upstream === null) return NOT_FOUND;
    if (method !== 'GET') return NOT_ALLOWED;
    return new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('balancer_health') === '1'
      ? balancerHealth(ctx, upstream)
      : { status: 200, body: { data: byTarget(upstream).map((entries) => targetHealth(ctx, upstream, entries)), next: null, node_id: ctx.nodeId } };
  }
  if (parts.length === 3 && parts[1] === 'targets' && parts[2] === 'all') {
    if (upstream === null) return NOT_FOUND;
    if (method !== 'GET') return NOT_ALLOWED;
    return { status: 200, body: { data: byTarget(upstream).map((entries) => targetEntity(upstream, entries[0])), next: null } };
  }
  const verb = parts[parts.length - 1];
  if ((parts.length === 4 || parts.length === 5) && parts[1] === 'targets' && (verb === 'healthy' || verb === 'unhealthy')) {
    if (upstream === null) return NOT_FOUND;
    if (method !== 'PUT' && method !== 'POST') return NOT_ALLOWED;
    const target = findTarget(upstream, parts[2]);
    if (target === null) return NOT_FOUND;
    // A target's addresses (its DNS answer, or the target itself): all of them, or the one named
    // by …/{target}/{address}/… (`ip:port`, as /health lists them).
    let entries = upstream.targets.filter((t) => t.id === target.id);
    if (parts.length === 5) {
      entries = entries.filter((t) => parts[3] === `${t.host}:${t.port}` || parts[3] === `[${t.host}]:${t.port}` || findTarget(upstream, parts[3]) === t);
      if (entries.length === 0) return NOT_FOUND;
    }
    const table = region(ctx.segment, REGION.TARGETS);
    const untracked = entries.find((t) => t.slot < 0);
    if (table === null || untracked !== undefined) {
      return { status: 400, body: { message: `target '${target.target}' is not in the target table (raise target_slots)` } };
    }
    for (const t of entries) setHealth(table, t.slot, verb === 'healthy' ? HEALTH.HEALTHY : HEALTH.UNHEALTHY, SOURCE.ADMIN);
    return { status: 204, body: null };
  }
  return null;
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function findUpstream(ctx: AdminContext, key: string | undefined): UpstreamSnap | null {
  if (key === undefined) return null;
  const k = key.toLowerCase();
  return ctx.supervisor.snapshot.upstreams.find((u) => u.id === key || u.name.toLowerCase() === k) ?? null;
}

function findTarget(u: UpstreamSnap, key: string): TargetSnap | null {
  let normalized: string | null = null;
  try {
    normalized = normalizeTarget(key).target;
  } catch {
    normalized = null;
  }
  return u.targets.find((t) => t.id === key || t.target === normalized) ?? null;
}

/** What the Admin API shows for one target: the table's state, or HEALTHCHECKS_OFF when nothing checks it. */
function healthText(ctx: AdminContext, u: UpstreamSnap, t: TargetSnap): string {
  const table = region(ctx.segment, REGION.TARGETS);
  if (table === null || t.slot < 0) return 'HEALTHCHECKS_OFF';
  // With checks off, only an Admin API override has anything to say.
  if (!checksOn(u.healthchecks as HealthchecksConf) && sourceOf(table, t.slot) !== SOURCE.ADMIN) return 'HEALTHCHECKS_OFF';
  return healthName(healthOf(table, t.slot));
}

function targetEntity(u: UpstreamSnap, t: TargetSnap): Record<string, unknown> {
  return { id: t.id, target: t.target, weight: t.weight, upstream: { id: u.id }, tags: t.tags.length > 0 ? t.tags : null };
}

/**
 * The snapshot's target entries grouped by Kong target (discovery turns a hostname target into
 * one entry per address, primary/dns/expand.ts), in the upstream's order.
 */
function byTarget(u: UpstreamSnap): TargetSnap[][] {
  const groups = new Map<string, TargetSnap[]>();
  for (const t of u.targets) {
    const g = groups.get(t.id);
    if (g === undefined) groups.set(t.id, [t]);
    else g.push(t);
  }
  return [...groups.values()];
}

/**
 * One Kong target with its addresses. As Kong's balancer reports it: HEALTHY while any address
 * is, DNS_ERROR when every address is, else UNHEALTHY (HEALTHCHECKS_OFF when nothing checks it).
 */
function targetHealth(ctx: AdminContext, u: UpstreamSnap, entries: TargetSnap[]): Record<string, unknown> {
  const addresses = entries.map((t) => ({ ip: t.host, port: t.port, health: healthText(ctx, u, t), weight: t.weight }));
  const states = new Set(addresses.map((a) => a.health));
  const health = states.has('HEALTHY') ? 'HEALTHY'
    : states.size === 1 ? [...states][0]
      : states.has('UNHEALTHY') ? 'UNHEALTHY' : 'HEALTHCHECKS_OFF';
  return { ...targetEntity(u, entries[0]), health, data: { addresses } };
}

function balancerHealth(ctx: AdminContext, u: UpstreamSnap): AdminResponse {
  const hc = u.healthchecks as HealthchecksConf;
  let total = 0;
  let available = 0;
  for (const t of u.targets) {
    total += t.weight;
    const h = healthText(ctx, u, t);
    if (h === 'HEALTHY' || h === 'HEALTHCHECKS_OFF') available += t.weight;
  }
  const healthy = total > 0 && (available / total) * 100 > (hc?.threshold ?? 0);
  const balancer = healthy ? 'HEALTHY' : 'UNHEALTHY';
  return {
    status: 200,
    body: {
      data: {
        id: u.id,
        health: checksOn(hc) ? balancer : 'HEALTHCHECKS_OFF',
        balancer_health: balancer,
        details: { healthy, weight: { total, available, unavailable: total - available } },
      },
    },
  };
}

export const UPSTREAM_ROUTES: readonly EntityRoute[] = [
  { pattern: ['upstreams'], entity: 'upstreams' },
  { pattern: ['upstreams', ':upstream'], entity: 'upstreams', item: 'upstream' },
];
