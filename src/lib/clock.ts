/**
 * A coarse clock for the hot path: Date.now() refreshed by a timer instead of per request.
 * Precise latencies use performance.now(); this one only stamps heartbeats and log lines.
 */
let now = Date.now();
let timer: NodeJS.Timeout | null = null;

export function startCoarseClock(periodMs = 100): void {
  if (timer) return;
  timer = setInterval(() => { now = Date.now(); }, periodMs);
  timer.unref();
}

export function coarseNow(): number {
  return now;
}

export function stopCoarseClock(): void {
  if (timer) clearInterval(timer);
  timer = null;
}
