/**
 * Stop signals (SIGTERM, SIGINT, SIGQUIT) from the primary's first instruction on. Without a
 * handler a signal's default action ends the process at once: a large config's workers are forked
 * before it compiles, and a stop in that window left their segment behind until the next start's
 * sweep. While the first config loads, a stop kills the workers, waits for their exit, removes the
 * segment (abortStart(), as for a start that fails) and exits 0; the start, wherever it resumes,
 * goes no further (checkpoint()). Once loaded(), a stop is startPrimary's graceful drain.
 */
import type { Supervisor } from './supervisor/supervisor';
import { destroySegment, type Segment } from '../shared/shm';
import { log } from '../lib/log';

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

const never = new Promise<never>(() => undefined);

export class StartGuard {
  #workers: { supervisor: Supervisor; segment: Segment } | null = null;
  #drain: ((signal: StopSignal) => void) | null = null;
  #stopped = false;
  readonly #onStopped: () => Promise<void> | void;

  /** Installs the handlers (once, for good: the drain comes through them too). */
  constructor(onStopped: () => Promise<void> | void) {
    this.#onStopped = onStopped;
    for (const signal of STOP_SIGNALS) process.on(signal, () => this.#signal(signal));
  }

  /** The workers exist (forked or not): a stop from now on kills them and removes the segment. */
  hold(supervisor: Supervisor, segment: Segment): void {
    this.#workers = { supervisor, segment };
  }

  /** The first config is loaded and applied: a stop from now on drains (startPrimary's shutdown). */
  loaded(drain: (signal: StopSignal) => void): void {
    this.#drain = drain;
  }

  /**
   * After each await of the start: never resolves once a stop came (the process exits from the
   * signal handler), so nothing is forked, applied or listened to after the abort began.
   */
  checkpoint(): Promise<void> {
    return this.#stopped ? never : Promise.resolve();
  }

  /**
   * One turn of the event loop, then checkpoint(): a signal that arrived during a synchronous
   * compile is dispatched only when the loop polls, and the start must not outrun it.
   */
  async yieldToSignals(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.checkpoint();
  }

  #signal(signal: StopSignal): void {
    if (this.#drain !== null) return this.#drain(signal);
    if (this.#stopped) return; // the abort below already SIGKILLs: nothing quicker to do
    this.#stopped = true;
    log('notice', 'stop signal before the start finished: stopping the workers', { signal });
    void this.#abort();
  }

  async #abort(): Promise<void> {
    if (this.#workers !== null) await abortStart(this.#workers.supervisor, this.#workers.segment);
    await this.#onStopped();
    log('notice', 'stopped');
    process.exit(0);
  }
}

/** A start that fails (or is stopped) before serving: no worker outlives it, no segment is left behind. */
export async function abortStart(supervisor: Supervisor, segment: Segment): Promise<void> {
  await supervisor.abort();
  destroySegment(segment);
}
