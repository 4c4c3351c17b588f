/**
 * Kong's prometheus plugin, data-plane side: counts each request into this worker's block of the
 * shared metrics table (shared/metrics-table.ts) in the `measure` phase, synchronously and
 * without building a LogEntry. The primary sums the blocks and serves /metrics.
 */
import type { PluginHandler } from '../types';
import { openWorkerMetrics, SOURCE, type WorkerMetrics } from '../../shared/metrics-table';
import type { Segment } from '../../shared/shm';

interface PrometheusConf {
  perConsumer: boolean;
  status: boolean;
  latency: boolean;
  bandwidth: boolean;
}

let table: WorkerMetrics | null = null;

/** Worker start: the block this worker counts into (none when the primary made no metrics region). */
export function bindPrometheus(seg: Segment, worker: number): void {
  table = openWorkerMetrics(seg, worker);
}

export const handler: PluginHandler<PrometheusConf> = {
  name: 'prometheus',
  priority: 13,
  version: '3.10.0',
  configure(config) {
    return {
      perConsumer: config.per_consumer === true,
      status: config.status_code_metrics === true,
      latency: config.latency_metrics === true,
      bandwidth: config.bandwidth_metrics === true,
    };
  },
  measure(f, conf) {
    const t = table;
    if (t === null) return;
    const consumer = conf.perConsumer ? f.consumerId : null;
    if (conf.status) t.countStatus(f.serviceId, f.routeId, consumer, f.status, f.fromUpstream ? SOURCE.SERVICE : SOURCE.KONG);
    if (conf.latency || conf.bandwidth) {
      t.observe(f.serviceId, f.routeId, consumer,
        conf.bandwidth ? f.requestSize : 0, conf.bandwidth ? f.responseSize : 0,
        f.kongLatency, f.proxyLatency, f.requestLatency, conf.latency);
    }
  },
};
