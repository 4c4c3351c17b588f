/**
 * One name → the addresses it stands for, Kong's way (`dns_order`, default LAST,SRV,A,CNAME):
 * the hosts file first, then each record type in order until one has records. LAST is the type
 * that answered this name last time. SRV gives port and weight per instance, top priority only,
 * weight 0 counting as 1; its targets resolve from the additional section or by A/AAAA queries.
 * CNAME chains are followed (a few steps). NXDOMAIN ends the search: no other type will exist.
 */
import { isIP } from 'node:net';
import { DnsTransportError, type RecordType, type Rec, type Resolver, type Reply, type SrvData } from './resolver';

export interface Address {
  ip: string;
  /** From the SRV record; null = the target's own port. */
  port: number | null;
  /** From the SRV record; null = the target's weight. */
  weight: number | null;
  /** The SRV record's target name (Kong's Host header for that instance); null for A/AAAA. */
  name: string | null;
}

export type LookupResult =
  | { ok: true; type: RecordType | 'hosts'; addresses: Address[]; ttl: number }
  | { ok: false; notFound: boolean; reason: string };

export type OrderEntry = RecordType | 'LAST';

/** A hosts-file answer never expires on its own; re-read it this often anyway (seconds). */
const HOSTS_TTL = 3600;
const MAX_CHAIN = 5;

type Step = { kind: 'records'; addresses: Address[]; ttl: number } | { kind: 'empty' } | { kind: 'nxdomain' };

export class Lookup {
  readonly #resolver: Resolver;
  readonly #hosts: ReadonlyMap<string, string[]>;
  readonly #order: readonly OrderEntry[];
  readonly #last = new Map<string, RecordType>();

  constructor(resolver: Resolver, hosts: ReadonlyMap<string, string[]>, order: readonly OrderEntry[]) {
    this.#resolver = resolver;
    this.#hosts = hosts;
    this.#order = order;
  }

  async resolve(name: string): Promise<LookupResult> {
    const fromHosts = this.#hosts.get(name.toLowerCase());
    if (fromHosts !== undefined) return { ok: true, type: 'hosts', addresses: fromHosts.map((ip) => ({ ip, port: null, weight: null, name: null })), ttl: HOSTS_TTL };
    const types: RecordType[] = [];
    for (const o of this.#order) {
      const t = o === 'LAST' ? this.#last.get(name) : o;
      if (t !== undefined && !types.includes(t)) types.push(t);
    }
    let error: string | null = null;
    for (const type of types) {
      let step: Step;
      try {
        step = await this.#step(name, type, 0);
      } catch (e) {
        error = (e as Error).message;
        // No nameserver answers: asking them for the next type would only wait as long again.
        if (e instanceof DnsTransportError) break;
        continue;
      }
      if (step.kind === 'records' && step.addresses.length > 0) {
        this.#last.set(name, type);
        return { ok: true, type, addresses: step.addresses, ttl: step.ttl };
      }
      if (step.kind === 'nxdomain') return { ok: false, notFound: error === null, reason: error ?? `${name}: name error (NXDOMAIN)` };
    }
    return { ok: false, notFound: error === null, reason: error ?? `${name}: no ${types.join('/')} records` };
  }

  async #step(name: string, type: RecordType, depth: number): Promise<Step> {
    if (depth > MAX_CHAIN) throw new Error(`${name}: CNAME chain longer than ${MAX_CHAIN}`);
    if (type === 'CNAME') {
      const reply = await this.#ask(name, 'CNAME');
      if (reply === null) return { kind: 'nxdomain' };
      const c = reply.answers.find((a) => a.type === 'CNAME');
      return c === undefined ? { kind: 'empty' } : this.#addressesOf(bare(c.data as string), depth + 1, c.ttl);
    }
    const reply = await this.#ask(name, type);
    if (reply === null) return { kind: 'nxdomain' };
    if (type === 'SRV') return this.#srv(name, reply, depth);
    const found = reply.answers.filter((a) => a.type === type);
    if (found.length > 0) {
      return { kind: 'records', addresses: found.map((a) => ({ ip: a.data as string, port: null, weight: null, name: null })), ttl: minTtl(reply.answers) };
    }
    const c = reply.answers.find((a) => a.type === 'CNAME');
    if (c === undefined) return { kind: 'empty' };
    const next = await this.#step(bare(c.data as string), type, depth + 1);
    return next.kind === 'records' ? { ...next, ttl: Math.min(next.ttl, c.ttl) } : next;
  }

  async #srv(name: string, reply: Reply, depth: number): Promise<Step> {
    const records = reply.answers.filter((a) => a.type === 'SRV');
    if (records.length === 0) return { kind: 'empty' };
    const srv = (r: Rec): SrvData => r.data as SrvData;
    const top = Math.min(...records.map((r) => srv(r).priority ?? 0));
    let ttl = minTtl(records);
    const addresses: Address[] = [];
    for (const r of records) {
      const d = srv(r);
      if ((d.priority ?? 0) !== top) continue;
      const target = bare(d.target);
      const weight = d.weight === 0 || d.weight === undefined ? 1 : d.weight;
      let ips: string[];
      if (isIP(target) !== 0) {
        ips = [target];
      } else {
        const extra = reply.additionals.filter((a) => (a.type === 'A' || a.type === 'AAAA') && bare(a.name).toLowerCase() === target.toLowerCase());
        if (extra.length > 0) {
          ips = extra.map((a) => a.data as string);
          ttl = Math.min(ttl, minTtl(extra));
        } else {
          const step = await this.#addressesOf(target, depth + 1, undefined).catch(() => null);
          if (step === null || step.kind !== 'records') continue; // this instance's name does not resolve: leave it out
          ips = step.addresses.map((a) => a.ip);
          ttl = Math.min(ttl, step.ttl);
        }
      }
      for (const ip of ips) addresses.push({ ip, port: d.port, weight, name: target });
    }
    if (addresses.length === 0) throw new Error(`${name}: no SRV target resolves`);
    return { kind: 'records', addresses, ttl };
  }

  /** A, then AAAA, of a name an SRV or CNAME record points at. */
  async #addressesOf(name: string, depth: number, ttl: number | undefined): Promise<Step> {
    if (isIP(name) !== 0) return { kind: 'records', addresses: [{ ip: name, port: null, weight: null, name: null }], ttl: ttl ?? HOSTS_TTL };
    const fromHosts = this.#hosts.get(name.toLowerCase());
    if (fromHosts !== undefined) return { kind: 'records', addresses: fromHosts.map((ip) => ({ ip, port: null, weight: null, name: null })), ttl: ttl ?? HOSTS_TTL };
    for (const type of ['A', 'AAAA'] as const) {
      const step = await this.#step(name, type, depth);
      if (step.kind === 'records') return ttl === undefined ? step : { ...step, ttl: Math.min(step.ttl, ttl) };
      if (step.kind === 'nxdomain') return step;
    }
    return { kind: 'empty' };
  }

  /** The reply, or null for NXDOMAIN; other failure codes (SERVFAIL, REFUSED …) throw. */
  async #ask(name: string, type: RecordType): Promise<Reply | null> {
    const reply = await this.#resolver.query(name, type);
    if (reply.rcode === 'NXDOMAIN') return null;
    if (reply.rcode !== 'NOERROR') throw new Error(`${name} ${type}: ${reply.rcode}`);
    return reply;
  }
}

function bare(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function minTtl(answers: readonly Rec[]): number {
  let ttl = Infinity;
  for (const a of answers) if (a.ttl < ttl) ttl = a.ttl;
  return ttl === Infinity ? 0 : ttl;
}
