/**
 * rollOut() against a fake supervisor: it resolves only once every live worker acknowledged the
 * new version; a rejection or a timeout rolls every worker back to the previous snapshot under a
 * newer version and reports why.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { rollOut, type RolloutTarget } from '../../../src/primary/rollout';
import type { Snapshot } from '../../../src/shared/snapshot';

class FakeSupervisor extends EventEmitter implements RolloutTarget {
  snapshot: Snapshot;
  readonly applied: Snapshot[] = [];
  readonly workers = [
    { id: 0, child: {} as unknown, ackedVersion: 1 },
    { id: 1, child: {} as unknown, ackedVersion: 1 },
  ];
  constructor(s: Snapshot) {
    super();
    this.snapshot = s;
  }
  apply(s: Snapshot): void {
    this.snapshot = s;
    this.applied.push(s);
  }
  ack(id: number, version: number): void {
    this.workers[id].ackedVersion = version;
    this.emit('ack', id, version);
  }
}

const snap = (version: number, hash: string): Snapshot => ({ version, hash } as unknown as Snapshot);

test('resolves only after every live worker acknowledged; a dead worker is not waited for', async () => {
  const sup = new FakeSupervisor(snap(1, 'old'));
  let settled = false;
  const p = rollOut(sup, snap(2, 'new'), 5000).then((r) => ((settled = true), r));
  sup.ack(0, 2);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'answered before worker 1 acknowledged');
  sup.workers[1].child = null; // exited: its replacement starts with the new snapshot
  assert.deepEqual(await p, { ok: true });
  assert.deepEqual(sup.applied.map((s) => s.hash), ['new']);
});

test('a worker rejecting the snapshot rolls every worker back, under a newer version', async () => {
  const sup = new FakeSupervisor(snap(1, 'old'));
  const p = rollOut(sup, snap(2, 'new'), 5000);
  sup.ack(0, 2);
  sup.emit('rejected', 1, 2, 'boom');
  const r = await p;
  assert.deepEqual(r, { ok: false, reason: 'worker 1 rejected the new configuration: boom' });
  assert.deepEqual(sup.applied.map((s) => [s.hash, s.version]), [['new', 2], ['old', 3]]);
  assert.equal(sup.snapshot.hash, 'old');
});

test('no acknowledgement within the timeout: rolled back, naming the silent workers', async () => {
  const sup = new FakeSupervisor(snap(1, 'old'));
  const p = rollOut(sup, snap(2, 'new'), 100);
  sup.ack(1, 2);
  const r = await p;
  assert.equal(r.ok, false);
  assert.match((r as { reason: string }).reason, /worker\(s\) 0 did not acknowledge/);
  assert.equal(sup.snapshot.hash, 'old');
});
