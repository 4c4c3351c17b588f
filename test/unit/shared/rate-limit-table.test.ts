// The local rate-limit table lives in real POSIX shared memory: processes hammering one key at
// once must let exactly `limit` requests through per window, and undo what they blocked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { createSegment, destroySegment, region, REGION, SHM_PREFIX } from '../../../src/shared/shm';
import { hashKey, RateLimitTable, tableWords, MAX_PROBE } from '../../../src/shared/rate-limit-table';

const PREFIX = `${SHM_PREFIX}test-rlt-${process.pid}.`;
const CHILD = path.join(__dirname, 'rate-limit-hammer.js');

function regions(capacity: number): number[] {
  const r = [0, 0, 0, 0, 0];
  r[REGION.RATE_LIMITS] = tableWords(capacity);
  return r;
}

function run(name: string, count: number, limit: number, nowMs: number, undoEvery: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = fork(CHILD, [name, String(count), String(limit), String(nowMs), String(undoEvery)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    let passed = -1;
    c.on('message', (m) => (passed = Number(m)));
    c.on('exit', (code) => (code === 0 && passed >= 0 ? resolve(passed) : reject(new Error(`hammer exited ${code}`))));
  });
}

test('four processes hammering one key: exactly `limit` pass in the window, blocked ones are not counted', async () => {
  const seg = createSegment(process.pid, 1, PREFIX, regions(4096));
  try {
    const now = Date.UTC(2026, 0, 1, 12, 30, 10);
    const limit = 25_000;
    const passed = await Promise.all([0, 1, 2, 3].map(() => run(seg.name, 20_000, limit, now, 7)));
    assert.equal(passed.reduce((a, b) => a + b, 0), limit);
    const table = new RateLimitTable(region(seg, REGION.RATE_LIMITS)!);
    // Blocked requests undid their increments: the count is the limit, not the attempts.
    assert.equal(table.count(hashKey('route:service:client'), 2, now), limit);
    assert.equal(table.count(hashKey('route:service:other'), 2, now), 0);
    // The next minute starts from zero, in the same slot.
    assert.equal(table.count(hashKey('route:service:client'), 2, now + 60_000), 0);
    assert.equal(table.add(hashKey('route:service:client'), 2, now + 60_000, 1), 1);
  } finally {
    destroySegment(seg);
  }
});

test('windows are calendar windows; periods of one key count apart', () => {
  const t = new RateLimitTable(new Int32Array(tableWords(1024)));
  const k = hashKey('a');
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 59, 900);
  assert.equal(t.add(k, 2, t0, 1), 1);
  assert.equal(t.add(k, 2, t0, 1), 2);
  assert.equal(t.add(k, 1, t0, 1), 1, 'second and minute are separate counters');
  assert.equal(t.add(k, 2, t0 + 100, 1), 1, ':00 starts a new minute');
  assert.equal(t.add(k, 5, Date.UTC(2026, 1, 28, 23), 1), 1);
  assert.equal(t.add(k, 5, Date.UTC(2026, 1, 1), 1), 2, 'same calendar month');
  assert.equal(t.add(k, 5, Date.UTC(2026, 2, 1), 1), 1, 'next month');
  assert.equal(t.add(k, 2, t0 + 100, -1), 0);
  assert.equal(t.add(k, 2, t0 + 100, -1), 0, 'an undo never goes below zero');
});

test('full table: new keys pass uncounted and are counted as misses; a sweep gives stale slots back', () => {
  const cap = 1024;
  const t = new RateLimitTable(new Int32Array(tableWords(cap)));
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  let stored = 0;
  for (let i = 0; i < cap; i++) if (t.add(hashKey(`k${i}`), 1, now, 1) === 1) stored++;
  assert.ok(stored > cap - MAX_PROBE, `most keys found a slot (${stored})`);
  let misses = 0;
  for (let i = 0; i < 200; i++) if (t.add(hashKey(`new${i}`), 1, now, 1) === -1) misses++;
  assert.ok(misses > 0, 'a full table refuses new keys');
  assert.equal(t.fullMisses(), misses + (cap - stored));
  // A second later every slot counts a finished window: the sweep frees all of them.
  assert.equal(t.sweep(now + 1000), stored + 200 - misses);
  assert.equal(t.sweep(now + 1000), 0);
  for (let i = 0; i < 200; i++) assert.equal(t.add(hashKey(`new${i}`), 1, now + 1000, 1), 1);
  // A stale slot is reclaimed by a new key even without a sweep.
  const t2 = new RateLimitTable(new Int32Array(tableWords(cap)));
  for (let i = 0; i < cap; i++) t2.add(hashKey(`k${i}`), 1, now, 1);
  assert.equal(t2.add(hashKey('late'), 1, now + 1000, 1), 1);
});

test('rate_limiting_table_size sizes REGION.RATE_LIMITS; out-of-range values are refused', async () => {
  const { resolveSettings } = await import('../../../src/primary/config/settings');
  const { regionWords } = await import('../../../src/primary/shm-plan');
  const { settings } = resolveSettings({ rate_limiting_table_size: 2048 }, {});
  assert.equal(regionWords(settings)[REGION.RATE_LIMITS], tableWords(2048));
  assert.equal(resolveSettings({}, { HYPERWAY_RATE_LIMITING_TABLE_SIZE: '4096' }).settings.rateLimitingTableSize, 4096);
  assert.deepEqual(resolveSettings({ rate_limiting_table_size: 100 }, {}).problems.map((p) => `${p.path}: ${p.message}`), [
    'hyperway.rate_limiting_table_size: value should be between 1024 and 67108864',
  ]);
});
