// Consistent-hashing: Kong's xxhash32 and continuum, the hash_on / hash_fallback key, stickiness
// when another target leaves, unusable targets walked past, the point kept over retries, and the
// cookie Kong sets when the client has none.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { xxhash32 } from '../../src/worker/balancer/xxhash32';
import { Continuum } from '../../src/worker/balancer/continuum';
import { ConsistentHashing } from '../../src/worker/balancer/consistent-hashing';
import { hashKey, hashRule, queryArg, cookieValue } from '../../src/worker/balancer/hash-key';
import { attachTargetTable } from '../../src/worker/balancer/health';
import type { BalanceContext, Peer } from '../../src/worker/balancer/peer';
import type { UpstreamSnap } from '../../src/shared/snapshot';
import { createSegment, destroySegment, region, REGION, SHM_PREFIX } from '../../src/shared/shm';
import { HEALTH, SOURCE, initTable, setHealth, tableWords } from '../../src/shared/target-table';

const seg = createSegment(process.pid, 1, `${SHM_PREFIX}test-ch-${process.pid}.`, [tableWords(16, 2)]);
after(() => destroySegment(seg));
const table = region(seg, REGION.TARGETS) as Int32Array;
initTable(table, 2);
attachTargetTable(seg, 0);

const ended = { tryStatus: 200, tryFailure: -1 as const, tryLatency: 1 };

interface Req { headers?: string[]; realIp?: string; url?: string; search?: string; captures?: RegExpExecArray | null; consumer?: string }
function request(r: Req = {}): BalanceContext {
  return {
    failedPeers: 0, hashPoint: -1, balancerCookie: null,
    headers: r.headers ?? [], realIp: r.realIp ?? '10.0.0.1', url: r.url ?? '/', search: r.search ?? '',
    match: { routeIndex: 0, prefix: '/', captures: r.captures ?? null },
    pipeline: r.consumer === undefined ? null : { consumer: { id: r.consumer }, credential: null },
  } as unknown as BalanceContext;
}

function upstream(over: Partial<UpstreamSnap>): UpstreamSnap {
  return {
    id: 'u', name: 'u', algorithm: 'consistent-hashing', hashOn: 'header', hashFallback: 'none',
    hashOnHeader: 'x-key', hashFallbackHeader: null, hashOnCookie: null, hashOnCookiePath: '/',
    hashOnQueryArg: null, hashFallbackQueryArg: null, hashOnUriCapture: null, hashFallbackUriCapture: null,
    slots: 10000, hostHeader: null, healthchecks: null, tags: [], targets: [], ...over,
  };
}

interface T { host: string; port: number; weight: number; slot: number }
function balancer(targets: T[], up: UpstreamSnap = upstream({})): ConsistentHashing {
  const peers = targets.map((t, index): Peer => ({ host: t.host, port: t.port, hostHeader: `${t.host}:${t.port}`, pool: null as never, slot: t.slot, countsLoad: false, passive: null, index }));
  return new ConsistentHashing(peers, targets.map((t) => t.weight), new Continuum(targets, up.slots), hashRule(up));
}

function target(ctxOrKey: BalanceContext | string, b: ConsistentHashing): string {
  const ctx = typeof ctxOrKey === 'string' ? request({ headers: ['x-key', ctxOrKey] }) : ctxOrKey;
  const p = b.pick(ctx);
  if (p === null) return 'none';
  b.release(p, ended);
  return `${p.host}:${p.port}`;
}

test('xxhash32 is the reference xxHash32 (seed 0), as Kong\'s luaxxhash', () => {
  assert.equal(xxhash32(''), 0x02cc5d05);
  assert.equal(xxhash32('a'), 0x550d7456);
  assert.equal(xxhash32('abc'), 0x32d153ff);
  assert.equal(xxhash32('Nobody inspects the spammish repetition'), 0xe2293b2f);
  assert.equal(xxhash32('é€😀'), xxhash32(Buffer.from('é€😀').toString('utf8')), 'UTF-8 bytes');
});

test('keys spread by weight; weight 0 takes none; the continuum does not depend on declaration order', () => {
  const ts: T[] = [{ host: '10.0.0.1', port: 80, weight: 200, slot: -1 }, { host: '10.0.0.2', port: 80, weight: 100, slot: -1 }, { host: '10.0.0.3', port: 80, weight: 0, slot: -1 }];
  const b = balancer(ts);
  const reversed = balancer([...ts].reverse());
  const c: Record<string, number> = {};
  for (let i = 0; i < 3000; i++) {
    const t = target(`user-${i}`, b);
    c[t] = (c[t] ?? 0) + 1;
    assert.equal(target(`user-${i}`, reversed), t);
  }
  assert.equal(c['10.0.0.3:80'], undefined);
  const share = c['10.0.0.1:80'] / 3000;
  assert.ok(share > 0.55 && share < 0.78, `weight 200 of 300 takes about two thirds of the keys (${share})`);
});

test('a target leaving moves only its own keys', () => {
  const ts: T[] = [1, 2, 3, 4].map((n) => ({ host: `10.0.1.${n}`, port: 8000, weight: 100, slot: -1 }));
  const before = balancer(ts);
  const afterLeave = balancer(ts.filter((t) => t.host !== '10.0.1.3'));
  let moved = 0;
  for (let i = 0; i < 2000; i++) {
    const was = target(`k${i}`, before);
    const now = target(`k${i}`, afterLeave);
    if (was === '10.0.1.3:8000') moved++;
    else assert.equal(now, was, `key k${i} stays on ${was}`);
  }
  assert.ok(moved > 300, `the leaving target had its share of keys (${moved})`);
});

test('an unusable target\'s keys walk on to the next target and come back once it is healthy; the point is kept over retries', () => {
  const ts: T[] = [{ host: '10.0.2.1', port: 80, weight: 100, slot: 0 }, { host: '10.0.2.2', port: 80, weight: 100, slot: 1 }, { host: '10.0.2.3', port: 80, weight: 100, slot: 2 }];
  const b = balancer(ts);
  const keys = Array.from({ length: 300 }, (_, i) => `s${i}`);
  const home = keys.map((k) => target(k, b));
  setHealth(table, 1, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  keys.forEach((k, i) => {
    const now = target(k, b);
    assert.notEqual(now, '10.0.2.2:80');
    if (home[i] !== '10.0.2.2:80') assert.equal(now, home[i]);
  });
  setHealth(table, 1, HEALTH.HEALTHY, SOURCE.ADMIN);
  assert.deepEqual(keys.map((k) => target(k, b)), home);
  // A retry hashes nothing again: the request's point stays, and so does its target (Kong).
  const ctx = request({ headers: ['x-key', 's1'] });
  const first = b.pick(ctx) as Peer;
  b.release(first, { tryStatus: 0, tryFailure: 2, tryLatency: 1 });
  const point = ctx.hashPoint;
  assert.ok(point >= 0);
  ctx.headers = ['x-key', 'something else'];
  const retry = b.pick(ctx) as Peer;
  b.release(retry, ended);
  assert.equal(retry, first);
  for (const s of [0, 1, 2]) setHealth(table, s, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  assert.equal(b.pick(request({ headers: ['x-key', 's1'] })), null, 'no usable target: no peer');
  for (const s of [0, 1, 2]) setHealth(table, s, HEALTH.HEALTHY, SOURCE.ADMIN);
});

test('hash_on / hash_fallback: header, ip, consumer, path, query_arg, uri_capture, and "" when nothing is found', () => {
  const rule = (o: Partial<UpstreamSnap>): ReturnType<typeof hashRule> => hashRule(upstream(o));
  const h = rule({ hashOn: 'header', hashOnHeader: 'X-Key', hashFallback: 'ip' });
  assert.equal(hashKey(request({ headers: ['x-key', 'a', 'x-key', 'b'] }), h), 'a, b');
  assert.equal(hashKey(request({ realIp: '192.0.2.7' }), h), '192.0.2.7', 'no header: the fallback');
  const c = rule({ hashOn: 'consumer', hashFallback: 'query_arg', hashFallbackQueryArg: 'user' });
  assert.equal(hashKey(request({ consumer: 'c-1' }), c), 'c-1');
  assert.equal(hashKey(request({ search: '?user=b&user=a' }), c), 'a,b', 'repeated arguments sorted and joined');
  assert.equal(hashKey(request({ search: '?x=1' }), c), '', 'neither found: the empty key');
  assert.equal(hashKey(request({ url: '/a/./b/../c' }), rule({ hashOn: 'path' })), '/a/c');
  const m = /^\/users\/(?<id>\d+)\/(\w+)$/.exec('/users/42/orders') as RegExpExecArray;
  assert.equal(hashKey(request({ captures: m }), rule({ hashOn: 'uri_capture', hashOnUriCapture: 'id' })), '42');
  assert.equal(hashKey(request({ captures: m }), rule({ hashOn: 'uri_capture', hashOnUriCapture: '2' })), 'orders');
  assert.equal(queryArg('?a&b=%20x+y', 'a'), 'true');
  assert.equal(queryArg('?a&b=%20x+y', 'b'), ' x y');
  assert.equal(queryArg('?a=1', 'b'), null);
  assert.equal(cookieValue(['cookie', 'x=1; Sess=abc', 'cookie', 'sess=zzz'], 'sess'), 'abc');
});

test('hash_on cookie: a client without it gets a fresh key and the Set-Cookie for it; one with it is hashed on it', () => {
  const up = upstream({ hashOn: 'cookie', hashOnCookie: 'lb', hashOnCookiePath: '/app' });
  const b = balancer([{ host: '10.0.3.1', port: 80, weight: 100, slot: -1 }, { host: '10.0.3.2', port: 80, weight: 100, slot: -1 }], up);
  const fresh = request();
  const p = b.pick(fresh) as Peer;
  b.release(p, ended);
  const m = /^lb=([0-9a-f-]{36}); Path=\/app; Same-Site=Lax; HttpOnly$/.exec(fresh.balancerCookie ?? '');
  assert.ok(m, `Set-Cookie as Kong writes it: ${fresh.balancerCookie}`);
  const back = request({ headers: ['cookie', `lb=${m[1]}`] });
  assert.equal(target(back, b), `${p.host}:${p.port}`, 'the cookie brings the client back to the same target');
  assert.equal(back.balancerCookie, null, 'no new cookie when the client has one');
});
