/**
 * GET /metrics (Admin API and status_listen): one scrape = the collector's sums + the
 * supervisor's view of the workers + the connection counts /status reports.
 */
import { readFileSync } from 'node:fs';
import type { AdminContext } from '../admin/context';
import type { AdminResponse } from '../admin/server';
import { statusBody } from '../admin/status';
import { readSlot } from '../../shared/counter-slab';
import { LabelNames, METRICS_CONTENT_TYPE, renderMetrics, type TargetHealth, type WorkerInfo } from './registry';
import type { Snapshot } from '../../shared/snapshot';
import { REGION, region } from '../../shared/shm';
import { checksOn, type HealthchecksConf } from '../../shared/healthchecks';
import { healthName, healthOf, sourceOf, SOURCE } from '../../shared/target-table';
import type { MetricsCollector } from './collect';

export interface MetricsService {
  collector: MetricsCollector;
  names: LabelNames;
  kong2: boolean;
}

const PAGE = 4096;

function rssOf(pid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE;
  } catch {
    return null;
  }
}

/** Kong exports target health only when a prometheus instance sets upstream_health_metrics. */
function wantsTargetHealth(s: Snapshot): boolean {
  return s.plugins.some((p) => p.name === 'prometheus' && p.enabled && p.config.upstream_health_metrics === true);
}

function targetHealth(ctx: AdminContext, s: Snapshot): TargetHealth[] {
  const table = region(ctx.segment, REGION.TARGETS);
  const out: TargetHealth[] = [];
  for (const u of s.upstreams) {
    const checked = checksOn(u.healthchecks as HealthchecksConf);
    for (const t of u.targets) {
      let state = 'healthchecks_off';
      if (table !== null && t.slot >= 0 && (checked || sourceOf(table, t.slot) === SOURCE.ADMIN)) {
        state = healthName(healthOf(table, t.slot)).toLowerCase();
      }
      out.push({ upstream: u.name, target: t.target, address: `${t.host}:${t.port}`, state });
    }
  }
  return out;
}

export async function metricsBody(ctx: AdminContext): Promise<AdminResponse> {
  const m = ctx.metrics;
  if (m === undefined) return { status: 404, body: { message: 'Not found' } };
  const status = (await statusBody(ctx)).body as { server: { connections_active: number; requests_in_flight: number } };
  const sup = ctx.supervisor;
  m.names.update(sup.snapshot);
  const sums = m.collector.sums();
  const workers: WorkerInfo[] = sup.workers.map((w) => {
    const slot = readSlot(ctx.segment, w.id);
    return {
      id: w.id,
      pid: w.pid,
      alive: w.child !== null,
      restarts: w.restarts,
      configVersion: slot.configVersion,
      rssBytes: w.child === null ? null : rssOf(w.pid),
      loopLagP99Us: slot.loopLagP99Us,
      loopLagMaxUs: slot.loopLagMaxUs,
    };
  });
  const text = await renderMetrics({
    sums,
    snapshot: sup.snapshot,
    nodeId: ctx.nodeId,
    kong2: m.kong2,
    workers,
    connections: { active: status.server.connections_active, writing: status.server.requests_in_flight },
    totalRequests: sums.workerRequests.reduce((a, b) => a + b, 0),
    targets: wantsTargetHealth(sup.snapshot) ? targetHealth(ctx, sup.snapshot) : null,
    datastoreReachable: (ctx.writer.store.unavailable?.() ?? null) === null,
  }, m.names);
  return { status: 200, body: text, contentType: METRICS_CONTENT_TYPE };
}
