/**
 * GET /status and GET /status/ready. Counters come straight from the workers' shared-memory
 * slots (Atomics loads), so /status asks no worker anything and works while one is stuck.
 */
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import { readSlot, WORKER_STATE_NAME } from '../../shared/counter-slab';

export function statusBody(ctx: AdminContext): AdminResponse {
  const sup = ctx.supervisor;
  let totalRequests = 0;
  let active = 0;
  const workers = sup.workers.map((w) => {
    const s = readSlot(ctx.segment, w.id);
    totalRequests += s.requests;
    active += s.active;
    return {
      id: w.id,
      pid: w.pid,
      state: w.child === null ? 'restarting' : WORKER_STATE_NAME[s.state] ?? 'unknown',
      uptime: w.child === null ? 0 : Math.round((Date.now() - w.startedAt) / 1000),
      restarts: w.restarts,
      config_version: s.configVersion,
      requests: s.requests,
      // uWS.js has no HTTP connection events; this counts requests in flight on the worker.
      connections: s.active,
    };
  });
  const snapshot = sup.snapshot;
  const mem = process.memoryUsage();
  return {
    status: sup.allListening() ? 200 : 503,
    body: {
      configuration_hash: snapshot.hash,
      config_version: snapshot.version,
      server: { total_requests: totalRequests, connections_active: active },
      memory: { primary_rss_bytes: mem.rss, primary_heap_used_bytes: mem.heapUsed },
      workers,
    },
  };
}

export function readyBody(ctx: AdminContext): AdminResponse {
  if (ctx.supervisor.allListening()) return { status: 200, body: { message: 'ready' } };
  const down = ctx.supervisor.workers.filter((w) => !w.listening).length;
  return { status: 503, body: { message: `${down} worker(s) not ready` } };
}
