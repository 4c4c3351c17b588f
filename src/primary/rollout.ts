/**
 * The acknowledged roll-out: send a snapshot to every live worker and resolve once each has
 * acknowledged it, so a change is answered only when every worker serves it. A worker that
 * rejects it, or a timeout, rolls every worker back to the previous snapshot (under a newer
 * version, so versions only grow) and the change fails with the reason. Workers that are being
 * replaced start with whichever snapshot the supervisor holds when they spawn.
 */
import type { EventEmitter } from 'node:events';
import type { Snapshot } from '../shared/snapshot';
import { snapshotWith } from '../shared/snapshot-bulk';

/** The part of the Supervisor a roll-out uses (a fake one in unit tests). */
export interface RolloutTarget extends EventEmitter {
  readonly snapshot: Snapshot;
  readonly workers: ReadonlyArray<{ id: number; child: unknown; ackedVersion: number }>;
  apply(snapshot: Snapshot): void;
}

export type RolloutResult = { ok: true } | { ok: false; reason: string };

export const ROLLOUT_TIMEOUT_MS = 10_000;

export function rollOut(target: RolloutTarget, next: Snapshot, timeoutMs = ROLLOUT_TIMEOUT_MS): Promise<RolloutResult> {
  const previous = target.snapshot;
  target.apply(next);
  return new Promise((resolve) => {
    let done = false;
    const pending = (): number[] => target.workers.filter((w) => w.child !== null && w.ackedVersion < next.version).map((w) => w.id);
    const finish = (result: RolloutResult): void => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      target.off('ack', onAck);
      target.off('rejected', onRejected);
      if (!result.ok) target.apply(snapshotWith(previous, { version: next.version + 1 }));
      resolve(result);
    };
    const check = (): void => {
      if (pending().length === 0) finish({ ok: true });
    };
    const onAck = (): void => check();
    const onRejected = (id: number, version: number, message: string): void => {
      if (version === next.version) finish({ ok: false, reason: `worker ${id} rejected the new configuration: ${message}` });
    };
    target.on('ack', onAck);
    target.on('rejected', onRejected);
    // A worker that exits while we wait is replaced with the new snapshot: stop waiting for it.
    const poll = setInterval(check, 50);
    const timer = setTimeout(() => finish({ ok: false, reason: `worker(s) ${pending().join(', ')} did not acknowledge the new configuration within ${timeoutMs} ms` }), timeoutMs);
    check();
  });
}
