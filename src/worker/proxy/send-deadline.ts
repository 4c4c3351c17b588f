/**
 * nginx's `send_timeout` for proxied responses: a client that takes no bytes for that long while
 * the gateway has bytes waiting for it is disconnected (nginx: "the timeout is set only between
 * two successive write operations, not for the transmission of the whole response").
 *
 * Only responses that are stalled on the socket are watched: a response enters the set when uWS
 * reports backpressure, each onWritable (the client took bytes) restarts its clock, and it
 * leaves the set when the socket drains or the response ends. One timer per worker, running
 * only while the set is not empty, walks it: no timer per request, nothing on the fast path.
 */
import { performance } from 'node:perf_hooks';
import { IndexedSet } from '../../lib/indexed-set';

/** What the watch needs of a response (stream-response.ts). */
export interface Stallable {
  /** performance.now() of the last progress while stalled. */
  stalledSince: number;
  /** Its index in the stalled set (lib/indexed-set.ts); -1 while not in it. */
  stallIndex: number;
  /** The response ended some other way (finished, cut, client gone): nothing left to watch. */
  readonly settled: boolean;
  /** Gives up on the client: closes its connection. */
  cut(): void;
}

/** The stalled set: entries keep their index in `stallIndex`. */
class StalledSet extends IndexedSet<Stallable> {
  protected indexOf(r: Stallable): number {
    return r.stallIndex;
  }

  protected setIndex(r: Stallable, i: number): void {
    r.stallIndex = i;
  }
}

const stalled = new StalledSet();
let timeoutMs = 60_000;
let timer: NodeJS.Timeout | null = null;

/** Per snapshot: the `send_timeout` setting in milliseconds (0 = never). */
export function setSendTimeout(ms: number): void {
  timeoutMs = ms;
}

/** A write did not go out in full: the client must take bytes within send_timeout. */
export function stall(r: Stallable): void {
  r.stalledSince = performance.now();
  if (timeoutMs <= 0) return;
  stalled.add(r);
  if (timer === null) {
    // A quarter of the timeout (at least 100 ms, at most 1 s) bounds how late a cut comes.
    timer = setInterval(sweep, Math.min(1000, Math.max(100, timeoutMs >> 2)));
    timer.unref();
  }
}

/** The client took some bytes: its clock starts again. */
export function progressed(r: Stallable): void {
  r.stalledSince = performance.now();
}

/** The socket drained or the response ended. */
export function unstall(r: Stallable): void {
  stalled.delete(r);
}

function sweep(): void {
  // send_timeout 0 (a reload may set it while responses are stalled) means never: drop, never cut.
  const never = timeoutMs <= 0;
  const limit = performance.now() - timeoutMs;
  // From the end: a delete moves the last entry, already seen, into the freed index.
  for (let i = stalled.size - 1; i >= 0; i--) {
    if (i >= stalled.size) continue; // a cut's handler unstalled others
    const r = stalled.at(i);
    if (r.settled || never) {
      stalled.delete(r);
      continue;
    }
    if (r.stalledSince > limit) continue;
    stalled.delete(r);
    r.cut();
  }
  if (stalled.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}
