/**
 * When to replace a worker: exponential backoff between restarts of the same slot (a crash loop
 * must not spin the primary), reset once a worker has stayed up long enough; and the heartbeat
 * rule (a worker whose shared-memory heartbeat has not moved for `timeoutMs` is stuck).
 */
export const BACKOFF_MIN_MS = 100;
export const BACKOFF_MAX_MS = 10_000;
export const STABLE_AFTER_MS = 30_000;

export function nextBackoff(previousMs: number, uptimeMs: number): number {
  if (uptimeMs >= STABLE_AFTER_MS || previousMs === 0) return BACKOFF_MIN_MS;
  return Math.min(previousMs * 2, BACKOFF_MAX_MS);
}

export class HeartbeatWatch {
  #value = -1;
  #changedAt = 0;

  /** Feed the current heartbeat; true when it has been still for longer than timeoutMs. */
  stale(value: number, now: number, timeoutMs: number): boolean {
    if (value !== this.#value) {
      this.#value = value;
      this.#changedAt = now;
      return false;
    }
    return now - this.#changedAt > timeoutMs;
  }

  reset(now: number): void {
    this.#value = -1;
    this.#changedAt = now;
  }
}
