// Kong's lookup_cfg precedence and PRIORITY order (kong/runloop/plugins_iterator.lua,
// spec/01-unit/12-plugins_order_spec.lua), on chains built from snapshot data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginSnap, Snapshot } from '../../../src/shared/snapshot';
import type { PluginHandler } from '../../../src/plugins/types';
import { buildChain, ChainIndex, confFor, configureInstances, NO_CONF, precedence } from '../../../src/worker/pipeline/chain';
import { buildPluginEnv } from '../../../src/plugins/env';

const CONSUMERS = [
  { id: 'c0', username: 'alice', customId: null, tags: [] },
  { id: 'c1', username: 'bob', customId: null, tags: [] },
];

function plugin(name: string, scope: { route?: number; service?: number; consumer?: number }, tag: string, extra: Partial<PluginSnap> = {}): PluginSnap {
  return {
    id: `${name}-${tag}`,
    name,
    instanceName: null,
    enabled: true,
    service: scope.service ?? -1,
    route: scope.route ?? -1,
    consumer: scope.consumer ?? -1,
    protocols: ['http', 'https'],
    config: { tag },
    tags: [],
    ...extra,
  };
}

function snapshot(plugins: PluginSnap[]): Snapshot {
  return { plugins, consumers: CONSUMERS, credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } } as unknown as Snapshot;
}

const handler = (name: string, priority: number): PluginHandler<unknown> => ({ name, priority, version: '1', access() {} });
const HANDLERS = new Map(['a', 'b', 'c'].map((n, i) => [n, handler(n, 1000 - i)]));

function chainFor(plugins: PluginSnap[], route = 0, service = 0) {
  const snap = snapshot(plugins);
  const env = buildPluginEnv(snap);
  const confs = configureInstances(snap, env, HANDLERS);
  return buildChain(snap, env, confs, route, service, HANDLERS);
}

const tagOf = (conf: unknown): string => (conf === NO_CONF ? 'none' : (conf as { tag: string }).tag);

test('a route with no applicable instance has no chain', () => {
  assert.equal(chainFor([]), null);
  assert.equal(chainFor([plugin('a', { route: 1 }, 'other-route'), plugin('a', { service: 1 }, 'other-service')]), null);
  assert.equal(chainFor([plugin('a', {}, 'off', { enabled: false })]), null);
  assert.equal(chainFor([plugin('a', {}, 'grpc-only', { protocols: ['grpc'] })]), null);
  assert.equal(chainFor([plugin('unknown', {}, 'x')]), null);
});

// Each row adds one more specific instance; the winner is the last row's tag, for the consumer shown.
test('precedence follows lookup_cfg: every combination, most specific wins', () => {
  const rows: Array<[PluginSnap, consumer: string | null, winner: string]> = [
    [plugin('a', {}, 'global'), null, 'global'],
    [plugin('a', { service: 0 }, 'service'), null, 'service'],
    [plugin('a', { route: 0 }, 'route'), null, 'route'],
    [plugin('a', { consumer: 0 }, 'consumer'), 'c0', 'consumer'],
    [plugin('a', { route: 0, service: 0 }, 'route+service'), 'c0', 'route+service'],
    [plugin('a', { service: 0, consumer: 0 }, 'service+consumer'), 'c0', 'service+consumer'],
    [plugin('a', { route: 0, consumer: 0 }, 'route+consumer'), 'c0', 'route+consumer'],
    [plugin('a', { route: 0, service: 0, consumer: 0 }, 'route+service+consumer'), 'c0', 'route+service+consumer'],
  ];
  const acc: PluginSnap[] = [];
  for (const [p, consumer, winner] of rows) {
    acc.push(p);
    // Order in the file must not matter: try the instances forwards and backwards.
    for (const list of [acc, [...acc].reverse()]) {
      const chain = chainFor(list);
      assert.ok(chain);
      assert.equal(chain.entries.length, 1);
      assert.equal(tagOf(confFor(chain.entries[0], consumer)), winner, `after adding ${p.config.tag}`);
    }
  }
  // With everything configured, a request without a consumer sees route+service, another consumer too.
  const full = chainFor(acc)!;
  assert.equal(tagOf(confFor(full.entries[0], null)), 'route+service');
  assert.equal(tagOf(confFor(full.entries[0], 'c1')), 'route+service');
});

test('consumer alone beats route and service, loses to route+service', () => {
  const withRoute = chainFor([plugin('a', { route: 0 }, 'route'), plugin('a', { consumer: 1 }, 'bob')])!;
  assert.equal(tagOf(confFor(withRoute.entries[0], 'c1')), 'bob');
  assert.equal(tagOf(confFor(withRoute.entries[0], 'c0')), 'route');
  const withBoth = chainFor([plugin('a', { route: 0, service: 0 }, 'route+service'), plugin('a', { consumer: 1 }, 'bob')])!;
  assert.equal(tagOf(confFor(withBoth.entries[0], 'c1')), 'route+service');
});

test('a consumer-only instance applies to every route, only once that consumer is known', () => {
  const chain = chainFor([plugin('a', { consumer: 0 }, 'alice')], 3, 2)!;
  assert.equal(confFor(chain.entries[0], null), NO_CONF);
  assert.equal(tagOf(confFor(chain.entries[0], 'c0')), 'alice');
  assert.equal(confFor(chain.entries[0], 'c1'), NO_CONF);
});

test('instances of other routes and services never apply', () => {
  const chain = chainFor([plugin('a', { route: 1, consumer: 0 }, 'route1+alice'), plugin('a', { service: 0 }, 'service')], 0, 0)!;
  assert.equal(tagOf(confFor(chain.entries[0], 'c0')), 'service');
});

test('entries run in descending PRIORITY whatever the file order', () => {
  const chain = chainFor([plugin('c', {}, 'c'), plugin('a', { route: 0 }, 'a'), plugin('b', { service: 0 }, 'b')])!;
  assert.deepEqual(chain.entries.map((e) => e.plugin), ['a', 'b', 'c']);
  assert.deepEqual(chain.entries.map((e) => e.handler.priority), [1000, 999, 998]);
  assert.equal(chain.hasAccess, true);
  assert.equal(chain.hasLog, false);
});

test('configure runs once per instance per snapshot; its result is the conf', () => {
  let calls = 0;
  const h: PluginHandler<{ doubled: number }> = {
    name: 'a', priority: 1, version: '1',
    configure(config) { calls++; return { doubled: (config.n as number) * 2 }; },
  };
  const snap = snapshot([plugin('a', {}, 'g', { config: { n: 21 } })]);
  const handlers = new Map([['a', h]]);
  const env = buildPluginEnv(snap);
  const confs = configureInstances(snap, env, handlers);
  const c1 = buildChain(snap, env, confs, 0, 0, handlers)!;
  const c2 = buildChain(snap, env, confs, 1, 1, handlers)!;
  assert.equal(calls, 1);
  assert.deepEqual(confFor(c1.entries[0], null), { doubled: 42 });
  assert.equal(confFor(c1.entries[0], null), confFor(c2.entries[0], null));
});

// The per-snapshot ChainIndex narrows each route's scan to the instances that can apply to it:
// every route's chain must equal what ranking every instance of the snapshot gives.
for (const start of [7, 11, 2024, 90210, 31337]) test(`chains from the scope index equal the winners over every instance, for every route and consumer (seed ${start})`, () => {
  // xorshift32: every bit of the state varies (a plain LCG in doubles lost its low bits).
  let seed = start;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const ROUTES = 12;
  const SERVICES = 4;
  const serviceOf = (r: number): number => (r % 5 === 4 ? -1 : r % SERVICES);
  const plugins: PluginSnap[] = [];
  for (let i = 0; i < 150; i++) {
    const scope: { route?: number; service?: number; consumer?: number } = {};
    if (rand(2) === 0) scope.route = rand(ROUTES + 2) - 1; // -1 included: unscoped by route
    if (rand(2) === 0) scope.service = rand(SERVICES + 1) - 1;
    if (rand(3) === 0) scope.consumer = rand(2);
    plugins.push(plugin(['a', 'b', 'c'][rand(3)], scope, `p${i}`, rand(10) === 0 ? { enabled: false } : {}));
  }
  const snap = snapshot(plugins);
  const env = buildPluginEnv(snap);
  const confs = configureInstances(snap, env, HANDLERS);
  const chains = new ChainIndex(snap, confs, env);
  // The mix covers every kind of scope, consumer-only ones (the shared map) included.
  const kinds = new Set(plugins.map((p) => `${p.route >= 0}/${p.service >= 0}/${p.consumer >= 0}`));
  assert.equal(kinds.size, 8, [...kinds].join(' '));
  let compared = 0;
  for (let route = -1; route < ROUTES; route++) {
    const service = route < 0 ? 0 : serviceOf(route);
    const chain = buildChain(snap, env, confs, route, service, HANDLERS, chains);
    for (const name of ['a', 'b', 'c']) {
      for (const consumer of [null, 0, 1]) {
        // The winner by brute force: the highest rank over every enabled instance, first on ties.
        let winner: { rank: number; tag: string } | null = null;
        plugins.forEach((p, i) => {
          if (p.name !== name || confs[i] === NO_CONF) return;
          if (p.consumer >= 0 && p.consumer !== consumer) return;
          const rank = precedence(p, route, service);
          if (rank >= 0 && (winner === null || rank > winner.rank)) winner = { rank, tag: p.id.slice(2) };
        });
        const entry = chain?.entries.find((e) => e.plugin === name);
        const got = entry === undefined ? 'none' : tagOf(confFor(entry, consumer === null ? null : `c${consumer}`));
        assert.equal(got, (winner as { tag: string } | null)?.tag ?? 'none', `route ${route}, service ${service}, plugin ${name}, consumer ${consumer}`);
        compared++;
      }
    }
  }
  assert.equal(compared, (ROUTES + 1) * 9);
});
