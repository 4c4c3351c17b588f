/**
 * DNS and Consul-SRV discovery of upstream targets, in the primary. It sits in front of the
 * health checks' `prepare` (every snapshot a start, reload or Admin API change rolls out passes
 * through it): hostname targets are expanded into their addresses (expand.ts) from the cache
 * (cache.ts), which re-resolves each name when its TTL runs out. When a name's answer changes,
 * the running config is rebuilt with the new addresses and rolled out through the config
 * writer's queue with acks, as a reload is, under a new version but the same configuration hash:
 * workers swap balancers, nothing is re-read from disk. Targets whose name failed past
 * dns_stale_ttl keep one entry whose table state is DNS_ERROR, so balancers skip it.
 */
import type { Snapshot } from '../../shared/snapshot';
import type { Settings } from '../../shared/settings';
import { HEALTH, SOURCE, healthOf, setHealth } from '../../shared/target-table';
import type { HealthChecks } from '../health';
import { rollOut, type RolloutTarget } from '../rollout';
import { log } from '../../lib/log';
import { NameCache } from './cache';
import { expandTargets, targetNames } from './expand';
import { readHostsFile } from './hosts';
import { Lookup, type OrderEntry } from './lookup';
import { Resolver, systemNameservers, type Nameserver } from './resolver';
import { snapshotWith } from '../../shared/snapshot-bulk';
import { configKey } from '../config/lazy-hash';

/** Longest the primary waits at start for first answers before workers spawn (a slow name resolves later). */
const START_WAIT_MS = 5000;
/** Configs remembered by configuration (config/lazy-hash.ts configKey), to rebuild whichever one the workers run (a rolled-back change leaves an older one). */
const KEEP_CONFIGS = 4;

type Serial = <T>(fn: () => Promise<T>) => Promise<T>;

export class Discovery {
  readonly #health: HealthChecks;
  #cache: NameCache | null = null;
  #dnsKey = '';
  /** Keyed by configKey(): a start's snapshot has no hash computed yet, and prepare() does not compute it. */
  readonly #raws = new Map<object | string, Snapshot>();
  #target: RolloutTarget | null = null;
  #serial: Serial | null = null;
  #queued = false;
  #stopped = false;

  constructor(health: HealthChecks) {
    this.#health = health;
  }

  /** Start: look up the first snapshot's names (bounded wait), so workers start with addresses. */
  async resolveFirst(raw: Snapshot): Promise<void> {
    this.#configure(raw.settings);
    const cache = this.#cache as NameCache;
    cache.track(targetNames(raw));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([cache.settled(), new Promise((r) => (timer = setTimeout(r, START_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** From now on an answer that changes rolls out a rebuilt snapshot, queued with config changes. */
  attach(target: RolloutTarget, serial: Serial): void {
    this.#target = target;
    this.#serial = serial;
  }

  /** Every snapshot before workers see it: addresses expanded, slots assigned, failed names marked DNS_ERROR. */
  prepare(raw: Snapshot): Snapshot {
    const key = configKey(raw);
    this.#raws.delete(key);
    this.#raws.set(key, raw);
    if (this.#raws.size > KEEP_CONFIGS) this.#raws.delete(this.#raws.keys().next().value as object | string);
    this.#configure(raw.settings);
    (this.#cache as NameCache).track(targetNames(raw));
    return this.#build(raw);
  }

  stop(): void {
    this.#stopped = true;
    this.#cache?.stop();
  }

  #build(raw: Snapshot): Snapshot {
    const cache = this.#cache as NameCache;
    const { snapshot, failed } = expandTargets(raw, (name) => cache.view(name));
    const next = this.#health.prepare(snapshot);
    const table = this.#health.table;
    if (table === null) return next;
    for (const at of failed) {
      const [ui, ti] = at.split(':').map(Number);
      const slot = next.upstreams[ui].targets[ti].slot;
      if (slot >= 0 && healthOf(table, slot) !== HEALTH.DNS_ERROR) setHealth(table, slot, HEALTH.DNS_ERROR, SOURCE.NONE);
    }
    return next;
  }

  #changed(): void {
    if (this.#stopped || this.#queued || this.#target === null || this.#serial === null) return;
    this.#queued = true;
    const target = this.#target;
    void this.#serial(async () => {
      // Answers that arrive from here on need another roll-out.
      this.#queued = false;
      if (this.#stopped) return;
      const current = target.snapshot;
      const raw = this.#raws.get(configKey(current));
      if (raw === undefined) return;
      const next = this.#build(snapshotWith(raw, { version: current.version + 1, settings: current.settings }));
      const r = await rollOut(target, next);
      if (r.ok) log('info', 'dns: target addresses changed; workers updated', { version: next.version });
      else log('error', 'dns: roll-out of new target addresses failed', { reason: r.reason });
    });
  }

  /** A new resolver and an empty cache when the dns_* settings change (at start, and if a reload changes them). */
  #configure(s: Settings): void {
    const key = JSON.stringify([s.dnsResolver, s.dnsOrder, s.dnsStaleTtl, s.dnsNotFoundTtl, s.dnsErrorTtl, s.dnsHostsfile]);
    if (key === this.#dnsKey && this.#cache !== null) return;
    this.#dnsKey = key;
    this.#cache?.stop();
    const system = systemNameservers();
    const servers: Nameserver[] = s.dnsResolver.length === 0 ? system.servers : s.dnsResolver.map(parseNameserver);
    const lookup = new Lookup(new Resolver(servers, system.options), readHostsFile(s.dnsHostsfile), s.dnsOrder as OrderEntry[]);
    this.#cache = new NameCache(lookup, { stale: s.dnsStaleTtl, notFound: s.dnsNotFoundTtl, error: s.dnsErrorTtl }, () => this.#changed());
  }
}

/** `ip`, `ip:port`, `[v6]` or `[v6]:port` (validated by the settings parser); port 53 by default. */
function parseNameserver(s: string): Nameserver {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket !== null) return { host: bracket[1], port: Number(bracket[2] ?? 53) };
  const colons = s.split(':').length - 1;
  if (colons === 1) return { host: s.slice(0, s.indexOf(':')), port: Number(s.slice(s.indexOf(':') + 1)) };
  return { host: s, port: 53 };
}
