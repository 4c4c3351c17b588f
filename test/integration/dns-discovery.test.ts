/**
 * DNS and Consul-SRV discovery (README "Discovery (DNS and Consul SRV)"): a dnsmasq of the test's
 * own on loopback serves A and SRV records; the gateway (primary + 2 workers) resolves hostname
 * targets in the primary and balances over the addresses. Moving records (dnsmasq restarted with
 * new ones) moves traffic without a reload; a resolver that goes away leaves the last answer in
 * place for dns_stale_ttl, then the targets are DNS_ERROR (503) until the name resolves again.
 * Addresses that leave (by DNS or by reload) retire their connection pools; a request that
 * began before still gets a live pool for its retries.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { stringify } from 'yaml';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { listenLocal } from '../helpers/ports';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq';
import { waitFor } from '../helpers/wait';

interface Named {
  name: string;
  port: number;
  /** Host header of every request it served. */
  hosts: string[];
  server: Server;
}

async function named(name: string, host = '127.0.0.1', port?: number): Promise<Named> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    hosts.push(req.headers.host ?? '');
    res.end(name);
  });
  const p = port === undefined && host === '127.0.0.1'
    ? await listenLocal(server)
    : await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port ?? 0, host, () => resolve((server.address() as { port: number }).port));
    });
  return { name, port: p, hosts, server };
}

async function closeAll(list: Array<Named | undefined>): Promise<void> {
  await Promise.all(list.map((n) => {
    if (n === undefined) return Promise.resolve();
    n.server.closeAllConnections();
    return new Promise<void>((r) => n.server.close(() => r()));
  }));
}

/** `n` requests to `path`, counted by answer text (`<status> <body>`). */
async function tally(gw: Gateway, path: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await request(`${gw.proxyUrl}${path}`);
    const key = r.status === 200 ? r.text : `status ${r.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function env(dns: Dnsmasq, extra: Record<string, string> = {}): Record<string, string> {
  return { HYPERWAY_DNS_RESOLVER: dns.address, ...extra };
}

describe('DNS discovery: A and SRV records', () => {
  let dns: Dnsmasq;
  let gw: Gateway;
  let one: Named;
  let two: Named;
  let three: Named;

  before(async () => {
    [one, two, three] = [await named('one'), await named('two'), await named('three')];
    dns = await startDnsmasq({
      a: { 'api.test': ['127.0.0.1'], 'node.test': ['127.0.0.1'] },
      srv: { 'web.service.consul': [{ target: 'node.test', port: one.port, weight: 3 }, { target: 'node.test', port: two.port, weight: 1 }] },
      ttl: 1,
    });
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [
          { name: 'a', host: 'a-up', routes: [{ name: 'a', paths: ['/a'] }] },
          { name: 'srv', host: 'srv-up', routes: [{ name: 'srv', paths: ['/srv'] }] },
          { name: 'srvname', host: 'srvname-up', routes: [{ name: 'srvname', paths: ['/srvname'] }] },
        ],
        upstreams: [
          { name: 'a-up', targets: [{ target: `api.test:${three.port}` }] },
          { name: 'srv-up', targets: [{ target: 'web.service.consul' }] },
          { name: 'srvname-up', use_srv_name: true, targets: [{ target: 'web.service.consul' }] },
        ],
      },
      workers: 2,
      env: env(dns),
    });
  });

  after(async () => {
    await gw?.stop();
    await dns?.close();
    await closeAll([one, two, three]);
  });

  it('an A record target: traffic reaches its address with the name as Host', { timeout: 30000 }, async () => {
    const counts = await tally(gw, '/a', 10);
    assert.deepEqual([...counts], [['three', 10]]);
    assert.ok(three.hosts.every((h) => h === `api.test:${three.port}`), `Host headers: ${[...new Set(three.hosts)].join(', ')}`);
    const health = (await gw.admin('/upstreams/a-up/health')).json<{ data: Array<{ target: string; data: { addresses: Array<{ ip: string; port: number }> } }> }>();
    assert.deepEqual(health.data.map((t) => [t.target, t.data.addresses[0].ip, t.data.addresses[0].port]), [[`api.test:${three.port}`, '127.0.0.1', three.port]]);
  });

  it('an SRV set of two instances: both take traffic, by their weights; Host = instance name, or the SRV name with use_srv_name', { timeout: 30000 }, async () => {
    one.hosts.length = 0;
    two.hosts.length = 0;
    const counts = await tally(gw, '/srv', 80);
    const [a, b] = [counts.get('one') ?? 0, counts.get('two') ?? 0];
    assert.equal(a + b, 80, `all answered by the SRV instances: ${JSON.stringify([...counts])}`);
    assert.ok(b > 0 && a >= 2 * b, `weights 3:1 → one ${a}, two ${b}`);
    assert.deepEqual(new Set(one.hosts), new Set([`node.test:${one.port}`]));
    one.hosts.length = 0;
    two.hosts.length = 0;
    await tally(gw, '/srvname', 8);
    assert.deepEqual(new Set([...one.hosts, ...two.hosts].map((h) => h.replace(/:\d+$/, ''))), new Set(['web.service.consul']));
  });

  it('the Admin API shows one row per Kong target with its addresses; an address can be marked unhealthy alone', { timeout: 30000 }, async () => {
    const all = (await gw.admin('/upstreams/srvname-up/targets/all')).json<{ data: Array<{ id: string; target: string }> }>();
    assert.equal(all.data.length, 1, 'one Kong target, however many addresses');
    type Health = { data: Array<{ id: string; health: string; data: { addresses: Array<{ ip: string; port: number; health: string }> } }> };
    const before = (await gw.admin('/upstreams/srvname-up/health')).json<Health>();
    assert.equal(before.data.length, 1);
    assert.deepEqual(before.data[0].data.addresses.map((a) => a.port).sort(), [one.port, two.port].sort());
    const put = await request(`${gw.adminUrl}/upstreams/srvname-up/targets/${all.data[0].id}/127.0.0.1:${two.port}/unhealthy`, { method: 'PUT' });
    assert.equal(put.status, 204, put.text);
    const after = (await gw.admin('/upstreams/srvname-up/health')).json<Health>();
    assert.deepEqual(after.data[0].data.addresses.map((a) => [a.port, a.health]).sort(), [[one.port, 'HEALTHCHECKS_OFF'], [two.port, 'UNHEALTHY']].sort());
    one.hosts.length = 0;
    two.hosts.length = 0;
    await tally(gw, '/srvname', 12);
    assert.equal(two.hosts.length, 0, 'the address marked unhealthy takes nothing');
    assert.equal(one.hosts.length, 12);
    assert.equal((await request(`${gw.adminUrl}/upstreams/srvname-up/targets/${all.data[0].id}/healthy`, { method: 'PUT' })).status, 204);
    const healed = (await gw.admin('/upstreams/srvname-up/health')).json<Health>();
    assert.ok(healed.data[0].data.addresses.every((a) => a.health === 'HEALTHY'), JSON.stringify(healed.data[0].data.addresses));
  });

  it('the SRV set changes: traffic moves to the new instance without a reload', { timeout: 30000 }, async () => {
    const before = await gw.status();
    await dns.set({
      a: { 'api.test': ['127.0.0.1'], 'node.test': ['127.0.0.1'] },
      srv: { 'web.service.consul': [{ target: 'node.test', port: one.port, weight: 1 }, { target: 'node.test', port: three.port, weight: 1 }] },
      ttl: 1,
    });
    await waitFor('the new instance takes traffic', async () => ((await tally(gw, '/srv', 4)).get('three') ?? 0) > 0, { timeoutMs: 10000 });
    const counts = await tally(gw, '/srv', 40);
    assert.equal(counts.get('two'), undefined, `the removed instance gets nothing: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get('one') ?? 0) > 0 && (counts.get('three') ?? 0) > 0, JSON.stringify([...counts]));
    const now = await gw.status();
    assert.equal(now.configuration_hash, before.configuration_hash, 'same configuration');
    assert.ok(now.config_version > before.config_version, 'workers took a new snapshot');
    assert.doesNotMatch(gw.output(), /config reloaded/);
  });

  it('answers are looked up again when their TTL runs out; an unchanged answer rolls nothing out', { timeout: 30000 }, async () => {
    const version = (await gw.status()).config_version;
    const asked = dns.queries('api.test', 'A');
    await waitFor('two more lookups of api.test', () => dns.queries('api.test', 'A') >= asked + 2, { timeoutMs: 10000 });
    assert.equal((await gw.status()).config_version, version);
    assert.deepEqual([...(await tally(gw, '/a', 5))], [['three', 5]]);
  });
});

describe('DNS discovery: an A record moves to another address', () => {
  let dns: Dnsmasq;
  let gw: Gateway;
  let first: Named;
  let second: Named;

  before(async () => {
    first = await named('first');
    second = await named('second', '127.0.0.2', first.port);
    dns = await startDnsmasq({ a: { 'move.test': ['127.0.0.1'] }, ttl: 1 });
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'm', host: 'm-up', routes: [{ name: 'm', paths: ['/m'] }] }],
        upstreams: [{ name: 'm-up', targets: [{ target: `move.test:${first.port}` }] }],
      },
      workers: 2,
      env: env(dns),
    });
  });

  after(async () => {
    await gw?.stop();
    await dns?.close();
    await closeAll([first, second]);
  });

  it('after the TTL the new address takes all traffic', { timeout: 30000 }, async () => {
    assert.deepEqual([...(await tally(gw, '/m', 6))], [['first', 6]]);
    await dns.set({ a: { 'move.test': ['127.0.0.2'] }, ttl: 1 });
    await waitFor('traffic on the new address', async () => (await tally(gw, '/m', 2)).get('second') === 2, { timeoutMs: 10000 });
    assert.deepEqual([...(await tally(gw, '/m', 10))], [['second', 10]]);
  });
});

describe('DNS discovery: the resolver goes away', () => {
  let dns: Dnsmasq;
  let gw: Gateway;
  let up: Named;

  before(async () => {
    up = await named('up');
    dns = await startDnsmasq({ a: { 'node.test': ['127.0.0.1'] }, srv: { 'svc.service.consul': [{ target: 'node.test', port: up.port }] }, ttl: 1 });
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 's', host: 's-up', routes: [{ name: 's', paths: ['/s'] }] }],
        // Passive checks on, so the Admin API reports target states (Kong shows HEALTHCHECKS_OFF otherwise).
        upstreams: [{ name: 's-up', healthchecks: { passive: { unhealthy: { tcp_failures: 3 } } }, targets: [{ target: 'svc.service.consul' }] }],
      },
      workers: 2,
      env: env(dns, { HYPERWAY_DNS_STALE_TTL: '4', HYPERWAY_DNS_ERROR_TTL: '0.2' }),
    });
  });

  after(async () => {
    await gw?.stop();
    await dns?.close();
    await closeAll([up]);
  });

  async function healthOf(): Promise<string[]> {
    const body = (await gw.admin('/upstreams/s-up/health')).json<{ data: Array<{ health: string }> }>();
    return body.data.map((t) => t.health);
  }

  it('the last answer serves for dns_stale_ttl, then the target is DNS_ERROR (503); it heals when the name resolves', { timeout: 40000 }, async () => {
    assert.deepEqual([...(await tally(gw, '/s', 4))], [['up', 4]]);
    await dns.down();
    await waitFor('a failed lookup served from the last answer', () => /dns: lookup failed; serving the last answer/.test(gw.output()), { timeoutMs: 10000 });
    assert.deepEqual([...(await tally(gw, '/s', 10))], [['up', 10]], 'the last good answer is still used');
    await waitFor('DNS_ERROR in /upstreams/s-up/health', async () => (await healthOf()).join() === 'DNS_ERROR', { timeoutMs: 15000 });
    assert.deepEqual([...(await tally(gw, '/s', 4))], [['status 503', 4]]);
    await dns.up();
    await waitFor('traffic again once the name resolves', async () => (await request(`${gw.proxyUrl}/s`)).status === 200, { timeoutMs: 10000 });
    assert.deepEqual(await healthOf(), ['HEALTHY']);
    assert.deepEqual([...(await tally(gw, '/s', 4))], [['up', 4]]);
  });
});


describe('upstream pools: a retry right after a reload', () => {
  let gw: Gateway;
  let echo: Named;
  let holder: Server;
  let holdPort: number;
  const held: ServerResponse[] = [];

  const config = (targets: number[]): object => ({
    _format_version: '3.0',
    services: [{ name: 'r', host: 'r-up', retries: 5, routes: [{ name: 'r', paths: ['/r'] }] }],
    upstreams: [{ name: 'r-up', targets: targets.map((p) => ({ target: `127.0.0.1:${p}` })) }],
  });

  before(async () => {
    echo = await named('echo');
    holder = createServer((req, res) => {
      req.resume();
      held.push(res);
    });
    holdPort = await listenLocal(holder);
    gw = await startGateway({ config: config([holdPort, echo.port]), workers: 2 });
  });

  after(async () => {
    await gw?.stop();
    holder.closeAllConnections();
    await new Promise((r) => holder.close(r));
    await closeAll([echo]);
  });

  it('a request that began before the reload retries on a target the new config dropped: 200, not 502', { timeout: 30000 }, async () => {
    const pending: Array<Promise<{ status: number; text: string }>> = [];
    while (held.length === 0) {
      let done = false;
      pending.push(request(`${gw.proxyUrl}/r`).then((r) => ((done = true), r)));
      await waitFor('answered or held', () => done || held.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    }
    const version = (await gw.status()).config_version;
    // The new config drops the echo target: no runtime uses its address, its pool retires.
    writeFileSync(gw.configPath, stringify(config([holdPort])));
    gw.child.kill('SIGHUP');
    await waitFor('every worker on the new config', async () => (await gw.status()).workers.every((w) => w.config_version > version), { timeoutMs: 10000 });
    const servedBefore = echo.hosts.length;
    // The held try fails (connection cut, nothing listens any more): the retry goes to the echo
    // target of the request's own (old) balancer, whose pool the reload retired.
    holder.close();
    for (const r of held) r.socket?.destroy();
    const results = await Promise.all(pending);
    assert.deepEqual(results.map((r) => r.status), results.map(() => 200), results.map((r) => `${r.status} ${r.text}`).join(' | '));
    assert.equal(echo.hosts.length, servedBefore + 1, 'the retry reached the dropped target');
  });
});
