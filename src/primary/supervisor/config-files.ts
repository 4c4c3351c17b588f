/**
 * Large config:apply payloads go to the workers through a file in /dev/shm (tmpfs: memory, no
 * disk), not through the IPC channel. Over the channel ('advanced' serialization) a 15 MB payload
 * was copied into a serializer once per worker, written through a socket in 64 KiB pieces and
 * concatenated again on the other side: ~0.24 s until two workers had it and ~0.14 s of the
 * primary's CPU. Written once to a file and read by each worker it took ~0.06 s and 0.015 s; mapped
 * instead of read, the worker has it at once and the workers share its pages.
 *
 * One file per config version, `<segment>.config-<version>` beside the shared segment
 * (shared/shm.ts: removed with it, and reaped with it after a crash). It stays while its version is
 * current (a worker that is replaced later reads it too) and until every live worker has handled
 * a newer version (workers read their messages in order, so none will read it again). A payload
 * under FILE_MIN_BYTES, one that would leave /dev/shm less free than its size or a quarter of it,
 * a file that cannot be written or that a worker cannot read goes over the channel as before: the
 * file is a shortcut, never the only way. (A worker unmaps an old version's file when its Buffer
 * is collected, which V8 does not hurry for memory it does not count: hence the free-space margin,
 * so that the files never crowd out the segments sharing that tmpfs.)
 */
import fs from 'node:fs';
import { sideFilePath, writeSideFile, type Segment } from '../../shared/shm';
import { log } from '../../lib/log';

/** Below this a payload goes over the channel: a file write and read cost more than they save. */
export const FILE_MIN_BYTES = 256 * 1024;

export class ConfigFiles {
  readonly #seg: Segment;
  /** version → its file and the payload written to it, oldest first. */
  readonly #files = new Map<number, { path: string; payload: Buffer }>();
  #warned = false;

  constructor(seg: Segment) {
    this.#seg = seg;
  }

  /** The file holding `version`'s payload (written now if it is not yet), or null: use the channel. */
  pathFor(version: number, payload: Buffer): string | null {
    if (payload.length < FILE_MIN_BYTES) return null;
    const known = this.#files.get(version);
    // Another payload under a version already written (no caller does that): never rewrite a file
    // that workers may have mapped.
    if (known !== undefined) return known.payload === payload ? known.path : null;
    const path = sideFilePath(this.#seg, `config-${version}`);
    try {
      const { bavail, bsize, blocks } = fs.statfsSync(path.slice(0, path.lastIndexOf('/')));
      const free = bavail * bsize;
      if (free - payload.length < Math.max(payload.length, (blocks * bsize) / 4)) throw new Error(`${free} bytes free`);
      // A new file, never one truncated under a worker's mapping (a SIGBUS there).
      this.#remove(path);
      writeSideFile(path, payload);
    } catch (e) {
      this.#remove(path);
      if (!this.#warned) {
        this.#warned = true;
        log('warn', 'cannot write the config for the workers to /dev/shm; sending it over IPC', { path, err: (e as Error).message });
      }
      return null;
    }
    this.#files.set(version, { path, payload });
    return path;
  }

  /** A worker could not read `version`'s file: it is not offered again (the next send rewrites it or uses the channel). */
  forget(version: number): void {
    const known = this.#files.get(version);
    if (known === undefined) return;
    this.#files.delete(version);
    this.#remove(known.path);
  }

  /**
   * Removes the files no worker will read: every version other than `current` that each live
   * worker has moved past (`handled`: the newest version it acknowledged or rejected).
   */
  sweep(current: number, handled: readonly number[]): void {
    for (const [version, { path }] of this.#files) {
      if (version === current || handled.some((h) => h <= version)) continue;
      this.#files.delete(version);
      this.#remove(path);
    }
  }

  #remove(path: string): void {
    try {
      fs.unlinkSync(path);
    } catch {
      // never written, or gone already
    }
  }
}
