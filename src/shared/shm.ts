/**
 * The POSIX shared-memory segment every process maps (shm-typed-array: shm_open + mmap).
 *
 * The primary creates one segment per primary process, named `/hyperway.<primary pid>`, and
 * removes stale segments of dead primaries at start. Workers attach by name (env HYPERWAY_SHM).
 * All cross-process reads and writes go through `Atomics` on the Int32Array view; `Atomics.wait`
 * does not work on this mapping, so nobody blocks on it: the primary polls.
 *
 *   word  0            1               2              3                4 .. 15
 *   +-----------+----------------+-------------+----------------+--------------+
 *   |   MAGIC   | LAYOUT_VERSION | slot count  | words per slot |   reserved   |
 *   +-----------+----------------+-------------+----------------+--------------+
 *   word 16: worker slot 0, then slot 1 … (layout in counter-slab.ts)
 *   after the slots: reserved for the target table and rate-limit windows (later issues)
 */
import fs from 'node:fs';
import { HyperwayError } from '../lib/errors';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const shm: typeof import('shm-typed-array') = require('shm-typed-array');

export const SHM_MAGIC = 0x48595057; // 'HYPW'
export const SHM_LAYOUT_VERSION = 1;
export const HEADER_WORDS = 16;
export const SLOT_WORDS = 16;
export const SHM_PREFIX = 'hyperway.';

export interface Segment {
  name: string;
  words: Int32Array;
  slots: number;
}

export function segmentName(primaryPid: number): string {
  return `/${SHM_PREFIX}${primaryPid}`;
}

/** Primary: remove segments left by primaries that no longer run, then create ours. */
export function createSegment(primaryPid: number, slots: number): Segment {
  removeStaleSegments();
  const name = segmentName(primaryPid);
  shm.destroy(name); // a leftover with our own pid (pid reuse) is stale too
  const total = HEADER_WORDS + slots * SLOT_WORDS + 1024;
  const words = shm.create(total, 'Int32Array', name, '0600');
  if (!words) throw new HyperwayError('HW_ERR_SHM_UNAVAILABLE', `cannot create shared memory ${name}`);
  words.fill(0);
  Atomics.store(words, 1, SHM_LAYOUT_VERSION);
  Atomics.store(words, 2, slots);
  Atomics.store(words, 3, SLOT_WORDS);
  Atomics.store(words, 0, SHM_MAGIC); // last: a reader that sees MAGIC sees the rest
  return { name, words, slots };
}

/** Worker: map the primary's segment and check that its layout is the one this build knows. */
export function attachSegment(name: string): Segment {
  const words = shm.get(name, 'Int32Array');
  if (!words || Atomics.load(words, 0) !== SHM_MAGIC || Atomics.load(words, 1) !== SHM_LAYOUT_VERSION) {
    throw new HyperwayError('HW_ERR_SHM_UNAVAILABLE', `cannot attach shared memory ${name}`);
  }
  return { name, words, slots: Atomics.load(words, 2) };
}

export function destroySegment(seg: Segment): void {
  shm.destroy(seg.name);
}

function removeStaleSegments(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.startsWith(SHM_PREFIX)) continue;
    const pid = Number(e.slice(SHM_PREFIX.length));
    if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) continue;
    shm.destroy('/' + e);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
