/**
 * A small DNS client for the primary: one question per UDP datagram (dns-packet), a timeout per
 * try, each nameserver in turn for `attempts` rounds. Node's dns module hides TTLs and cannot
 * be pointed at Consul's port per query, hence this. EDNS0 asks for 4096-byte answers so an SRV
 * set of a few dozen instances fits; a truncated answer is used as far as it goes (no TCP retry).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as packet from 'dns-packet';

export interface Nameserver {
  host: string;
  port: number;
}

export type RecordType = 'A' | 'AAAA' | 'SRV' | 'CNAME';

/** One resource record, as much of it as discovery reads (`data`: an address, a name, or SRV data). */
export interface Rec {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface Reply {
  rcode: string;
  answers: Rec[];
  additionals: Rec[];
}

function records(list: readonly packet.Answer[] | undefined): Rec[] {
  const out: Rec[] = [];
  for (const a of list ?? []) if (a.type !== 'OPT') out.push({ name: a.name, type: a.type, ttl: a.ttl ?? 0, data: a.data });
  return out;
}

/** No nameserver answered (timeouts, refused sockets): a transient error, not "name not found". */
export class DnsTransportError extends Error {}

export interface ResolverOptions {
  timeoutMs: number;
  attempts: number;
}

/** `nameserver` lines and `options timeout:N attempts:N` of a resolv.conf; 127.0.0.1:53 when it lists none (glibc's default). */
export function systemNameservers(file = '/etc/resolv.conf'): { servers: Nameserver[]; options: ResolverOptions } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '';
  }
  const servers: Nameserver[] = [];
  const options: ResolverOptions = { timeoutMs: 2000, attempts: 2 };
  for (const raw of text.split('\n')) {
    const words = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (words[0] === 'nameserver' && words[1] !== undefined && isIP(words[1].split('%')[0]) !== 0) servers.push({ host: words[1].split('%')[0], port: 53 });
    if (words[0] === 'options') {
      for (const o of words.slice(1)) {
        const [k, v] = o.split(':');
        const n = Number(v);
        if (k === 'timeout' && n > 0) options.timeoutMs = Math.min(n, 30) * 1000;
        if (k === 'attempts' && n > 0) options.attempts = Math.min(n, 5);
      }
    }
  }
  return { servers: servers.length > 0 ? servers : [{ host: '127.0.0.1', port: 53 }], options };
}

export class Resolver {
  readonly servers: readonly Nameserver[];
  readonly #opts: ResolverOptions;
  #id = Math.floor(Math.random() * 0xffff);

  constructor(servers: readonly Nameserver[], opts: ResolverOptions) {
    this.servers = servers;
    this.#opts = opts;
  }

  /** The first reply any nameserver gives (NXDOMAIN and SERVFAIL are replies too); DnsTransportError when none does. */
  async query(name: string, type: RecordType): Promise<Reply> {
    let last = 'no nameserver';
    for (let round = 0; round < this.#opts.attempts; round++) {
      for (const server of this.servers) {
        try {
          return await this.#ask(server, name, type);
        } catch (e) {
          last = `${server.host}:${server.port}: ${(e as Error).message}`;
        }
      }
    }
    throw new DnsTransportError(`${name} ${type}: ${last}`);
  }

  #ask(server: Nameserver, name: string, type: RecordType): Promise<Reply> {
    this.#id = (this.#id + 1) & 0xffff;
    const id = this.#id;
    const query = packet.encode({
      type: 'query',
      id,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as unknown as packet.Answer],
    });
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
      let settled = false;
      const done = (err: Error | null, reply?: Reply): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.close();
        if (err !== null) reject(err);
        else resolve(reply as Reply);
      };
      const timer = setTimeout(() => done(new Error(`timeout after ${this.#opts.timeoutMs} ms`)), this.#opts.timeoutMs);
      // A connected socket hears ICMP port-unreachable as ECONNREFUSED: a stopped server fails fast.
      sock.on('error', (e) => done(e));
      sock.on('message', (msg) => {
        let decoded: packet.DecodedPacket & { rcode?: string };
        try {
          decoded = packet.decode(msg);
        } catch {
          return; // not a DNS message: keep waiting for ours
        }
        if (decoded.id !== id) return;
        done(null, { rcode: decoded.rcode ?? 'NOERROR', answers: records(decoded.answers), additionals: records(decoded.additionals) });
      });
      sock.connect(server.port, server.host, () => sock.send(query));
    });
  }
}
