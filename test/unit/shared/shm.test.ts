// Segment lifecycle: names carry the pid and a random part; a start reaps only segments whose
// primary stopped stamping them, never a live one (pids repeat across containers).
//
// Every segment here carries a prefix of this test process's own, and every reap is scoped to it:
// an unscoped reap would unlink the stale-looking segments of other gateways on the host.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { attachSegment, createSegment, destroySegment, region, REGION, removeStaleSegments, SHM_PREFIX, stampAlive, STALE_AFTER_S } from '../../../src/shared/shm';

const PREFIX = `${SHM_PREFIX}test-${process.pid}-${randomBytes(4).toString('hex')}.`;
const exists = (name: string): boolean => fs.existsSync(`/dev/shm${name}`);
const ours = (): string[] => fs.readdirSync('/dev/shm').filter((e) => e.startsWith(PREFIX));

after(() => {
  for (const e of ours()) fs.rmSync(`/dev/shm/${e}`, { force: true });
});

test('two segments of the same pid get different names', () => {
  const a = createSegment(process.pid, 1, PREFIX);
  const b = createSegment(process.pid, 1, PREFIX);
  try {
    assert.match(a.name, new RegExp(`^/${PREFIX.replace(/\./g, '\\.')}${process.pid}\\.[0-9a-f]{8}$`));
    assert.notEqual(a.name, b.name);
    assert.ok(exists(a.name) && exists(b.name), 'creating the second did not remove the live first');
  } finally {
    destroySegment(a);
    destroySegment(b);
  }
});

test('a segment whose stamp is older than the stale limit is reaped; a fresh one stays', () => {
  const live = createSegment(process.pid, 1, PREFIX);
  const dead = createSegment(process.pid, 1, PREFIX);
  try {
    const now = Math.floor(Date.now() / 1000);
    Atomics.store(dead.words, 5, now - STALE_AFTER_S - 5); // the primary stopped stamping
    stampAlive(live);
    const removed = removeStaleSegments(now, PREFIX);
    assert.deepEqual(removed, [dead.name]);
    assert.equal(exists(dead.name), false);
    assert.equal(exists(live.name), true);
  } finally {
    destroySegment(live);
    if (exists(dead.name)) destroySegment(dead);
  }
});

test('a segment without a header is left alone while young (it may be being created), reaped when old', () => {
  const name = `/${PREFIX}${process.pid}.00000000`;
  fs.writeFileSync(`/dev/shm${name}`, Buffer.alloc(4096), { mode: 0o600 });
  try {
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual(removeStaleSegments(now, PREFIX), []);
    assert.ok(exists(name));
    assert.deepEqual(removeStaleSegments(now + STALE_AFTER_S + 5, PREFIX), [name]);
    assert.equal(exists(name), false);
  } finally {
    fs.rmSync(`/dev/shm${name}`, { force: true });
  }
});

test('a scoped reap leaves segments outside its prefix alone, however old', () => {
  // Another prefix of this process's own stands in for "someone else's" segment.
  const other = `${SHM_PREFIX}test-${process.pid}-${randomBytes(4).toString('hex')}.`;
  const name = `/${other}${process.pid}.00000000`;
  fs.writeFileSync(`/dev/shm${name}`, Buffer.alloc(4096), { mode: 0o600 });
  try {
    assert.deepEqual(removeStaleSegments(Math.floor(Date.now() / 1000) + STALE_AFTER_S + 5, PREFIX), []);
    assert.ok(exists(name), 'a segment outside the prefix survives a reap that would find it stale');
    assert.deepEqual(removeStaleSegments(Math.floor(Date.now() / 1000) + STALE_AFTER_S + 5, other), [name]);
  } finally {
    fs.rmSync(`/dev/shm${name}`, { force: true });
  }
});

test('regions: each gets its own aligned words, absent ones are null, and Atomics through a region view land in the segment', () => {
  const seg = createSegment(process.pid, 2, PREFIX, [100, 0, 33]);
  try {
    const targets = region(seg, REGION.TARGETS);
    const metrics = region(seg, REGION.METRICS);
    assert.ok(targets !== null && metrics !== null);
    assert.equal(targets.length, 100);
    assert.equal(metrics.length, 33);
    assert.equal(region(seg, REGION.RATE_LIMITS), null);
    assert.equal(targets.byteOffset % 64, 0);
    assert.equal(metrics.byteOffset % 64, 0);
    // No overlap with the slots or with each other.
    const slotsEnd = (16 + 2 * 16) * 4;
    assert.ok(targets.byteOffset >= slotsEnd);
    assert.ok(metrics.byteOffset >= targets.byteOffset + targets.byteLength);
    Atomics.add(targets, 99, 7);
    Atomics.add(metrics, 0, 5);
    const again = attachSegment(seg.name);
    assert.equal(Atomics.load(region(again, REGION.TARGETS) as Int32Array, 99), 7);
    assert.equal(Atomics.load(region(again, REGION.METRICS) as Int32Array, 0), 5);
  } finally {
    destroySegment(seg);
  }
});

test('a stale stamp alone does not reap the segment of a primary that still runs (paused, not gone); a dead owner is reaped', () => {
  const paused = createSegment(process.pid, 1, PREFIX);
  const gone = createSegment(process.pid, 1, PREFIX);
  const deadPid = spawnSync('true').pid as number;
  try {
    const now = Math.floor(Date.now() / 1000);
    // The test runner that started this process runs, and stands in for a SIGSTOPped primary.
    Atomics.store(paused.words, 4, process.ppid);
    Atomics.store(gone.words, 4, deadPid);
    for (const seg of [paused, gone]) Atomics.store(seg.words, 5, now - STALE_AFTER_S - 60);
    assert.deepEqual(removeStaleSegments(now, PREFIX), [gone.name]);
    assert.equal(exists(paused.name), true, 'the segment of a live primary survives');
    assert.equal(exists(gone.name), false);
  } finally {
    destroySegment(paused);
    if (exists(gone.name)) destroySegment(gone);
  }
});
