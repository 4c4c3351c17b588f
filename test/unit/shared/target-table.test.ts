// The target table's counter semantics (Kong's lua-resty-healthcheck incr_counter), its slot
// assignment across reloads, and the fold that turns the workers' shared counters into a state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COUNTER, HEALTH, SOURCE, W, count, counterValue, generationOf, healthOf, initTable, sourceOf, setHealth, tableWords, capacity,
  addInFlight, inFlight,
} from '../../../src/shared/target-table';
import { SlotMap } from '../../../src/primary/health/slots';
import type { Snapshot, TargetSnap } from '../../../src/shared/snapshot';
import { createSegment, destroySegment, region, REGION, SHM_PREFIX } from '../../../src/shared/shm';
import { HealthChecks, FOLD_MS } from '../../../src/primary/health';
import { loadConfigText } from '../../../src/primary/config';

const PREFIX = `${SHM_PREFIX}test-targets-${process.pid}.`;

function table(slots = 8): Int32Array {
  const t = new Int32Array(tableWords(slots));
  initTable(t);
  return t;
}

test('a new table: every slot healthy, capacity from its size', () => {
  const t = table(8);
  assert.equal(capacity(t), 8);
  for (let s = 0; s < 8; s++) assert.equal(healthOf(t, s), HEALTH.HEALTHY);
});

test('a success zeroes the failure counters; a failure zeroes the success counter; failures do not reset each other', () => {
  const t = table();
  const P = W.P_SUCCESSES;
  assert.equal(count(t, 0, P, COUNTER.HTTP), 1);
  assert.equal(count(t, 0, P, COUNTER.TCP), 1);
  assert.equal(count(t, 0, P, COUNTER.HTTP), 2);
  assert.equal(count(t, 0, P, COUNTER.TIMEOUT), 1);
  assert.deepEqual([COUNTER.HTTP, COUNTER.TCP, COUNTER.TIMEOUT].map((c) => counterValue(t, 0, P, c)), [2, 1, 1]);
  // A success on a healthy target counts nothing but clears its failures (mostly_healthy → healthy).
  assert.equal(count(t, 0, P, COUNTER.SUCCESS), 0);
  assert.deepEqual([COUNTER.SUCCESS, COUNTER.HTTP, COUNTER.TCP, COUNTER.TIMEOUT].map((c) => counterValue(t, 0, P, c)), [0, 0, 0, 0]);

  setHealth(t, 1, HEALTH.UNHEALTHY, SOURCE.PASSIVE);
  assert.equal(count(t, 1, P, COUNTER.SUCCESS), 1);
  assert.equal(count(t, 1, P, COUNTER.SUCCESS), 2);
  // A failure on an unhealthy target counts nothing but resets its successes.
  assert.equal(count(t, 1, P, COUNTER.TCP), 0);
  assert.equal(counterValue(t, 1, P, COUNTER.SUCCESS), 0);
  assert.equal(counterValue(t, 1, P, COUNTER.TCP), 0);
});

test('active and passive counters are separate columns', () => {
  const t = table();
  count(t, 0, W.A_SUCCESSES, COUNTER.TIMEOUT);
  assert.equal(counterValue(t, 0, W.A_SUCCESSES, COUNTER.TIMEOUT), 1);
  assert.equal(counterValue(t, 0, W.P_SUCCESSES, COUNTER.TIMEOUT), 0);
});

test('a transition records who made it, bumps the generation and starts every counter over; in-flight survives', () => {
  const t = table();
  count(t, 2, W.P_SUCCESSES, COUNTER.HTTP);
  count(t, 2, W.A_SUCCESSES, COUNTER.TCP);
  addInFlight(t, 2, 3);
  const g = generationOf(t, 2);
  setHealth(t, 2, HEALTH.UNHEALTHY, SOURCE.ADMIN);
  assert.equal(healthOf(t, 2), HEALTH.UNHEALTHY);
  assert.equal(sourceOf(t, 2), SOURCE.ADMIN);
  assert.equal(generationOf(t, 2), g + 1);
  assert.equal(counterValue(t, 2, W.P_SUCCESSES, COUNTER.HTTP), 0);
  assert.equal(counterValue(t, 2, W.A_SUCCESSES, COUNTER.TCP), 0);
  assert.equal(inFlight(t, 2), 3);
  // Neighbouring slots are untouched.
  assert.equal(healthOf(t, 1), HEALTH.HEALTHY);
  assert.equal(healthOf(t, 3), HEALTH.HEALTHY);
});

function snap(upstreams: Record<string, string[]>): Snapshot {
  const target = (t: string): TargetSnap => ({ id: t, target: t, host: t.split(':')[0], port: Number(t.split(':')[1]), weight: 100, tags: [], slot: -1 });
  return { upstreams: Object.entries(upstreams).map(([name, ts]) => ({ name, targets: ts.map(target) })) } as unknown as Snapshot;
}

const slotsOf = (s: Snapshot): Record<string, number[]> => Object.fromEntries(s.upstreams.map((u) => [u.name, u.targets.map((t) => t.slot)]));

test('slots are keyed by upstream name + target: a reload keeps them, a removed target frees its slot, a full table gives -1', () => {
  const t = table(3);
  const m = new SlotMap(t, 3);
  const first = m.assign(snap({ a: ['10.0.0.1:80', '10.0.0.2:80'], b: ['10.0.0.1:80'] }));
  assert.deepEqual(slotsOf(first), { a: [0, 1], b: [2] });
  setHealth(t, 1, HEALTH.UNHEALTHY, SOURCE.ACTIVE);
  // Reordered, with b's target gone and a new one in c: a's keep theirs, c gets b's freed slot, reset.
  const second = m.assign(snap({ c: ['10.0.0.9:80'], a: ['10.0.0.2:80', '10.0.0.1:80'] }));
  assert.deepEqual(slotsOf(second), { c: [2], a: [1, 0] });
  assert.equal(healthOf(t, 1), HEALTH.UNHEALTHY, 'health survives the reload');
  const third = m.assign(snap({ c: ['10.0.0.9:80'], a: ['10.0.0.2:80', '10.0.0.1:80', '10.0.0.3:80'] }));
  assert.deepEqual(slotsOf(third), { c: [2], a: [1, 0, -1] });
  assert.equal(first.upstreams[0].targets[0].slot, 0, 'the snapshot given is not mutated');
});

test('the primary folds the workers\' shared passive counters: N reports together reach the threshold, then it flips the state', async () => {
  const seg = createSegment(process.pid, 1, PREFIX, [tableWords(16)]);
  const health = new HealthChecks(seg);
  try {
    const yml = `_format_version: "3.0"
upstreams:
  - name: up
    healthchecks:
      passive:
        healthy: {successes: 2}
        unhealthy: {http_failures: 3, tcp_failures: 2}
    targets: [{target: "127.0.0.1:1"}]
`;
    const s = health.prepare(loadConfigText(yml, 'inline', {}, 1).snapshot);
    const slot = s.upstreams[0].targets[0].slot;
    const t = region(seg, REGION.TARGETS) as Int32Array;
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, FOLD_MS * 4));
    // Two "workers" each add one failure: below the threshold of 3 still.
    count(t, slot, W.P_SUCCESSES, COUNTER.HTTP);
    count(t, slot, W.P_SUCCESSES, COUNTER.HTTP);
    await settle();
    assert.equal(healthOf(t, slot), HEALTH.HEALTHY);
    count(t, slot, W.P_SUCCESSES, COUNTER.HTTP);
    await settle();
    assert.equal(healthOf(t, slot), HEALTH.UNHEALTHY);
    assert.equal(sourceOf(t, slot), SOURCE.PASSIVE);
    count(t, slot, W.P_SUCCESSES, COUNTER.SUCCESS);
    await settle();
    assert.equal(healthOf(t, slot), HEALTH.UNHEALTHY);
    count(t, slot, W.P_SUCCESSES, COUNTER.SUCCESS);
    await settle();
    assert.equal(healthOf(t, slot), HEALTH.HEALTHY);
  } finally {
    health.stop();
    destroySegment(seg);
  }
});

test('target_slots sizes the region: 1 to 2^20 slots of 16 words plus one in-flight word per worker', async () => {
  const { resolveSettings } = await import('../../../src/primary/config');
  assert.equal(resolveSettings({ target_slots: 10 }, {}).settings.targetSlots, 10);
  assert.equal(resolveSettings({}, { HYPERWAY_TARGET_SLOTS: '64' }).settings.targetSlots, 64);
  assert.equal(resolveSettings({ target_slots: 0 }, {}).problems.length, 1);
  assert.equal(resolveSettings({ target_slots: 2 ** 20 + 1 }, {}).problems.length, 1);
  const { regionWords } = await import('../../../src/primary/shm-plan');
  assert.equal(regionWords(resolveSettings({ target_slots: 10, workers: 3 }, {}).settings)[REGION.TARGETS], 16 + 10 * 16 + 3 * 10);
  const t = new Int32Array(tableWords(10, 3));
  initTable(t, 3);
  assert.equal(capacity(t), 10);
});
