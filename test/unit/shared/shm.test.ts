// Segment lifecycle: names carry the pid and a random part; a start reaps only segments whose
// primary stopped stamping them, never a live one (pids repeat across containers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createSegment, destroySegment, removeStaleSegments, stampAlive, STALE_AFTER_S } from '../../../src/shared/shm';

const exists = (name: string): boolean => fs.existsSync(`/dev/shm${name}`);

test('two segments of the same pid get different names', () => {
  const a = createSegment(process.pid, 1);
  const b = createSegment(process.pid, 1);
  try {
    assert.match(a.name, new RegExp(`^/hyperway\\.${process.pid}\\.[0-9a-f]{8}$`));
    assert.notEqual(a.name, b.name);
    assert.ok(exists(a.name) && exists(b.name), 'creating the second did not remove the live first');
  } finally {
    destroySegment(a);
    destroySegment(b);
  }
});

test('a segment whose stamp is older than the stale limit is reaped; a fresh one stays', () => {
  const live = createSegment(process.pid, 1);
  const dead = createSegment(process.pid, 1);
  try {
    const now = Math.floor(Date.now() / 1000);
    Atomics.store(dead.words, 5, now - STALE_AFTER_S - 5); // the primary stopped stamping
    stampAlive(live);
    const removed = removeStaleSegments(now);
    assert.ok(removed.includes(dead.name), `reaped: ${removed.join(', ')}`);
    assert.ok(!removed.includes(live.name));
    assert.equal(exists(dead.name), false);
    assert.equal(exists(live.name), true);
  } finally {
    destroySegment(live);
    if (exists(dead.name)) destroySegment(dead);
  }
});

test('a segment without a header is left alone while young (it may be being created), reaped when old', () => {
  const name = `/hyperway.${process.pid}.00000000`;
  fs.writeFileSync(`/dev/shm${name}`, Buffer.alloc(4096), { mode: 0o600 });
  try {
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual(removeStaleSegments(now).filter((n) => n === name), []);
    assert.ok(exists(name));
    assert.deepEqual(removeStaleSegments(now + STALE_AFTER_S + 5).filter((n) => n === name), [name]);
    assert.equal(exists(name), false);
  } finally {
    fs.rmSync(`/dev/shm${name}`, { force: true });
  }
});
