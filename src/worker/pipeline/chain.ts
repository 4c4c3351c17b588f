/**
 * Per-route plugin chains, built once per snapshot: which instance of each plugin applies to a
 * route (Kong's `lookup_cfg`), in descending PRIORITY, with each instance's `configure` result.
 * A route without plugins gets `null`, so the request path pays one null check per phase.
 *
 * Kong's precedence, most specific first (kong/runloop/plugins_iterator.lua):
 *   route+service+consumer > route+consumer > service+consumer > route+service > consumer >
 *   route > service > global
 * The consumer is known only after authentication, so an entry keeps its consumer-free winner
 * (`conf`) and, when consumer-scoped instances exist, the winner per consumer (`byConsumer`);
 * the access loop picks between them with the consumer of that moment, as Kong's iterator does.
 */
import type { PluginSnap, WorkerSnapshot } from '../../shared/snapshot';
import type { PluginHandler } from '../../plugins/types';
import type { PluginEnv } from '../../plugins/env';
import { PLUGIN_HANDLERS } from '../../plugins/handlers';
import { log } from '../../lib/log';

type HandlerTable = ReadonlyMap<string, PluginHandler<any>>;

/** Marks "no instance applies" (a conf may legitimately be null or undefined). */
export const NO_CONF: unique symbol = Symbol('hyperway.no-conf');

export interface ChainEntry {
  readonly handler: PluginHandler<unknown>;
  /** The consumer-free winner's configured conf, or NO_CONF. */
  readonly conf: unknown;
  /** Consumer id → conf of the most specific instance for that consumer; null when none exists. */
  readonly byConsumer: ReadonlyMap<string, unknown> | null;
  readonly plugin: string;
}

export interface PluginChain {
  /** Every entry in descending PRIORITY; phase loops skip handlers without the phase. */
  readonly entries: readonly ChainEntry[];
  readonly hasAccess: boolean;
  readonly hasHeaderFilter: boolean;
  readonly hasBodyFilter: boolean;
  readonly hasLog: boolean;
  readonly hasMeasure: boolean;
}

/** Protocols a plugin instance must list to run on this gateway's HTTP traffic. */
function servesHttp(p: PluginSnap): boolean {
  return p.protocols.includes('http') || p.protocols.includes('https');
}

/** Kong's lookup_cfg rank of instance `p` for (route, service, consumer); -1 when it does not apply. */
export function precedence(p: PluginSnap, route: number, service: number): number {
  const onRoute = p.route === route && route >= 0;
  const onService = p.service === service && service >= 0;
  const routeFree = p.route < 0;
  const serviceFree = p.service < 0;
  if (p.route >= 0 && !onRoute) return -1;
  if (p.service >= 0 && !onService) return -1;
  if (p.consumer >= 0) {
    if (onRoute && onService) return 8;
    if (onRoute && serviceFree) return 7;
    if (routeFree && onService) return 6;
    return 4; // consumer only
  }
  if (onRoute && onService) return 5;
  if (onRoute && serviceFree) return 3;
  if (routeFree && onService) return 2;
  return 1; // global
}

/** Configured confs per plugin instance (index into snapshot.plugins), built once per snapshot. */
export function configureInstances(snapshot: WorkerSnapshot, env: PluginEnv, handlers: HandlerTable = PLUGIN_HANDLERS): unknown[] {
  return snapshot.plugins.map((p) => {
    const handler = handlers.get(p.name);
    if (handler === undefined || !p.enabled) return NO_CONF;
    try {
      if (!handler.configure) return p.config;
      const scope = { id: p.id, routeId: snapshot.routes?.[p.route]?.id ?? null, serviceId: snapshot.services?.[p.service]?.id ?? null };
      return handler.configure(p.config, env, scope);
    } catch (err) {
      // The primary validated this config; a throw here is a bug: the instance is left out loudly.
      log('error', 'plugin configure failed', { plugin: p.name, id: p.id, err: (err as Error).stack });
      return NO_CONF;
    }
  });
}

const NONE: readonly number[] = [];

/**
 * The instances that can apply to a route, by scope, built once per snapshot: a route's chain looks
 * at the global instances, its own and its service's, not at every instance; consumer-only
 * instances (rank 4 on every route) are resolved once per plugin name into one consumer → conf
 * map that every route shares. (Scanning every instance per route made 10,000 routes with a
 * plugin each cost a worker ~1.2 s per snapshot, and 8,000 routes with 1,000 consumer-scoped
 * rate limits ~3.2 s: each grew with the product of the counts.) Indexes ascend within each list.
 */
export class ChainIndex {
  /** Instances with no route, service or consumer. */
  readonly #globals: number[] = [];
  /** Instances with a route (and maybe a service too: precedence() checks both). */
  readonly #byRoute = new Map<number, number[]>();
  /** Instances with a service and no route. */
  readonly #byService = new Map<number, number[]>();
  /**
   * Per plugin name, consumer id → conf of its consumer-only instance for that consumer (the
   * first, as ranks tie): made once per snapshot and shared by every route's chain, never changed.
   */
  readonly #consumerOnly = new Map<string, Map<string, unknown>>();

  constructor(snapshot: Pick<WorkerSnapshot, 'plugins'>, confs: readonly unknown[], env: Pick<PluginEnv, 'consumerId'>) {
    snapshot.plugins.forEach((p, index) => {
      if (confs[index] === NO_CONF || !servesHttp(p)) return;
      if (p.route >= 0) push(this.#byRoute, p.route, index);
      else if (p.service >= 0) push(this.#byService, p.service, index);
      else if (p.consumer >= 0) {
        let byConsumer = this.#consumerOnly.get(p.name);
        if (byConsumer === undefined) this.#consumerOnly.set(p.name, (byConsumer = new Map()));
        const id = env.consumerId(p.consumer);
        if (!byConsumer.has(id)) byConsumer.set(id, confs[index]);
      } else this.#globals.push(index);
    });
  }

  /** The plugin names with instances scoped to a consumer alone. */
  get consumerOnlyNames(): Iterable<string> {
    return this.#consumerOnly.keys();
  }

  /** `name`'s consumer-only confs by consumer id, or null when it has none. */
  consumerOnly(name: string): ReadonlyMap<string, unknown> | null {
    return this.#consumerOnly.get(name) ?? null;
  }

  /** The instances other than consumer-only ones that may apply to (route, service), ascending. */
  candidates(route: number, service: number): readonly number[] {
    const own = route >= 0 ? this.#byRoute.get(route) ?? NONE : NONE;
    const svc = service >= 0 ? this.#byService.get(service) ?? NONE : NONE;
    if (own.length === 0 && svc.length === 0) return this.#globals;
    return [...this.#globals, ...own, ...svc].sort((a, b) => a - b);
  }
}

function push<K>(m: Map<K, number[]>, key: K, index: number): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [index]);
  else list.push(index);
}

/**
 * The chain for one route (route/service are snapshot indexes; -1 when absent). `chains`: the
 * snapshot's ChainIndex, shared by every route's call (made here when not given).
 */
export function buildChain(
  snapshot: WorkerSnapshot,
  env: PluginEnv,
  confs: readonly unknown[],
  route: number,
  service: number,
  handlers: HandlerTable = PLUGIN_HANDLERS,
  chains: ChainIndex = new ChainIndex(snapshot, confs, env),
): PluginChain | null {
  const candidates = chains.candidates(route, service);
  const best = new Map<string, { rank: number; index: number }>();
  const consumerBest = new Map<string, Map<number, { rank: number; index: number }>>();
  for (const index of candidates) {
    const p = snapshot.plugins[index];
    const rank = precedence(p, route, service);
    if (rank < 0) continue;
    if (p.consumer >= 0) {
      let m = consumerBest.get(p.name);
      if (m === undefined) consumerBest.set(p.name, (m = new Map()));
      const cur = m.get(p.consumer);
      if (cur === undefined || rank > cur.rank) m.set(p.consumer, { rank, index });
    } else {
      const cur = best.get(p.name);
      if (cur === undefined || rank > cur.rank) best.set(p.name, { rank, index });
    }
  }
  const names = new Set([...best.keys(), ...consumerBest.keys(), ...chains.consumerOnlyNames]);
  if (names.size === 0) return null;
  const entries: ChainEntry[] = [];
  for (const name of names) {
    const handler = handlers.get(name) as PluginHandler<unknown>;
    const base = best.get(name);
    // Consumer-only instances (rank 4) win over a consumer-free winner below route+service (5).
    const shared = base !== undefined && base.rank > 4 ? null : chains.consumerOnly(name);
    let byConsumer: ReadonlyMap<string, unknown> | null = shared;
    const perConsumer = consumerBest.get(name);
    if (perConsumer !== undefined) {
      // This route's own consumer-scoped instances (ranks 6–8) over the shared ones, in a copy.
      const merged = new Map(shared ?? []);
      byConsumer = merged;
      for (const [consumer, winner] of perConsumer) {
        // A consumer-scoped instance loses to a consumer-free one of higher rank (route+service
        // beats consumer alone): resolve that here so the request path does one map lookup.
        const pick = base !== undefined && base.rank > winner.rank ? base : winner;
        merged.set(env.consumerId(consumer), confs[pick.index]);
      }
    }
    entries.push({ handler, conf: base === undefined ? NO_CONF : confs[base.index], byConsumer, plugin: name });
  }
  entries.sort((a, b) => b.handler.priority - a.handler.priority || (a.plugin < b.plugin ? -1 : 1));
  return {
    entries,
    hasAccess: entries.some((e) => e.handler.access !== undefined),
    hasHeaderFilter: entries.some((e) => e.handler.headerFilter !== undefined),
    hasBodyFilter: entries.some((e) => e.handler.bodyFilter !== undefined),
    hasLog: entries.some((e) => e.handler.log !== undefined),
    hasMeasure: entries.some((e) => e.handler.measure !== undefined),
  };
}

/** The conf of `entry` for the consumer identified so far (null = none yet), or NO_CONF. */
export function confFor(entry: ChainEntry, consumerId: string | null): unknown {
  if (consumerId !== null && entry.byConsumer !== null) {
    const c = entry.byConsumer.get(consumerId);
    if (c !== undefined) return c;
  }
  return entry.conf;
}
