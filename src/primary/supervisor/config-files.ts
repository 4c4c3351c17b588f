/**
 * Large config:apply payloads go to the workers through a file in /dev/shm (tmpfs: memory, no
 * disk), not through the IPC channel. Over the channel ('advanced' serialization) a 15 MB payload
 * was copied into a serializer once per worker, written through a socket in 64 KiB pieces and
 * concatenated again on the other side: ~0.24 s until two workers had it and ~0.14 s of the
 * primary's CPU. Written once to a file and read by each worker it took ~0.06 s and 0.015 s.
 *
 * One file per config version, `<segment>.config-<version>` beside the shared segment
 * (shared/shm.ts: removed with it, and reaped with it after a crash). It stays while its version is
 * current (a worker that is replaced later reads it too) and until every live worker has handled
 * a newer version (workers read their messages in order, so none will read it again). A payload
 * under FILE_MIN_BYTES, a file that cannot be written (tmpfs full) or read goes over the channel
 * as before: the file is a shortcut, never the only way.
 */
import fs from 'node:fs';
import { sideFilePath, writeSideFile, type Segment } from '../../shared/shm';
import { log } from '../../lib/log';

/** Below this a payload goes over the channel: a file write and read cost more than they save. */
export const FILE_MIN_BYTES = 256 * 1024;

export class ConfigFiles {
  readonly #seg: Segment;
  /** version → path, oldest first. */
  readonly #files = new Map<number, string>();
  #warned = false;

  constructor(seg: Segment) {
    this.#seg = seg;
  }

  /** The file holding `version`'s payload (written now if it is not yet), or null: use the channel. */
  pathFor(version: number, payload: Buffer): string | null {
    if (payload.length < FILE_MIN_BYTES) return null;
    const known = this.#files.get(version);
    if (known !== undefined) return known;
    const path = sideFilePath(this.#seg, `config-${version}`);
    try {
      writeSideFile(path, payload);
    } catch (e) {
      this.#remove(path);
      if (!this.#warned) {
        this.#warned = true;
        log('warn', 'cannot write the config for the workers to /dev/shm; sending it over IPC', { path, err: (e as Error).message });
      }
      return null;
    }
    this.#files.set(version, path);
    return path;
  }

  /**
   * Removes the files no worker will read: every version other than `current` that each live
   * worker has moved past (`handled`: the newest version it acknowledged or rejected).
   */
  sweep(current: number, handled: readonly number[]): void {
    for (const [version, path] of this.#files) {
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
