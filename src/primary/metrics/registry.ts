/**
 * The Prometheus text for /metrics: Kong's names and labels (kong/plugins/prometheus/
 * exporter.lua, 3.x), rendered by prom-client's Registry from the collector's sums. prom-client
 * only formats here: the values come from shared memory, never from its cluster aggregator.
 * Entity ids become Kong's label values at scrape time (service: name, else host; route: name,
 * else id; consumer: username, else custom_id, else id); an entity deleted by a reload keeps the
 * last name seen, so its series does not change labels after the reload.
 */
import { promClient } from '../../lib/optional-packages';
import type { Snapshot } from '../../shared/snapshot';
import { HYPERWAY_VERSION, KONG_COMPAT_VERSION } from '../../shared/version';
import {
  EGRESS, INGRESS, KONG2_KONG_HIST, KONG2_LATENCY_BUCKETS, KONG2_REQUEST_HIST, KONG2_UPSTREAM_HIST,
  KONG_HIST, KONG_LATENCY_BUCKETS, REQUEST_HIST, SOURCE, UPSTREAM_HIST, UPSTREAM_LATENCY_BUCKETS,
} from '../../shared/metrics-table';
import type { MetricsSums } from './collect';

type Labels = Record<string, string | number>;
interface Sample { metricName?: string; labels: Labels; value: number }
interface Family { name: string; help: string; type: 'counter' | 'gauge' | 'histogram'; values: Sample[] }

export interface WorkerInfo {
  id: number; pid: number; alive: boolean; restarts: number; configVersion: number; rssBytes: number | null;
  /** The worker's event-loop lag over its last second (0 when not yet measured). */
  loopLagP99Us: number; loopLagMaxUs: number;
}

export interface ScrapeInput {
  sums: MetricsSums;
  snapshot: Snapshot;
  nodeId: string;
  kong2: boolean;
  workers: WorkerInfo[];
  connections: { active: number; writing: number };
  totalRequests: number;
  /** Each target's health (`upstream_health_metrics`), or null when no prometheus instance asks for it. */
  targets: TargetHealth[] | null;
  /** DB mode: whether the database answers (absent: no database, always 1 as DB-less Kong). */
  datastoreReachable?: boolean;
}

export interface TargetHealth {
  upstream: string;
  target: string;
  address: string;
  /** Kong's state names: healthchecks_off, healthy, unhealthy, dns_error. */
  state: string;
}

const TARGET_STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'];

/** Id → Kong's label value, remembered across reloads. */
export class LabelNames {
  readonly #names = new Map<string, string>();
  update(s: Snapshot): void {
    for (const x of s.services) this.#names.set(x.id, x.name ?? x.host);
    for (const x of s.routes) this.#names.set(x.id, x.name ?? x.id);
    for (const x of s.consumers) this.#names.set(x.id, x.username ?? x.customId ?? x.id);
  }
  of(id: string | null): string {
    return id === null ? '' : this.#names.get(id) ?? id;
  }
}

const WORKSPACE = 'default';

class Sums {
  readonly #m = new Map<string, { labels: Labels; v: Float64Array }>();
  add(labels: Labels, values: ArrayLike<number>, from = 0, n = values.length - from): void {
    const k = JSON.stringify(labels);
    let e = this.#m.get(k);
    if (e === undefined) this.#m.set(k, (e = { labels, v: new Float64Array(n) }));
    for (let i = 0; i < n; i++) e.v[i] += values[from + i];
  }
  entries(): Iterable<{ labels: Labels; v: Float64Array }> { return this.#m.values(); }
}

/** Non-cumulative slots (buckets, +Inf, sum) → Prometheus' cumulative _bucket, _sum, _count. */
function histogramSamples(name: string, sums: Sums, buckets: readonly number[]): Sample[] {
  const out: Sample[] = [];
  for (const { labels, v } of sums.entries()) {
    let acc = 0;
    for (let i = 0; i < buckets.length; i++) {
      acc += v[i];
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: buckets[i] }, value: acc });
    }
    acc += v[buckets.length];
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: acc });
    out.push({ metricName: `${name}_sum`, labels, value: v[buckets.length + 1] });
    out.push({ metricName: `${name}_count`, labels, value: acc });
  }
  return out;
}

function counterSamples(sums: Sums): Sample[] {
  return [...sums.entries()].map(({ labels, v }) => ({ labels, value: v[0] }));
}

export function families(input: ScrapeInput, names: LabelNames): Family[] {
  const { sums } = input;
  const requests = new Sums();
  const kong2Status = new Sums();
  for (const s of sums.status.values()) {
    const service = names.of(s.service);
    const route = names.of(s.route);
    requests.add({ service, route, code: s.code, source: s.source === SOURCE.SERVICE ? 'service' : 'kong', workspace: WORKSPACE, consumer: names.of(s.consumer) }, [s.count]);
    kong2Status.add({ service, route, code: s.code }, [s.count]);
  }
  const bandwidth = new Sums();
  const kong2Bandwidth = new Sums();
  const kongLat = new Sums(), upstreamLat = new Sums(), requestLat = new Sums(), kong2Lat = new Sums();
  for (const r of sums.routes.values()) {
    const service = names.of(r.service);
    const route = names.of(r.route);
    const consumer = names.of(r.consumer);
    const v = r.values;
    if (v[INGRESS] > 0) {
      bandwidth.add({ service, route, direction: 'ingress', workspace: WORKSPACE, consumer }, v, INGRESS, 1);
      kong2Bandwidth.add({ service, route, type: 'ingress' }, v, INGRESS, 1);
    }
    if (v[EGRESS] > 0) {
      bandwidth.add({ service, route, direction: 'egress', workspace: WORKSPACE, consumer }, v, EGRESS, 1);
      kong2Bandwidth.add({ service, route, type: 'egress' }, v, EGRESS, 1);
    }
    const l = { service, route, workspace: WORKSPACE };
    const observed = (at: number, buckets: readonly number[]): boolean => {
      for (let i = 0; i <= buckets.length; i++) if (v[at + i] > 0) return true;
      return false;
    };
    if (observed(KONG_HIST, KONG_LATENCY_BUCKETS)) kongLat.add(l, v, KONG_HIST, KONG_LATENCY_BUCKETS.length + 2);
    if (observed(UPSTREAM_HIST, UPSTREAM_LATENCY_BUCKETS)) upstreamLat.add(l, v, UPSTREAM_HIST, UPSTREAM_LATENCY_BUCKETS.length + 2);
    if (observed(REQUEST_HIST, UPSTREAM_LATENCY_BUCKETS)) requestLat.add(l, v, REQUEST_HIST, UPSTREAM_LATENCY_BUCKETS.length + 2);
    if (input.kong2) {
      for (const [type, at] of [['request', KONG2_REQUEST_HIST], ['upstream', KONG2_UPSTREAM_HIST], ['kong', KONG2_KONG_HIST]] as const) {
        if (observed(at, KONG2_LATENCY_BUCKETS)) kong2Lat.add({ service, route, type }, v, at, KONG2_LATENCY_BUCKETS.length + 2);
      }
    }
  }

  const out: Family[] = [
    { name: 'kong_http_requests_total', type: 'counter', help: 'HTTP status codes per consumer/service/route in Kong', values: counterSamples(requests) },
    { name: 'kong_kong_latency_ms', type: 'histogram', help: 'Latency added by Kong and enabled plugins for each service/route in Kong', values: histogramSamples('kong_kong_latency_ms', kongLat, KONG_LATENCY_BUCKETS) },
    { name: 'kong_upstream_latency_ms', type: 'histogram', help: 'Latency added by upstream response for each service/route in Kong', values: histogramSamples('kong_upstream_latency_ms', upstreamLat, UPSTREAM_LATENCY_BUCKETS) },
    { name: 'kong_request_latency_ms', type: 'histogram', help: 'Total latency incurred during requests for each service/route in Kong', values: histogramSamples('kong_request_latency_ms', requestLat, UPSTREAM_LATENCY_BUCKETS) },
    { name: 'kong_bandwidth_bytes', type: 'counter', help: 'Total bandwidth (ingress/egress) throughput in bytes', values: counterSamples(bandwidth) },
    {
      name: 'kong_nginx_connections_total', type: 'gauge', help: 'Number of connections by subsystem',
      values: [
        { labels: { node_id: input.nodeId, subsystem: 'http', state: 'active' }, value: input.connections.active },
        { labels: { node_id: input.nodeId, subsystem: 'http', state: 'writing' }, value: input.connections.writing },
        { labels: { node_id: input.nodeId, subsystem: 'http', state: 'waiting' }, value: Math.max(0, input.connections.active - input.connections.writing) },
      ],
    },
    { name: 'kong_nginx_requests_total', type: 'gauge', help: 'Number of requests total', values: [{ labels: { node_id: input.nodeId, subsystem: 'http' }, value: input.totalRequests }] },
    { name: 'kong_datastore_reachable', type: 'gauge', help: 'Datastore reachable from Kong, 0 is unreachable', values: [{ labels: {}, value: input.datastoreReachable === false ? 0 : 1 }] },
    { name: 'kong_node_info', type: 'gauge', help: 'Kong Node metadata information', values: [{ labels: { node_id: input.nodeId, version: KONG_COMPAT_VERSION, hyperway_version: HYPERWAY_VERSION }, value: 1 }] },
    {
      name: 'hyperway_worker_restarts_total', type: 'counter', help: 'Times the worker in this slot was replaced',
      values: input.workers.map((w) => ({ labels: { worker: w.id }, value: w.restarts })),
    },
    {
      name: 'hyperway_worker_requests_total', type: 'counter', help: 'Requests served by the workers of this slot (replaced ones included)',
      values: input.workers.map((w) => ({ labels: { worker: w.id }, value: sums.workerRequests[w.id] ?? 0 })),
    },
    {
      name: 'hyperway_worker_config_version', type: 'gauge', help: 'Config version the worker serves',
      values: input.workers.map((w) => ({ labels: { worker: w.id }, value: w.configVersion })),
    },
    {
      name: 'hyperway_worker_up', type: 'gauge', help: '1 while the worker process of this slot runs',
      values: input.workers.map((w) => ({ labels: { worker: w.id }, value: w.alive ? 1 : 0 })),
    },
    {
      name: 'hyperway_worker_rss_bytes', type: 'gauge', help: 'Resident memory of the worker process',
      values: input.workers.filter((w) => w.rssBytes !== null).map((w) => ({ labels: { worker: w.id, pid: w.pid }, value: w.rssBytes as number })),
    },
    {
      name: 'hyperway_worker_event_loop_lag_seconds', type: 'gauge', help: 'Event-loop delay of the worker over its last second (perf_hooks monitorEventLoopDelay), by quantile: 0.99 and 1 (the max)',
      values: input.workers.filter((w) => w.alive).flatMap((w) => [
        { labels: { worker: w.id, quantile: '0.99' }, value: w.loopLagP99Us / 1e6 },
        { labels: { worker: w.id, quantile: '1' }, value: w.loopLagMaxUs / 1e6 },
      ]),
    },
    { name: 'hyperway_metrics_dropped_total', type: 'counter', help: 'Requests not counted because a worker\'s series table was full (raise metrics_series)', values: [{ labels: {}, value: sums.dropped }] },
  ];
  if (input.targets !== null) {
    // Kong 3.x: one series per state, 1 for the current one and 0 for the others.
    out.push({
      name: 'kong_upstream_target_health', type: 'gauge', help: 'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
      values: input.targets.flatMap((t) => TARGET_STATES.map((state) => ({
        labels: { upstream: t.upstream, target: t.target, address: t.address, state, subsystem: 'http' },
        value: state === t.state ? 1 : 0,
      }))),
    });
  }
  if (input.kong2) {
    out.push(
      { name: 'kong_http_status', type: 'counter', help: 'HTTP status codes per service/route in Kong (Kong 2.x name)', values: counterSamples(kong2Status) },
      { name: 'kong_latency', type: 'histogram', help: 'Latency added by Kong, total request time and upstream latency for each service/route in Kong (Kong 2.x name)', values: histogramSamples('kong_latency', kong2Lat, KONG2_LATENCY_BUCKETS) },
      { name: 'kong_bandwidth', type: 'counter', help: 'Total bandwidth in bytes consumed per service/route in Kong (Kong 2.x name)', values: counterSamples(kong2Bandwidth) },
    );
  }
  return out;
}

export async function renderMetrics(input: ScrapeInput, names: LabelNames): Promise<string> {
  const registry = new (promClient().Registry)();
  for (const f of families(input, names)) {
    registry.registerMetric({ name: f.name, help: f.help, type: f.type, get: async () => ({ ...f, aggregator: 'sum' }) } as never);
  }
  return registry.metrics();
}

/** prom-client's `Registry.PROMETHEUS_CONTENT_TYPE`, without loading prom-client to read it. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
