// The shared breaker table (src/shared/breaker-table.ts) with fake time: two views of one
// SharedArrayBuffer stand for two worker processes, and worker threads race on it for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  BREAKER, BreakerTable, BUSY, NO_ROOM, OUTCOME, PASS, REFUSE_HALF_OPEN, REFUSE_OPEN, tableWords,
} from '../../../src/shared/breaker-table';
import { hashKey } from '../../../src/shared/rate-limit-table';
import { attachSegment, createSegment, destroySegment, region, REGION, SHM_PREFIX } from '../../../src/shared/shm';

/** Two tables over the same shared words: what two worker processes see. */
function pair(capacity = 16): [BreakerTable, BreakerTable, SharedArrayBuffer] {
  const sab = new SharedArrayBuffer(tableWords(capacity) * 4);
  return [new BreakerTable(new Int32Array(sab)), new BreakerTable(new Int32Array(sab)), sab];
}

const T0 = 1_780_000_000_000;
const WINDOW = 60_000;
const RESET = 1_000;
const STUCK = 60_000;

test('one slot per key, the same in every process; claims are never duplicated; a full table says so', () => {
  const [a, b] = pair(4);
  const k1 = a.lookup('plugin-1:svc-a');
  assert.ok(k1 >= 0);
  assert.equal(b.lookup('plugin-1:svc-a'), k1, 'the other process finds the same slot');
  const k2 = b.lookup('plugin-1:svc-b');
  const k3 = a.lookup('plugin-2:svc-a');
  assert.equal(new Set([k1, k2, k3]).size, 3);
  assert.ok(a.lookup('plugin-3:svc-a') >= 0);
  assert.equal(a.fullMisses(), 0);
  assert.equal(b.lookup('plugin-4:svc-a'), NO_ROOM, 'four breakers fill a table of four');
  assert.equal(a.fullMisses(), 1);
  assert.equal(a.lookup('plugin-2:svc-a'), k3, 'known keys are still found when the table is full');
});

test('a slot another process is claiming right now is waited for, never skipped (skipping could put one key in two slots)', () => {
  const [a, b] = pair(8);
  const [h1] = hashKey('p:svc');
  const home = 16 + ((h1 >>> 0) % 8) * 8;
  Atomics.store(b.words, home, -1); // b is between its claim and its publish
  assert.equal(a.lookup('p:svc'), BUSY);
  // b publishes another key there: the lookup moves past it and claims the next slot.
  Atomics.store(b.words, home + 1, 12345);
  Atomics.store(b.words, home, 777);
  const at = a.lookup('p:svc');
  assert.equal(at, 16 + (((h1 >>> 0) % 8 + 1) % 8) * 8);
  assert.equal(b.lookup('p:svc'), at);
});

test('CLOSED: failures from two processes add up; the one that reaches the threshold opens it, once', () => {
  const [a, b] = pair();
  const at = a.lookup('p:svc');
  const opened: boolean[] = [];
  for (let i = 0; i < 4; i++) opened.push((i % 2 === 0 ? a : b).failure(at, T0 + i, 5, WINDOW));
  assert.deepEqual(opened, [false, false, false, false]);
  assert.equal(a.view(at, T0 + 10, WINDOW).failures, 4);
  assert.equal(a.admit(at, T0 + 10, RESET, 1, STUCK), PASS, 'still closed below the threshold');
  assert.equal(b.failure(at, T0 + 20, 5, WINDOW), true, 'the fifth failure, in the other process, opens it');
  assert.equal(a.failure(at, T0 + 21, 5, WINDOW), false, 'a failure while open is not counted');
  const v = a.view(at, T0 + 21, WINDOW);
  assert.equal(v.state, BREAKER.OPEN);
  assert.equal(v.failures, 0, 'the window starts empty for the next CLOSED period');
});

test('the window starts at its first failure: failures older than `window` no longer count', () => {
  const [a] = pair();
  const at = a.lookup('p:svc');
  for (let i = 0; i < 4; i++) assert.equal(a.failure(at, T0 + i * 1000, 5, WINDOW), false);
  // 60 s after the first failure a new window begins with this failure alone.
  assert.equal(a.failure(at, T0 + WINDOW, 5, WINDOW), false);
  assert.equal(a.view(at, T0 + WINDOW, WINDOW).failures, 1);
  for (let i = 1; i < 4; i++) assert.equal(a.failure(at, T0 + WINDOW + i, 5, WINDOW), false);
  assert.equal(a.failure(at, T0 + WINDOW + 4, 5, WINDOW), true);
});

function openAt(t: BreakerTable, at: number, now: number): void {
  assert.equal(t.failure(at, now, 1, WINDOW), true);
}

test('OPEN refuses until reset_timeout; then exactly half_open_requests trials pass across processes', () => {
  const [a, b] = pair();
  const at = a.lookup('p:svc');
  openAt(a, at, T0);
  assert.equal(a.admit(at, T0 + RESET - 1, RESET, 2, STUCK), REFUSE_OPEN);
  assert.equal(b.admit(at, T0 + RESET - 1, RESET, 2, STUCK), REFUSE_OPEN);
  const first = b.admit(at, T0 + RESET, RESET, 2, STUCK);
  assert.ok(first >= 0, 'the first request after reset_timeout is a trial');
  assert.equal(a.view(at, T0 + RESET, WINDOW).state, BREAKER.HALF_OPEN);
  assert.equal(a.admit(at, T0 + RESET, RESET, 2, STUCK), first, 'the second trial, same round');
  assert.equal(a.admit(at, T0 + RESET + 1, RESET, 2, STUCK), REFUSE_HALF_OPEN);
  assert.equal(b.admit(at, T0 + RESET + 1, RESET, 2, STUCK), REFUSE_HALF_OPEN);
  // One success is not enough with two trials; the second closes.
  assert.equal(a.trialEnded(at, first, OUTCOME.SUCCESS, T0 + RESET + 2, 2), BREAKER.HALF_OPEN);
  assert.equal(b.admit(at, T0 + RESET + 2, RESET, 2, STUCK), REFUSE_HALF_OPEN, 'a finished trial does not free a place');
  assert.equal(b.trialEnded(at, first, OUTCOME.SUCCESS, T0 + RESET + 3, 2), BREAKER.CLOSED);
  assert.equal(a.admit(at, T0 + RESET + 3, RESET, 2, STUCK), PASS);
  assert.equal(a.trialEnded(at, first, OUTCOME.FAILURE, T0 + RESET + 4, 2), -1, 'an outcome of a finished round changes nothing');
  assert.equal(a.view(at, T0 + RESET + 4, WINDOW).state, BREAKER.CLOSED);
});

test('a failed trial reopens for a whole reset_timeout; a trial without an outcome gives its place back', () => {
  const [a, b] = pair();
  const at = a.lookup('p:svc');
  openAt(a, at, T0);
  const g1 = a.admit(at, T0 + RESET, RESET, 1, STUCK);
  assert.ok(g1 >= 0);
  assert.equal(b.admit(at, T0 + RESET, RESET, 1, STUCK), REFUSE_HALF_OPEN);
  assert.equal(b.trialEnded(at, g1, OUTCOME.NONE, T0 + RESET + 5, 1), BREAKER.HALF_OPEN);
  const g2 = b.admit(at, T0 + RESET + 6, RESET, 1, STUCK);
  assert.equal(g2, g1, 'the place given back is taken again, in the same round');
  assert.equal(a.trialEnded(at, g2, OUTCOME.FAILURE, T0 + 5000, 1), BREAKER.OPEN);
  assert.equal(a.admit(at, T0 + 5000 + RESET - 1, RESET, 1, STUCK), REFUSE_OPEN, 'reset_timeout counts from the reopening');
  const g3 = b.admit(at, T0 + 5000 + RESET, RESET, 1, STUCK);
  assert.ok(g3 >= 0 && g3 !== g1, 'a new round, a new gen');
  assert.equal(a.trialEnded(at, g1, OUTCOME.SUCCESS, T0 + 5000 + RESET, 1), -1, 'the old round\'s trial cannot close it');
  assert.equal(a.trialEnded(at, g3, OUTCOME.SUCCESS, T0 + 5000 + RESET, 1), BREAKER.CLOSED);
});

test('a round whose trial never reports (its worker died) starts again after the stuck limit', () => {
  const [a] = pair();
  const at = a.lookup('p:svc');
  openAt(a, at, T0);
  const lost = a.admit(at, T0 + RESET, RESET, 1, STUCK);
  assert.ok(lost >= 0);
  assert.equal(a.admit(at, T0 + RESET + STUCK - 1, RESET, 1, STUCK), REFUSE_HALF_OPEN);
  const again = a.admit(at, T0 + RESET + STUCK, RESET, 1, STUCK);
  assert.ok(again >= 0 && again !== lost);
  assert.equal(a.admit(at, T0 + RESET + STUCK, RESET, 1, STUCK), REFUSE_HALF_OPEN);
});

test('breakers of other keys are independent', () => {
  const [a] = pair();
  const x = a.lookup('p:svc-x');
  const y = a.lookup('p:svc-y');
  openAt(a, x, T0);
  assert.equal(a.admit(x, T0 + 1, RESET, 1, STUCK), REFUSE_OPEN);
  assert.equal(a.admit(y, T0 + 1, RESET, 1, STUCK), PASS);
});

/** Runs `n` threads that each call `op` on the shared table `rounds` times; resolves with their answers. */
async function race(sab: SharedArrayBuffer, n: number, rounds: number, op: 'failure' | 'admit' | 'lookup' | 'lookup-own', at: number): Promise<number[][]> {
  const mod = resolve(__dirname, '../../../src/shared/breaker-table.js');
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { BreakerTable, BUSY } = require(${JSON.stringify(mod)});
    const t = new BreakerTable(new Int32Array(workerData.sab));
    // A thread descheduled between its claim and its store makes the others give up after
    // CLAIM_SPINS (BUSY: the next request tries again). On 2 busy cores that happens, so a
    // lookup here tries again as the next request would (a claim never finished still fails).
    const lookup = (key) => {
      let at = t.lookup(key);
      for (let tries = 0; at === BUSY && tries < 1000; tries++) at = t.lookup(key);
      return at;
    };
    const go = new Int32Array(workerData.go);
    Atomics.add(go, 1, 1);
    while (Atomics.load(go, 0) === 0);
    const out = [];
    for (let i = 0; i < workerData.rounds; i++) {
      out.push(workerData.op === 'failure'
        ? (t.failure(workerData.at, ${T0}, workerData.threshold, ${WINDOW}) ? 1 : 0)
        : workerData.op.startsWith('lookup')
          ? lookup((workerData.op === 'lookup' ? 'plugin' : 'plugin-' + workerData.id) + ':service-' + i)
          : t.admit(workerData.at, ${T0 + 5 * RESET}, ${RESET}, workerData.trials, ${STUCK}));
    }
    parentPort.postMessage(out);`;
  const go = new SharedArrayBuffer(8);
  const goWords = new Int32Array(go);
  const workers = Array.from({ length: n }, (_, id) => new Worker(code, { eval: true, workerData: { id, sab, go, rounds, op, at, threshold: 4000, trials: 255 } }));
  const results = workers.map((w) => new Promise<number[]>((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
  }));
  while (Atomics.load(goWords, 1) < n) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(goWords, 0, 1); // all start at once
  const out = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return out;
}

test('threads racing for real: 4 × 1000 failures reach a threshold of 4000 (none lost) and open it once; 255 trials pass of 4 × 1000', async () => {
  const [a, , sab] = pair();
  const at = a.lookup('p:svc');
  // Exactly as many failures as the threshold: one lost increment and it would never open.
  const opened = (await race(sab, 4, 1000, 'failure', at)).flat();
  assert.equal(opened.length, 4000);
  assert.equal(opened.filter((x) => x === 1).length, 1, 'exactly one call opened it');
  assert.equal(a.view(at, T0, WINDOW).state, BREAKER.OPEN);

  const verdicts = (await race(sab, 4, 1000, 'admit', at)).flat();
  const trials = verdicts.filter((v) => v >= 0);
  assert.equal(trials.length, 255, 'exactly half_open_requests trials across the threads');
  assert.equal(new Set(trials).size, 1, 'all in one round');
  assert.equal(verdicts.filter((v) => v === REFUSE_HALF_OPEN).length, 4000 - 255);
});

test('circuit_breaker_table_size sizes REGION.BREAKERS (8 words a breaker); out-of-range values are refused', async () => {
  const { resolveSettings } = await import('../../../src/primary/config/settings');
  const { regionWords } = await import('../../../src/primary/shm-plan');
  assert.equal(resolveSettings({}, {}).settings.circuitBreakerTableSize, 1024);
  assert.equal(regionWords(resolveSettings({ circuit_breaker_table_size: 10 }, {}).settings)[REGION.BREAKERS], 16 + 10 * 8);
  assert.equal(resolveSettings({}, { HYPERWAY_CIRCUIT_BREAKER_TABLE_SIZE: '64' }).settings.circuitBreakerTableSize, 64);
  assert.deepEqual(resolveSettings({ circuit_breaker_table_size: 0 }, {}).problems.map((p) => `${p.path}: ${p.message}`), [
    'hyperway.circuit_breaker_table_size: value should be between 1 and 1048576',
  ]);
});

test('in a real segment: the region is 8-byte aligned for the 64-bit window, and a second attachment sees the same breaker', async () => {
  const { resolveSettings } = await import('../../../src/primary/config/settings');
  const { regionWords } = await import('../../../src/primary/shm-plan');
  const prefix = `${SHM_PREFIX}test-${process.pid}-${randomBytes(4).toString('hex')}.`;
  const seg = createSegment(process.pid, 2, prefix, regionWords(resolveSettings({ circuit_breaker_table_size: 8, workers: 2 }, {}).settings));
  try {
    const a = new BreakerTable(region(seg, REGION.BREAKERS) as Int32Array);
    assert.equal(a.capacity, 8);
    const at = a.lookup('p:svc');
    for (let i = 0; i < 2; i++) assert.equal(a.failure(at, T0 + i, 3, WINDOW), false);
    const b = new BreakerTable(region(attachSegment(seg.name), REGION.BREAKERS) as Int32Array);
    assert.equal(b.lookup('p:svc'), at);
    assert.equal(b.view(at, T0 + 2, WINDOW).failures, 2);
    assert.equal(b.failure(at, T0 + 2, 3, WINDOW), true);
    assert.equal(a.admit(at, T0 + 3, RESET, 1, STUCK), REFUSE_OPEN);
  } finally {
    destroySegment(seg);
  }
});

test('threads claiming the same 300 new keys at once: each key gets one slot, the same in every thread', async () => {
  const [a, , sab] = pair(512);
  const slots = await race(sab, 4, 300, 'lookup', 0);
  for (const other of slots.slice(1)) assert.deepEqual(other, slots[0]);
  assert.equal(new Set(slots[0]).size, 300);
  assert.ok(slots[0].every((at) => at >= 0));
  let claimed = 0;
  for (let i = 0; i < a.capacity; i++) if (Atomics.load(a.words, 16 + i * 8) !== 0) claimed++;
  assert.equal(claimed, 300, 'no key was claimed twice');
});

test('threads claiming different keys at once fill a table of 2048 exactly: no slot taken twice', async () => {
  const [a, , sab] = pair(2048);
  const slots = (await race(sab, 4, 512, 'lookup-own', 0)).flat();
  assert.equal(new Set(slots).size, 2048);
  assert.ok(slots.every((at) => at >= 0));
  for (let id = 0; id < 4; id++) {
    for (let i = 0; i < 512; i++) assert.equal(a.lookup(`plugin-${id}:service-${i}`), slots[id * 512 + i]);
  }
  assert.equal(a.lookup('one-more:svc'), NO_ROOM);
});
