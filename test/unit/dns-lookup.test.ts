/**
 * The primary's DNS client and Kong's lookup order against a tiny fake DNS server on UDP
 * loopback: dns_order, SRV (top priority, weight 0 = 1, additional section or A queries for the
 * instance names), CNAME chains, NXDOMAIN vs. no answer at all, and LAST.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import * as packet from 'dns-packet';
import { Lookup } from '../../src/primary/dns/lookup';
import { DnsTransportError, Resolver, systemNameservers } from '../../src/primary/dns/resolver';
import { readHostsFile } from '../../src/primary/dns/hosts';
import { closedPort } from '../helpers/ports';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Zone = Record<string, { answers?: packet.Answer[]; additionals?: packet.Answer[]; rcode?: number }>;

/** Answers `name TYPE` from the zone (key `name TYPE`); NOERROR with nothing for a known name, NXDOMAIN for others. */
async function fakeServer(zone: Zone): Promise<{ port: number; asked: string[]; close(): void }> {
  const asked: string[] = [];
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = packet.decode(msg);
    const question = (q.questions ?? [])[0];
    const key = `${question.name} ${question.type}`;
    asked.push(key);
    const known = Object.keys(zone).some((k) => k.split(' ')[0] === question.name);
    const entry = zone[key] ?? {};
    const rcode = entry.rcode ?? (known ? 0 : 3);
    const reply = packet.encode({
      type: 'response', id: q.id, flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | rcode,
      questions: q.questions, answers: entry.answers ?? [], additionals: entry.additionals ?? [],
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, asked, close: () => sock.close() };
}

const a = (name: string, ip: string, ttl = 30): packet.Answer => ({ type: 'A', name, ttl, data: ip });
const srv = (name: string, target: string, port: number, priority: number, weight: number, ttl = 30): packet.Answer =>
  ({ type: 'SRV', name, ttl, data: { target, port, priority, weight } });

describe('DNS lookup (fake server)', () => {
  let server: Awaited<ReturnType<typeof fakeServer>>;
  let resolver: Resolver;

  before(async () => {
    server = await fakeServer({
      'api.test A': { answers: [a('api.test', '10.0.0.1', 20), a('api.test', '10.0.0.2', 5)] },
      'web.consul SRV': {
        answers: [srv('web.consul', 'n1.test', 9001, 1, 10, 15), srv('web.consul', 'n2.test', 9002, 1, 0), srv('web.consul', 'n3.test', 9003, 2, 50)],
        additionals: [a('n1.test', '10.0.1.1')],
      },
      'n2.test A': { answers: [a('n2.test', '10.0.1.2', 8)] },
      'n3.test A': { answers: [a('n3.test', '10.0.1.3')] },
      'alias.test A': { answers: [{ type: 'CNAME', name: 'alias.test', ttl: 7, data: 'api.test' }] },
      'broken.test A': { rcode: 2 },
    });
    resolver = new Resolver([{ host: '127.0.0.1', port: server.port }], { timeoutMs: 500, attempts: 1 });
  });

  after(() => server.close());

  it('A records: every address, the smallest TTL; SRV tried first and found empty', async () => {
    const r = await new Lookup(resolver, new Map(), ['LAST', 'SRV', 'A', 'CNAME']).resolve('api.test');
    assert.deepEqual(r, { ok: true, type: 'A', ttl: 5, addresses: [{ ip: '10.0.0.1', port: null, weight: null, name: null }, { ip: '10.0.0.2', port: null, weight: null, name: null }] });
  });

  it('SRV: top priority only, weight 0 counts as 1, instance names from the additional section or an A query', async () => {
    const r = await new Lookup(resolver, new Map(), ['SRV', 'A']).resolve('web.consul');
    assert.ok(r.ok);
    assert.equal(r.type, 'SRV');
    assert.equal(r.ttl, 8, 'the smallest TTL of the SRV and address records used');
    assert.deepEqual(r.addresses, [
      { ip: '10.0.1.1', port: 9001, weight: 10, name: 'n1.test' },
      { ip: '10.0.1.2', port: 9002, weight: 1, name: 'n2.test' },
    ]);
    assert.ok(!server.asked.includes('n1.test A'), 'the additional section spared a query');
    assert.ok(server.asked.includes('n2.test A'));
    assert.ok(!server.asked.includes('n3.test A'), 'a lower priority is not resolved');
  });

  it('a CNAME in the answer is followed to its addresses', async () => {
    const r = await new Lookup(resolver, new Map(), ['A']).resolve('alias.test');
    assert.ok(r.ok);
    assert.deepEqual(r.addresses.map((x) => x.ip), ['10.0.0.1', '10.0.0.2']);
    assert.equal(r.ttl, 5);
  });

  it('NXDOMAIN is "not found" and ends the search; SERVFAIL is an error', async () => {
    const before = server.asked.length;
    const r = await new Lookup(resolver, new Map(), ['SRV', 'A', 'CNAME']).resolve('nope.test');
    assert.deepEqual({ ok: r.ok, notFound: !r.ok && r.notFound }, { ok: false, notFound: true });
    assert.deepEqual(server.asked.slice(before), ['nope.test SRV'], 'no other type asked after NXDOMAIN');
    const e = await new Lookup(resolver, new Map(), ['A']).resolve('broken.test');
    assert.ok(!e.ok && !e.notFound && /SERVFAIL/.test(e.reason), JSON.stringify(e));
  });

  it('LAST asks first for the type that answered the name last time', async () => {
    const lookup = new Lookup(resolver, new Map(), ['LAST', 'SRV', 'A']);
    await lookup.resolve('api.test');
    const before = server.asked.length;
    await lookup.resolve('api.test');
    assert.deepEqual(server.asked.slice(before), ['api.test A']);
  });

  it('the hosts file answers before any query', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyperway-hosts-'));
    try {
      writeFileSync(join(dir, 'hosts'), '# comment\n10.9.9.9  Local.Test other.test\n::1 local.test\n');
      const hosts = readHostsFile(join(dir, 'hosts'));
      const before = server.asked.length;
      const r = await new Lookup(resolver, hosts, ['SRV', 'A']).resolve('local.test');
      assert.ok(r.ok);
      assert.deepEqual(r.addresses.map((x) => x.ip), ['10.9.9.9', '::1']);
      assert.equal(server.asked.length, before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no nameserver answering is a transport error after every server and attempt, not "not found"', async () => {
    const dead = new Resolver([{ host: '127.0.0.1', port: await closedPort() }], { timeoutMs: 300, attempts: 2 });
    await assert.rejects(dead.query('api.test', 'A'), DnsTransportError);
    const r = await new Lookup(dead, new Map(), ['SRV', 'A']).resolve('api.test');
    assert.ok(!r.ok && !r.notFound, JSON.stringify(r));
  });

  it('resolv.conf: nameservers and options; 127.0.0.1:53 when none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyperway-resolv-'));
    try {
      writeFileSync(join(dir, 'a'), 'nameserver 10.1.1.1\nnameserver fe80::1%eth0\noptions timeout:1 attempts:3\n');
      assert.deepEqual(systemNameservers(join(dir, 'a')), { servers: [{ host: '10.1.1.1', port: 53 }, { host: 'fe80::1', port: 53 }], options: { timeoutMs: 1000, attempts: 3 } });
      writeFileSync(join(dir, 'b'), 'search example\n');
      assert.deepEqual(systemNameservers(join(dir, 'b')).servers, [{ host: '127.0.0.1', port: 53 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
