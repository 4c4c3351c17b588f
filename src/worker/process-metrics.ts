/**
 * The worker's own process metrics, published into its counter slot (shared/counter-slab.ts)
 * for the primary's /metrics: no message, nothing per request. Event-loop lag comes from
 * perf_hooks' monitorEventLoopDelay, whose samples are the time between its timer's firings,
 * so the timer's own interval is taken off to leave the delay.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { WorkerSlot } from '../shared/counter-slab';

const RESOLUTION_MS = 20;
const PUBLISH_MS = 1000;

/** Publishes the p99 and max lag of each second (microseconds) until the process exits. */
export function startProcessMetrics(slot: WorkerSlot): void {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const base = RESOLUTION_MS * 1e6;
  setInterval(() => {
    const p99 = h.count === 0 ? 0 : Math.max(0, h.percentile(99) - base);
    const max = h.count === 0 ? 0 : Math.max(0, h.max - base);
    slot.setLoopLag(Math.round(p99 / 1000), Math.round(max / 1000));
    h.reset();
  }, PUBLISH_MS).unref();
}
