/**
 * The consumer directory (shared/consumer-directory.ts) against the Maps a worker built before it
 * (issue 21 goal 5), on bench/lib/scale-config.ts's consumers: 100,000 consumers, one key-auth
 * key each, every tenth in an ACL group.
 *
 * - Per worker and snapshot: the old way decodes the lists from msgpack and fills a Map per
 *   credential type (the code as it was, inlined below as the baseline); the new way wraps the
 *   bytes. Wall ms, fresh each time.
 * - Per request: a key-auth lookup (hit, on a key seen before; miss, on an unknown key) and an ACL
 *   groups lookup by consumer id, ns per lookup over a random order of keys: over all 100,000 (cache
 *   misses dominate) and over 100 hot keys (the lookup's own work).
 *
 * Interleaved rounds (old, new, old, new …) in one process; medians. Knobs: BENCH_CONSUMERS
 * (100,000), BENCH_ROUNDS (5), BENCH_LOOKUPS (200,000 per row per round).
 * `npm run build && node dist/bench/consumer-lookup.js`
 */
import { performance } from 'node:perf_hooks';
import { Packr } from 'msgpackr';
import { ConsumerDirectory, encodeDirectory } from '../src/shared/consumer-directory';
import type { ConsumerSnap, CredentialsSnap } from '../src/shared/snapshot';
import { numberEnv } from './lib/knobs';
import { median } from './lib/rounds';
import { markdownTable } from './lib/report';
import { ACL_GROUPS, scaleConsumerKey } from './lib/scale-config';

interface OldEnv {
  keyauth: Map<string, { id: string; key: string; consumer: ConsumerSnap }>;
  acl: Map<string, string[]>;
}

/** The worker's index before the directory (plugins/env.ts at 61a27b1), the baseline. */
function oldEnv(consumers: ConsumerSnap[], creds: CredentialsSnap): OldEnv {
  const acl = new Map<string, string[]>();
  for (const a of creds.acls) {
    const id = consumers[a.consumer].id;
    const list = acl.get(id);
    if (list) list.push(a.group);
    else acl.set(id, [a.group]);
  }
  const keyauth = new Map<string, { id: string; key: string; consumer: ConsumerSnap }>();
  for (const c of creds.keyauth) keyauth.set(c.key, { id: c.id, key: c.key, consumer: consumers[c.consumer] });
  return { keyauth, acl };
}

function uuidish(i: number): string {
  const h = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0');
  return `${h}-0000-5000-8000-${i.toString(16).padStart(12, '0')}`;
}

function shuffled<T>(xs: T[]): T[] {
  const out = xs.slice();
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function main(): void {
  const n = numberEnv('BENCH_CONSUMERS', 100_000, 10);
  const rounds = numberEnv('BENCH_ROUNDS', 5, 1);
  const lookups = numberEnv('BENCH_LOOKUPS', 200_000, 1000);
  const consumers: ConsumerSnap[] = [];
  const creds: CredentialsSnap = { keyauth: [], basicauth: [], jwt: [], acls: [] };
  for (let i = 0; i < n; i++) {
    consumers.push({ id: uuidish(i), username: `c${i}`, customId: null, tags: [] });
    creds.keyauth.push({ id: uuidish(n + i), key: scaleConsumerKey(i), consumer: i });
    if (i % 10 === 0) creds.acls.push({ id: uuidish(2 * n + i), group: `g${(i / 10) % ACL_GROUPS}`, consumer: i });
  }
  const packr = new Packr({ useRecords: true, moreTypes: false });
  const packed = packr.pack({ consumers, credentials: creds });
  const t0 = performance.now();
  const directory = encodeDirectory(consumers, creds);
  const encodeMs = performance.now() - t0;
  console.log(`${n} consumers: msgpack ${(packed.length / 1e6).toFixed(1)} MB, directory ${(directory.length / 1e6).toFixed(1)} MB (encoded in ${encodeMs.toFixed(0)} ms, first call)`);

  const hits = shuffled(creds.keyauth.map((k) => k.key)).slice(0, lookups);
  const misses = hits.map((k) => `${k}x`);
  const aclIds = shuffled(consumers.map((c) => c.id)).slice(0, lookups);
  const hot = Array.from({ length: lookups }, (_, i) => hits[i % 100]);
  const hotMisses = hot.map((k) => `${k}x`);
  const rows: Record<string, { old: number[]; new: number[] }> = {};
  const add = (row: string, side: 'old' | 'new', v: number): void => {
    (rows[row] ??= { old: [], new: [] })[side].push(v);
  };
  const perLookup = (keys: string[], f: (k: string) => unknown): number => {
    let found = 0;
    const t = performance.now();
    for (let i = 0; i < keys.length; i++) if (f(keys[i]) !== undefined) found++;
    const ns = ((performance.now() - t) * 1e6) / keys.length;
    if (found < 0) console.log(found); // keeps the loop's result alive
    return ns;
  };
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    const lists = packr.unpack(packed) as { consumers: ConsumerSnap[]; credentials: CredentialsSnap };
    const env = oldEnv(lists.consumers, lists.credentials);
    add('build per worker (ms)', 'old', performance.now() - t);
    t = performance.now();
    const dir = new ConsumerDirectory(directory);
    add('build per worker (ms)', 'new', performance.now() - t);
    for (const k of hits) env.keyauth.get(k); // both sides warm: a credential seen before
    for (const k of hits) dir.keyauth(k);
    add('key-auth hit (ns)', 'old', perLookup(hits, (k) => env.keyauth.get(k)));
    add('key-auth hit (ns)', 'new', perLookup(hits, (k) => dir.keyauth(k)));
    add('key-auth miss (ns)', 'old', perLookup(misses, (k) => env.keyauth.get(k)));
    add('key-auth miss (ns)', 'new', perLookup(misses, (k) => dir.keyauth(k)));
    add('key-auth hit, 100 hot keys (ns)', 'old', perLookup(hot, (k) => env.keyauth.get(k)));
    add('key-auth hit, 100 hot keys (ns)', 'new', perLookup(hot, (k) => dir.keyauth(k)));
    add('key-auth miss, 100 hot keys (ns)', 'old', perLookup(hotMisses, (k) => env.keyauth.get(k)));
    add('key-auth miss, 100 hot keys (ns)', 'new', perLookup(hotMisses, (k) => dir.keyauth(k)));
    add('acl groups by consumer id (ns)', 'old', perLookup(aclIds, (k) => env.acl.get(k) ?? null));
    add('acl groups by consumer id (ns)', 'new', perLookup(aclIds, (k) => dir.aclGroups(k) ?? null));
  }
  const table = Object.entries(rows).map(([name, v]) => {
    const o = median(v.old);
    const nw = median(v.new);
    return [name, o.toFixed(1), nw.toFixed(1), (nw / o).toFixed(2)];
  });
  console.log(markdownTable(['row (median of rounds)', 'Maps (before)', 'directory', 'directory ÷ Maps'], table));
}

main();
