// The shared segment is real POSIX shared memory: counts written with Atomics by several
// processes at once must add up exactly when the primary reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createSegment, destroySegment, attachSegment, SHM_PREFIX } from '../../../src/shared/shm';

// A prefix of this test process's own: creating a segment reaps stale ones, and only ours may go.
const PREFIX = `${SHM_PREFIX}test-slab-${process.pid}.`;
import { readSlot, WorkerSlot, clearSlot } from '../../../src/shared/counter-slab';

const CHILD = path.join(__dirname, 'slab-writer.js');

test('four processes counting into their slots and one shared word stay exact', async () => {
  const seg = createSegment(process.pid, 4, PREFIX);
  try {
    assert.ok(fs.existsSync(`/dev/shm${seg.name}`), 'segment is a POSIX shm object');
    const N = 200_000;
    await Promise.all([0, 1, 2, 3].map((i) => new Promise<void>((resolve, reject) => {
      const c = fork(CHILD, [seg.name, String(i), String(N)], { stdio: 'inherit' });
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${i} exited ${code}`))));
    })));
    let total = 0;
    for (let i = 0; i < 4; i++) {
      const s = readSlot(seg, i);
      assert.equal(s.requests, N);
      assert.equal(s.active, 0);
      total += s.requests;
    }
    assert.equal(total, 4 * N);
    // Word 15 of the header is reserved; the writers all hammer it with Atomics.add.
    assert.equal(Atomics.load(seg.words, 15), 4 * N);
  } finally {
    destroySegment(seg);
  }
  assert.equal(fs.existsSync(`/dev/shm${seg.name}`), false, 'segment removed');
});

test('request counter carries past 2^32 into the high word', () => {
  const seg = createSegment(process.pid, 1, PREFIX);
  try {
    clearSlot(seg, 0);
    const slot = new WorkerSlot(seg, 0);
    Atomics.store(seg.words, 16 + 4, -2); // lo = 0xFFFFFFFE
    slot.requestStarted();
    slot.requestStarted();
    slot.requestStarted();
    assert.equal(readSlot(seg, 0).requests, 0x1_0000_0000 + 1);
    assert.equal(readSlot(seg, 0).active, 3);
  } finally {
    destroySegment(seg);
  }
});

test('attach refuses a segment that does not exist', () => {
  assert.throws(() => attachSegment('/hyperway.does-not-exist'), { code: 'HW_ERR_SHM_UNAVAILABLE' });
});
