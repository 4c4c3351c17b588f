/**
 * Read deadlines in milliseconds, as nginx counts them: the time between two successive reads
 * (Kong's `read_timeout` on the upstream side, nginx's `client_body_timeout` on the client side).
 *
 * undici's own headersTimeout/bodyTimeout run on its "fast timers" for delays over 1 s, which tick
 * about once a second: `read_timeout: 5000` fired after ~5.9 s. Here one interval per watch set,
 * running only while something is watched, sweeps every SWEEP_MS. A read costs one field write
 * (`reads++`): the sweep notices the count moved and restarts that clock at the sweep's time, so
 * a deadline fires between 0 and 2 × SWEEP_MS late and never early (the clock is only ever
 * restarted at or after the real read).
 */
import { performance } from 'node:perf_hooks';
import { IndexedSet } from '../../lib/indexed-set';

const SWEEP_MS = 40;

/** What a watched reader carries (the fields are its own, written by the sweep). */
export interface ReadWatch {
  /** Bumped by every read: the only per-chunk cost. */
  reads: number;
  /** `reads` as the sweep last saw it, and when its clock (re)started. */
  readSeen: number;
  readSince: number;
  /** The deadline in ms; 0 = not watched. */
  readLimit: number;
  /** Its index in the watch set (lib/indexed-set.ts); -1 while not watched. */
  readIndex: number;
  /** True while nobody wants to read (backpressure): the clock does not run, as with nginx. */
  readonly readPaused: boolean;
  /** The deadline passed without a read. */
  readExpired(): void;
}

/** The watch set: entries keep their index in `readIndex`. */
class ReadWatchSet extends IndexedSet<ReadWatch> {
  protected indexOf(w: ReadWatch): number {
    return w.readIndex;
  }

  protected setIndex(w: ReadWatch, i: number): void {
    w.readIndex = i;
  }
}

export class ReadDeadlines {
  readonly #watched = new ReadWatchSet();
  #timer: NodeJS.Timeout | null = null;
  readonly #sweep = (): void => this.#sweepNow();

  /** Starts (or restarts) w's clock; ms <= 0 watches nothing. */
  watch(w: ReadWatch, ms: number): void {
    if (ms <= 0) return;
    w.readLimit = ms;
    w.readSeen = w.reads;
    w.readSince = performance.now();
    this.#watched.add(w);
    if (this.#timer === null) {
      this.#timer = setInterval(this.#sweep, SWEEP_MS);
      this.#timer.unref();
    }
  }

  unwatch(w: ReadWatch): void {
    if (w.readLimit === 0) return;
    w.readLimit = 0;
    this.#watched.delete(w);
  }

  get size(): number {
    return this.#watched.size;
  }

  #sweepNow(): void {
    const now = performance.now();
    const watched = this.#watched;
    // From the end: a delete moves the last entry, already seen, into the freed index.
    for (let i = watched.size - 1; i >= 0; i--) {
      if (i >= watched.size) continue; // an expiry's handler unwatched others
      const w = watched.at(i);
      if (w.reads !== w.readSeen || w.readPaused) {
        w.readSeen = w.reads;
        w.readSince = now;
      } else if (now - w.readSince >= w.readLimit) {
        w.readLimit = 0;
        watched.delete(w);
        w.readExpired();
      }
    }
    if (watched.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

/** The worker's upstream reads (Kong's read_timeout), one sweep for every exchange. */
export const upstreamReads = new ReadDeadlines();
