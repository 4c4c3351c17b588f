/**
 * Primary-side expansion of hostname targets into addresses (primary/dns/expand.ts) and the
 * health slots those addresses get (primary/health/slots.ts): keyed by upstream + target +
 * address, so an address that stays across a re-resolution keeps its row, health included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandTargets, targetNames } from '../../src/primary/dns/expand';
import type { View } from '../../src/primary/dns/cache';
import { SlotMap } from '../../src/primary/health/slots';
import type { Snapshot, TargetSnap, UpstreamSnap } from '../../src/shared/snapshot';
import { HEALTH, SOURCE, TABLE_HEADER_WORDS, healthOf, initTable, setHealth, tableWords } from '../../src/shared/target-table';

function target(t: string, weight = 100): TargetSnap {
  const i = t.lastIndexOf(':');
  return { id: `id-${t}`, target: t, host: t.slice(0, i), port: Number(t.slice(i + 1)), weight, tags: [], slot: -1 };
}

function snap(upstreams: Array<Partial<UpstreamSnap> & { name: string; targets: TargetSnap[] }>): Snapshot {
  return { version: 1, hash: 'h', upstreams } as unknown as Snapshot;
}

const ok = (addresses: Array<[string, number | null, number | null, string | null]>): View =>
  ({ state: 'ok', addresses: addresses.map(([ip, port, weight, name]) => ({ ip, port, weight, name })) });

test('hostname targets become one entry per address; IP targets, pending names and weight 0 stay as they are', () => {
  const s = snap([
    { name: 'u', targets: [target('10.0.0.9:80'), target('api.test:8080', 7), target('slow.test:80'), target('off.consul:8000', 0)] },
    { name: 'v', useSrvName: true, targets: [target('web.consul:8000')] },
    { name: 'w', targets: [target('web.consul:8000')] },
  ]);
  assert.deepEqual([...targetNames(s)].sort(), ['api.test', 'off.consul', 'slow.test', 'web.consul']);
  const views: Record<string, View> = {
    'api.test': ok([['10.0.0.1', null, null, null], ['10.0.0.2', null, null, null]]),
    'slow.test': { state: 'pending' },
    'off.consul': ok([['10.0.2.1', 9000, 5, 'n.test']]),
    'web.consul': ok([['10.0.1.1', 9001, 3, 'n1.test'], ['10.0.1.2', 9002, 1, 'n2.test']]),
  };
  const { snapshot, failed } = expandTargets(s, (n) => views[n]);
  assert.equal(failed.size, 0);
  const rows = (u: number): unknown[] => snapshot.upstreams[u].targets.map((t) => [t.target, t.host, t.port, t.weight, t.hostName]);
  assert.deepEqual(rows(0), [
    ['10.0.0.9:80', '10.0.0.9', 80, 100, undefined],
    ['api.test:8080', '10.0.0.1', 8080, 7, 'api.test'],
    ['api.test:8080', '10.0.0.2', 8080, 7, 'api.test'],
    ['slow.test:80', 'slow.test', 80, 100, undefined],
    ['off.consul:8000', '10.0.2.1', 9000, 0, 'n.test'],
  ]);
  assert.deepEqual(rows(1), [['web.consul:8000', '10.0.1.1', 9001, 3, 'web.consul'], ['web.consul:8000', '10.0.1.2', 9002, 1, 'web.consul']], 'use_srv_name: Host = the SRV name');
  assert.deepEqual(rows(2), [['web.consul:8000', '10.0.1.1', 9001, 3, 'n1.test'], ['web.consul:8000', '10.0.1.2', 9002, 1, 'n2.test']]);
  assert.equal(s.upstreams[0].targets.length, 4, 'the snapshot given is not mutated');
});

test('a failed name keeps one entry, reported for DNS_ERROR', () => {
  const s = snap([{ name: 'u', targets: [target('10.0.0.9:80'), target('gone.test:80')] }]);
  const { snapshot, failed } = expandTargets(s, () => ({ state: 'failed', reason: 'x' }));
  assert.deepEqual(snapshot.upstreams[0].targets.map((t) => t.host), ['10.0.0.9', 'gone.test']);
  assert.deepEqual([...failed], ['0:1']);
});

test('an address that stays across re-resolution keeps its slot and health; one that leaves frees its slot', () => {
  const t = new Int32Array(tableWords(8));
  initTable(t);
  assert.ok(t.length > TABLE_HEADER_WORDS);
  const slots = new SlotMap(t, 8);
  const s = snap([{ name: 'u', targets: [target('api.test:80')] }, { name: 'v', targets: [target('api.test:80')] }]);
  const first = slots.assign(expandTargets(s, () => ok([['10.0.0.1', null, null, null], ['10.0.0.2', null, null, null]])).snapshot);
  const slotOf = (x: Snapshot, u: number, ip: string): number => (x.upstreams[u].targets.find((e) => e.host === ip) as TargetSnap).slot;
  assert.deepEqual(first.upstreams.map((u) => u.targets.map((e) => e.slot)), [[0, 1], [2, 3]], 'a row per upstream and address');
  setHealth(t, slotOf(first, 0, '10.0.0.2'), HEALTH.UNHEALTHY, SOURCE.ACTIVE);
  const second = slots.assign(expandTargets(s, () => ok([['10.0.0.2', null, null, null], ['10.0.0.3', null, null, null]])).snapshot);
  assert.equal(slotOf(second, 0, '10.0.0.2'), slotOf(first, 0, '10.0.0.2'));
  assert.equal(healthOf(t, slotOf(second, 0, '10.0.0.2')), HEALTH.UNHEALTHY, 'health survives re-resolution');
  assert.equal(healthOf(t, slotOf(second, 0, '10.0.0.3')), HEALTH.HEALTHY);
  assert.ok([0, 2].includes(slotOf(second, 0, '10.0.0.3')), 'the new address takes a freed row');
});
