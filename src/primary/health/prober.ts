/**
 * Active health checks (Kong's `healthchecks.active`), run in the primary only: each target is
 * probed once per interval however many workers there are. Healthy targets are probed every
 * `active.healthy.interval`, unhealthy ones every `active.unhealthy.interval` (0 = that side is
 * not probed). Each target's first probe comes at a random point of its first interval, so a
 * thousand targets are not probed in one burst; `concurrency` bounds the probes in flight per
 * upstream. Results go through Kong's counters (shared/target-table.ts `count`) in the table's
 * active columns; reaching a threshold flips the target's state.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Snapshot } from '../../shared/snapshot';
import type { HealthchecksConf } from '../../shared/healthchecks';
import { activeOn } from '../../shared/healthchecks';
import { COUNTER, HEALTH, SOURCE, W, count, healthOf, setHealth, type Counter } from '../../shared/target-table';
import { log } from '../../lib/log';

interface ProbeTarget {
  slot: number;
  host: string;
  port: number;
  group: ProbeGroup;
  timer: NodeJS.Timeout | null;
  /** Set when a new snapshot replaced this schedule: a probe still running reports nothing. */
  gone: boolean;
}

interface ProbeGroup {
  upstream: string;
  hc: HealthchecksConf['active'];
  running: number;
  queue: ProbeTarget[];
}

export type ProbeResult = Counter | -1;

export class Prober {
  readonly #table: Int32Array;
  #targets: ProbeTarget[] = [];

  constructor(table: Int32Array) {
    this.#table = table;
  }

  /** Replaces every schedule with the snapshot's (slots assigned). */
  configure(snapshot: Snapshot): void {
    this.stop();
    for (const u of snapshot.upstreams) {
      const hc = u.healthchecks as HealthchecksConf;
      if (!activeOn(hc)) continue;
      const group: ProbeGroup = { upstream: u.name, hc: hc.active, running: 0, queue: [] };
      for (const t of u.targets) {
        if (t.slot < 0) continue;
        const pt: ProbeTarget = { slot: t.slot, host: t.host, port: t.port, group, timer: null, gone: false };
        this.#targets.push(pt);
        this.#schedule(pt, Math.random() * this.#interval(pt));
      }
    }
  }

  stop(): void {
    for (const t of this.#targets) {
      t.gone = true;
      if (t.timer !== null) clearTimeout(t.timer);
    }
    this.#targets = [];
  }

  /** Seconds until the target's next probe: its state's interval, else the other one (to notice a passive or admin flip). */
  #interval(t: ProbeTarget): number {
    const { healthy, unhealthy } = t.group.hc;
    const mine = healthOf(this.#table, t.slot) === HEALTH.HEALTHY ? healthy.interval : unhealthy.interval;
    return mine > 0 ? mine : Math.max(healthy.interval, unhealthy.interval);
  }

  #schedule(t: ProbeTarget, seconds: number): void {
    t.timer = setTimeout(() => this.#due(t), Math.max(1, seconds * 1000));
    t.timer.unref();
  }

  #due(t: ProbeTarget): void {
    t.timer = null;
    if (t.gone) return;
    const { healthy, unhealthy } = t.group.hc;
    const mine = healthOf(this.#table, t.slot) === HEALTH.HEALTHY ? healthy.interval : unhealthy.interval;
    if (mine === 0) {
      this.#schedule(t, this.#interval(t));
      return;
    }
    const g = t.group;
    if (g.running >= g.hc.concurrency) {
      g.queue.push(t);
      return;
    }
    this.#run(t);
  }

  #run(t: ProbeTarget): void {
    const g = t.group;
    g.running++;
    const started = Date.now();
    void probe(t.host, t.port, g.hc).then((result) => {
      g.running--;
      if (t.gone) return;
      this.#record(t, result);
      // The next probe is one interval after this one started, not after it ended.
      this.#schedule(t, Math.max(0, this.#interval(t) - (Date.now() - started) / 1000));
      const next = g.queue.shift();
      if (next !== undefined) this.#run(next);
    });
  }

  #record(t: ProbeTarget, result: ProbeResult): void {
    // A probe of a name that failed to resolve reaches whatever getaddrinfo finds: it must not
    // lift DNS_ERROR, which only discovery (dns/discovery.ts) sets and clears.
    if (result === -1 || healthOf(this.#table, t.slot) === HEALTH.DNS_ERROR) return;
    const hc = t.group.hc;
    const n = count(this.#table, t.slot, W.A_SUCCESSES, result);
    if (n === 0) return;
    const limit = result === COUNTER.SUCCESS ? hc.healthy.successes
      : result === COUNTER.HTTP ? hc.unhealthy.http_failures
        : result === COUNTER.TCP ? hc.unhealthy.tcp_failures : hc.unhealthy.timeouts;
    if (limit === 0 || n < limit) return;
    const health = result === COUNTER.SUCCESS ? HEALTH.HEALTHY : HEALTH.UNHEALTHY;
    setHealth(this.#table, t.slot, health, SOURCE.ACTIVE);
    log('notice', `target ${health === HEALTH.HEALTHY ? 'healthy' : 'unhealthy'} (active check)`, { upstream: t.group.upstream, target: `${t.host}:${t.port}`, counter: ['successes', 'http_failures', 'tcp_failures', 'timeouts'][result], count: n });
  }
}

/**
 * One probe: GET http_path (http/https) or a TCP connect (tcp; grpc/grpcs are probed as tcp).
 * Success, an HTTP or TCP failure, a timeout, or -1 for a status in neither list.
 */
export function probe(host: string, port: number, hc: HealthchecksConf['active']): Promise<ProbeResult> {
  const ms = Math.max(1, hc.timeout * 1000);
  if (hc.type !== 'http' && hc.type !== 'https') {
    return new Promise((resolve) => {
      const sock = net.connect({ host, port });
      const done = (r: ProbeResult): void => {
        clearTimeout(timer);
        sock.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done(COUNTER.TIMEOUT), ms);
      sock.once('connect', () => done(COUNTER.SUCCESS));
      sock.once('error', () => done(COUNTER.TCP));
    });
  }
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = { 'user-agent': 'hyperway-healthcheck', ...(hc.headers ?? {}) };
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'host')) headers.host = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const opts = { host, port, path: hc.http_path, method: 'GET', headers, agent: false as const };
    let settled = false;
    const done = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const onResponse = (res: http.IncomingMessage): void => {
      const s = res.statusCode ?? 0;
      res.resume();
      done(hc.healthy.http_statuses.includes(s) ? COUNTER.SUCCESS : hc.unhealthy.http_statuses.includes(s) ? COUNTER.HTTP : -1);
    };
    const req = hc.type === 'https'
      ? https.request({ ...opts, rejectUnauthorized: hc.https_verify_certificate, servername: hc.https_sni ?? (net.isIP(host) ? undefined : host) }, onResponse)
      : http.request(opts, onResponse);
    const timer = setTimeout(() => done(COUNTER.TIMEOUT), ms);
    req.once('error', () => done(COUNTER.TCP));
    req.end();
  });
}
