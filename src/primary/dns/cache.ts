/**
 * The primary's DNS cache: one entry per hostname that some upstream target uses, each with its
 * own timer. An answer is looked up again when its TTL runs out (plus a little jitter, so names
 * that share a TTL are not asked in one burst; at least 1 s apart: Kong's ttl 0 would mean a
 * lookup per request). A failed lookup keeps the last good answer until `dns_stale_ttl` seconds
 * past its expiry, retrying every `dns_error_ttl` (no answer) or `dns_not_found_ttl` (NXDOMAIN,
 * no records); after that the name is `failed` (its targets show DNS_ERROR) until it resolves.
 * `onChange` hears every change of a name's view; equal answers change nothing.
 */
import { log } from '../../lib/log';
import type { Address, Lookup } from './lookup';

export type View =
  | { state: 'pending' }
  | { state: 'ok'; addresses: readonly Address[] }
  | { state: 'failed'; reason: string };

export interface CacheTtls {
  /** Seconds. */
  stale: number;
  notFound: number;
  error: number;
}

interface Entry {
  name: string;
  view: View;
  sig: string;
  good: { addresses: Address[]; expiresAt: number } | null;
  timer: NodeJS.Timeout | null;
  first: Promise<void>;
  gone: boolean;
  /** Logged that the last answer is served stale (once per outage). */
  staleLogged: boolean;
}

const MIN_REFRESH_S = 1;
const MIN_RETRY_S = 0.1;

export class NameCache {
  readonly #lookup: Lookup;
  readonly #ttls: CacheTtls;
  readonly #onChange: (name: string) => void;
  readonly #entries = new Map<string, Entry>();

  constructor(lookup: Lookup, ttls: CacheTtls, onChange: (name: string) => void) {
    this.#lookup = lookup;
    this.#ttls = ttls;
    this.#onChange = onChange;
  }

  /** Names in use now: new ones are looked up at once, names no longer used stop being refreshed. */
  track(names: ReadonlySet<string>): void {
    for (const [name, e] of this.#entries) {
      if (names.has(name)) continue;
      e.gone = true;
      if (e.timer !== null) clearTimeout(e.timer);
      this.#entries.delete(name);
    }
    for (const name of names) {
      if (this.#entries.has(name)) continue;
      const e: Entry = { name, view: { state: 'pending' }, sig: 'pending', good: null, timer: null, first: Promise.resolve(), gone: false, staleLogged: false };
      this.#entries.set(name, e);
      e.first = this.#refresh(e);
    }
  }

  view(name: string): View {
    return this.#entries.get(name)?.view ?? { state: 'pending' };
  }

  /** Resolves once every tracked name has had its first answer (each lookup is bounded by the resolver's timeouts). */
  async settled(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => e.first));
  }

  stop(): void {
    this.track(new Set());
  }

  async #refresh(e: Entry): Promise<void> {
    e.timer = null;
    const r = await this.#lookup.resolve(e.name);
    if (e.gone) return;
    const now = Date.now();
    let next: number;
    if (r.ok) {
      const addresses = [...r.addresses].sort(byAddress);
      e.good = { addresses, expiresAt: now + r.ttl * 1000 };
      e.view = { state: 'ok', addresses };
      if (e.staleLogged) log('notice', 'dns: name resolves again', { name: e.name, addresses: addresses.length });
      e.staleLogged = false;
      const ttl = Math.max(r.ttl, MIN_REFRESH_S);
      next = ttl + Math.random() * Math.min(1, ttl / 10);
    } else {
      const retry = r.notFound ? this.#ttls.notFound : this.#ttls.error;
      const staleUntil = e.good === null ? 0 : e.good.expiresAt + this.#ttls.stale * 1000;
      if (now < staleUntil && e.good !== null) {
        e.view = { state: 'ok', addresses: e.good.addresses };
        if (!e.staleLogged) log('warn', 'dns: lookup failed; serving the last answer', { name: e.name, reason: r.reason, staleForS: Math.round((staleUntil - now) / 1000) });
        e.staleLogged = true;
        next = Math.min(retry, (staleUntil - now) / 1000);
      } else {
        if (e.view.state !== 'failed') log('warn', 'dns: lookup failed; targets of this name are DNS_ERROR', { name: e.name, reason: r.reason });
        e.view = { state: 'failed', reason: r.reason };
        e.staleLogged = true;
        next = retry;
      }
    }
    e.timer = setTimeout(() => void this.#refresh(e), Math.max(next, MIN_RETRY_S) * 1000);
    e.timer.unref();
    const sig = signature(e.view);
    if (sig !== e.sig) {
      e.sig = sig;
      this.#onChange(e.name);
    }
  }
}

function byAddress(a: Address, b: Address): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : (a.port ?? 0) - (b.port ?? 0);
}

function signature(v: View): string {
  if (v.state !== 'ok') return v.state;
  return v.addresses.map((a) => `${a.ip}|${a.port}|${a.weight}|${a.name}`).join(',');
}
