/**
 * The POSIX shared-memory segment every process maps (shm-typed-array: shm_open + mmap).
 *
 * The primary creates one segment per primary process, named `/hyperway.<primary pid>.<random>`
 * (pids repeat across containers that share an IPC namespace, so the pid alone is no identity),
 * and stamps its header every second. At start it removes segments whose stamp is older than
 * STALE_AFTER_S and whose owner pid no longer runs: their primary is gone. Workers attach by name
 * (env HYPERWAY_SHM). All cross-process reads and writes go through `Atomics` on the Int32Array
 * view; `Atomics.wait` does not work on this mapping, so nobody blocks on it: the primary polls.
 *
 *   word  0         1                2            3               4          5          6 .. 15
 *   +---------+----------------+------------+----------------+----------+----------+------------+
 *   |  MAGIC  | LAYOUT_VERSION | slot count | words per slot | owner    | alive at | region     |
 *   |         |                |            |                | pid      | (unix s) | directory  |
 *   +---------+----------------+------------+----------------+----------+----------+------------+
 *   word 16: worker slot 0, then slot 1 … (layout in counter-slab.ts)
 *   after the slots: the regions, each a run of words whose size the primary fixes at start
 *
 * The region directory holds, per region (REGION below), its word offset and its length in
 * words: words 6+2r and 7+2r. A region of length 0 is absent. Each region's module draws its
 * own layout (shared/target-table.ts, …); `region()` hands it a view over exactly its words.
 * Sizes come from settings, read at start: a segment cannot grow once workers mapped it.
 *
 * Beside the segment, `/dev/shm/<segment name>.config-<version>` files hold large config:apply
 * payloads for the workers to read (primary/supervisor/config-files.ts). They go with their
 * segment: destroySegment removes them, and the stale-segment sweep removes any whose segment is
 * gone.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { HyperwayError } from '../lib/errors';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const shm: typeof import('shm-typed-array') = require('shm-typed-array');

export const SHM_MAGIC = 0x48595057; // 'HYPW'
export const SHM_LAYOUT_VERSION = 3; // 3: REGION.TARGETS holds the target table (target-table.ts)
export const HEADER_WORDS = 16;
export const SLOT_WORDS = 16;
export const SHM_PREFIX = 'hyperway.';
export const STALE_AFTER_S = 10;
/** shm-typed-array stores the data size (a size_t) before the data in a POSIX object. */
const OBJECT_PREFIX_BYTES = 8;
const OWNER_PID = 4;
const ALIVE_AT = 5;
const DIRECTORY = 6;

/** The segment's regions, one per feature that shares state across processes. */
export const REGION = { TARGETS: 0, RATE_LIMITS: 1, METRICS: 2, BREAKERS: 3, SPARE: 4 } as const;
export type Region = (typeof REGION)[keyof typeof REGION];
export const REGION_COUNT = 5;

export interface Segment {
  name: string;
  words: Int32Array;
  slots: number;
}

/**
 * `prefix` defaults to SHM_PREFIX; tests pass a prefix of their own (starting with SHM_PREFIX, so
 * a start still reaps what a crashed test left) and reap only that, never another gateway's.
 */
export function segmentName(primaryPid: number, prefix = SHM_PREFIX): string {
  return `/${prefix}${primaryPid}.${randomBytes(4).toString('hex')}`;
}

/** Primary: remove segments left by primaries that no longer run, then create ours. */
export function createSegment(primaryPid: number, slots: number, prefix = SHM_PREFIX, regionWords: readonly number[] = []): Segment {
  removeStaleSegments(undefined, prefix);
  const name = segmentName(primaryPid, prefix);
  let offset = HEADER_WORDS + slots * SLOT_WORDS;
  const layout: Array<[number, number]> = [];
  for (let r = 0; r < REGION_COUNT; r++) {
    const size = Math.max(0, Math.ceil(regionWords[r] ?? 0));
    // Regions start on a 16-word (64-byte) boundary: no cache line is shared between two of them.
    offset = Math.ceil(offset / 16) * 16;
    layout.push([offset, size]);
    offset += size;
  }
  const words = shm.create(Math.max(offset, HEADER_WORDS + 16), 'Int32Array', name, '0600');
  if (!words) throw new HyperwayError('HW_ERR_SHM_UNAVAILABLE', `cannot create shared memory ${name}`);
  words.fill(0);
  Atomics.store(words, 1, SHM_LAYOUT_VERSION);
  Atomics.store(words, 2, slots);
  Atomics.store(words, 3, SLOT_WORDS);
  Atomics.store(words, OWNER_PID, primaryPid);
  layout.forEach(([start, size], r) => {
    Atomics.store(words, DIRECTORY + 2 * r, start);
    Atomics.store(words, DIRECTORY + 2 * r + 1, size);
  });
  stampAlive({ name, words, slots });
  Atomics.store(words, 0, SHM_MAGIC); // last: a reader that sees MAGIC sees the rest
  return { name, words, slots };
}

/** The primary's proof of life, every second: segments without a recent stamp are stale. */
export function stampAlive(seg: Segment): void {
  Atomics.store(seg.words, ALIVE_AT, Math.floor(Date.now() / 1000));
}

/** Worker: map the primary's segment and check that its layout is the one this build knows. */
export function attachSegment(name: string): Segment {
  const words = shm.get(name, 'Int32Array');
  if (!words || Atomics.load(words, 0) !== SHM_MAGIC || Atomics.load(words, 1) !== SHM_LAYOUT_VERSION) {
    throw new HyperwayError('HW_ERR_SHM_UNAVAILABLE', `cannot attach shared memory ${name}`);
  }
  return { name, words, slots: Atomics.load(words, 2) };
}

/**
 * A view over one region's words (same memory: Atomics on it are exact across processes), or
 * null when the segment was created without it.
 */
export function region(seg: Segment, r: Region): Int32Array | null {
  const start = Atomics.load(seg.words, DIRECTORY + 2 * r);
  const size = Atomics.load(seg.words, DIRECTORY + 2 * r + 1);
  return size === 0 ? null : seg.words.subarray(start, start + size);
}

export function destroySegment(seg: Segment): void {
  shm.destroy(seg.name);
  removeSideFiles(shmEntries(), (owner) => owner === seg.name);
}

const SIDE_FILE = /^(.*)\.config-\d+$/;
const SHM_DIR = '/dev/shm';

/** The path of one of the segment's side files (`tag`: `config-<version>`). */
export function sideFilePath(seg: Segment, tag: string): string {
  return `${SHM_DIR}${seg.name}.${tag}`;
}

/**
 * Writes `payload` as a side file in shm-typed-array's layout for POSIX objects (its length as
 * a u64, then the bytes), so that readers can map it. Plain writes, not a mapping: a full tmpfs
 * is an ENOSPC thrown here, not a SIGBUS later.
 */
export function writeSideFile(path: string, payload: Uint8Array): void {
  const head = Buffer.alloc(OBJECT_PREFIX_BYTES);
  head.writeBigUInt64LE(BigInt(payload.length));
  const fd = fs.openSync(path, 'w', 0o600);
  try {
    // writev may write part (a tmpfs filling up): the rest is written until it throws ENOSPC.
    for (const part of [head, payload]) {
      for (let at = 0; at < part.length;) at += fs.writeSync(fd, part, at, part.length - at);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Whether the file holds all the bytes its header says: shm-typed-array maps a Buffer of the
 * header's length, and touching a page past the file's end would be a SIGBUS.
 */
function sideFileWhole(path: string): boolean {
  const head = Buffer.alloc(OBJECT_PREFIX_BYTES);
  try {
    const fd = fs.openSync(path, 'r');
    try {
      return fs.readSync(fd, head, 0, head.length, 0) === head.length && Number(head.readBigUInt64LE(0)) <= fs.fstatSync(fd).size - OBJECT_PREFIX_BYTES;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** The paths this process mapped: shm-typed-array must never map one name twice (see readSideFile). */
const mappedSideFiles = new Set<string>();

/**
 * A side file's bytes, mapped (MAP_SHARED: every process reads the same pages, none copies them)
 * and unmapped when the returned Buffer and every view of it are garbage. shm-typed-array keeps
 * one record per name and a second mapping of a name would unmap through the first one's record,
 * so a path mapped before, or one that cannot be mapped, is read into a copy instead. Treat the
 * bytes as read-only: the mapping is writable and shared.
 */
export function readSideFile(path: string): Buffer {
  if (path.startsWith(SHM_DIR + '/') && !mappedSideFiles.has(path) && sideFileWhole(path)) {
    mappedSideFiles.add(path);
    let mapped: Buffer | null = null;
    try {
      mapped = shm.get(path.slice(SHM_DIR.length), 'Buffer');
    } catch {
      // not mappable here: read it
    }
    if (mapped !== null) return mapped;
  }
  const copy = fs.readFileSync(path);
  const length = Number(copy.readBigUInt64LE(0));
  if (length !== copy.length - OBJECT_PREFIX_BYTES) throw new Error(`${path}: its length does not match its header`);
  return copy.subarray(OBJECT_PREFIX_BYTES);
}

function shmEntries(): string[] {
  try {
    return fs.readdirSync(SHM_DIR);
  } catch {
    return [];
  }
}

/** Removes the side files among `entries` whose segment's name (`/…`) `remove` picks. */
function removeSideFiles(entries: readonly string[], remove: (owner: string) => boolean): void {
  for (const e of entries) {
    const m = SIDE_FILE.exec(e);
    if (m === null || !remove('/' + m[1])) continue;
    try {
      fs.unlinkSync(`${SHM_DIR}/${e}`);
    } catch {
      // gone already, or another user's
    }
  }
}

/**
 * Removes segments whose primary stopped stamping them (or that never got a valid header), among
 * those whose name starts with `prefix`.
 */
export function removeStaleSegments(nowS = Math.floor(Date.now() / 1000), prefix = SHM_PREFIX): string[] {
  const entries = shmEntries();
  const removed: string[] = [];
  const live = new Set<string>();
  let sideFiles = false;
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    if (SIDE_FILE.test(e)) {
      sideFiles = true;
      continue;
    }
    const name = '/' + e;
    // The header is read through the file, not mapped: shm-typed-array keys mappings by name per
    // process, and unmapping one this process also holds would leave a dangling view.
    const header = Buffer.alloc((ALIVE_AT + 1) * 4);
    let read = 0;
    let createdS = 0;
    try {
      const fd = fs.openSync(`/dev/shm/${e}`, 'r');
      try {
        read = fs.readSync(fd, header, 0, header.length, OBJECT_PREFIX_BYTES);
        createdS = fs.fstatSync(fd).mtimeMs / 1000;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      live.add(name);
      continue; // not ours to read (another user's): leave it alone
    }
    // A header without MAGIC is a primary creating it right now, one that died doing so, or an
    // older layout: only the last two are old.
    const valid = read === header.length && header.readInt32LE(0) === SHM_MAGIC;
    const stale = !valid
      ? nowS - createdS > STALE_AFTER_S
      : nowS - header.readInt32LE(ALIVE_AT * 4) > STALE_AFTER_S && !ownerRuns(header.readInt32LE(OWNER_PID * 4));
    if (stale) {
      shm.destroy(name);
      removed.push(name);
    } else live.add(name);
  }
  // Side files of this prefix whose segment is gone (or went just now).
  if (sideFiles) removeSideFiles(entries, (owner) => owner.startsWith('/' + prefix) && !live.has(owner));
  return removed;
}

/**
 * Whether the primary that created a segment still runs: a primary paused longer than the stale
 * limit (SIGSTOP, `docker pause`) stops stamping but must keep its segment. A pid equal to ours is
 * another primary's from before (a container restarted as pid 1 on a shared /dev/shm): the stamp
 * decides. Pids of another pid namespace are not visible here; there too the stamp decides.
 */
function ownerRuns(pid: number): boolean {
  if (pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // it exists, as another user
  }
}
