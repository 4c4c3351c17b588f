import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import { freePort } from './ports';
import { waitFor } from './wait';

export const DNSMASQ = process.env.HYPERWAY_TEST_DNSMASQ ?? '/usr/sbin/dnsmasq';

export interface SrvInstance {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

/** What the server answers: A records (name → IPv4s) and SRV sets (name → instances), all with one TTL. */
export interface DnsRecords {
  a?: Record<string, string[]>;
  srv?: Record<string, SrvInstance[]>;
  /** Seconds (dnsmasq's local-ttl); default 1. */
  ttl?: number;
}

export interface Dnsmasq {
  port: number;
  /** `127.0.0.1:<port>`, for dns_resolver. */
  address: string;
  /** Rewrites the records and restarts the server (dnsmasq re-reads only hosts files on SIGHUP). */
  set(records: DnsRecords): Promise<void>;
  /** Stops the server, keeping its port and records (start() brings it back). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Questions of `type` for `name` the server has answered so far, from its query log (across restarts). */
  queries(name: string, type: string): number;
  close(): Promise<void>;
}

/**
 * A dnsmasq of the test's own on 127.0.0.1:<free port>, authoritative for `.test` and `.consul`
 * (other names: NXDOMAIN, nothing forwarded), logging every query to a file for counting.
 */
export async function startDnsmasq(records: DnsRecords): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-dnsmasq-'));
  const port = await freePort();
  const log = join(dir, 'queries.log');
  writeFileSync(log, '');
  let child: ChildProcess | null = null;
  let current = records;

  const writeConf = (): void => {
    const lines = ['local=/test/', 'local=/consul/', `local-ttl=${current.ttl ?? 1}`, 'host-record=hyperway-ready.test,127.0.0.1', 'log-queries', `log-facility=${log}`];
    for (const [name, ips] of Object.entries(current.a ?? {})) for (const ip of ips) lines.push(`host-record=${name},${ip}`);
    for (const [name, set] of Object.entries(current.srv ?? {})) {
      for (const s of set) lines.push(`srv-host=${name},${s.target},${s.port},${s.priority ?? 1},${s.weight ?? 1}`);
    }
    writeFileSync(join(dir, 'dnsmasq.conf'), lines.join('\n') + '\n');
  };

  const up = async (): Promise<void> => {
    writeConf();
    const proc = spawn(DNSMASQ, [
      '--keep-in-foreground', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts',
      `--conf-file=${join(dir, 'dnsmasq.conf')}`, `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      // As root dnsmasq would drop to `nobody`, who cannot write the query log in our directory.
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child = proc;
    await waitFor(`dnsmasq on port ${port} answering${stderr ? ` (${stderr})` : ''}`, async () => {
      if (proc.exitCode !== null) throw new Error(`dnsmasq exited ${proc.exitCode}: ${stderr}`);
      return ask(port, 'hyperway-ready.test');
    }, { timeoutMs: 5000 });
  };

  const down = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    await exited;
  };

  await up();
  return {
    port,
    address: `127.0.0.1:${port}`,
    async set(next) {
      current = next;
      await down();
      await up();
    },
    down,
    up,
    queries(name, type) {
      const text = readFileSync(log, 'utf8');
      const needle = `query[${type}] ${name} from`;
      return text.split('\n').filter((l) => l.includes(needle)).length;
    },
    async close() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One A question; true when an answer came back within 300 ms. */
function ask(port: number, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 300);
    sock.on('error', () => done(false));
    sock.on('message', () => done(true));
    sock.send(packet.encode({ type: 'query', id: 7, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), port, '127.0.0.1');
  });
}
