/**
 * GET /status and GET /status/ready. Counters come straight from the workers' shared-memory
 * slots (Atomics loads), so /status asks no worker anything and works while one is stuck;
 * open connections come from the kernel (connections.ts).
 */
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import { readSlot, WORKER_STATE_NAME } from '../../shared/counter-slab';
import { connectionsByPid } from './connections';

const NO_CONFIG_HASH = '0'.repeat(64);

export async function statusBody(ctx: AdminContext): Promise<AdminResponse> {
  const sup = ctx.supervisor;
  const conns = await connectionsByPid(sup.workers.filter((w) => w.child !== null).map((w) => w.pid), ctx.settings.proxyListen.port);
  let totalRequests = 0;
  let inFlight = 0;
  let connections = 0;
  const workers = sup.workers.map((w) => {
    const s = readSlot(ctx.segment, w.id);
    const open = w.child === null ? 0 : conns.get(w.pid) ?? 0;
    totalRequests += s.requests;
    inFlight += s.active;
    connections += Math.max(open, 0);
    return {
      id: w.id,
      pid: w.pid,
      state: w.child === null ? 'restarting' : WORKER_STATE_NAME[s.state] ?? 'unknown',
      uptime: w.child === null ? 0 : Math.round((Date.now() - w.startedAt) / 1000),
      restarts: w.restarts,
      config_version: s.configVersion,
      requests: s.requests,
      requests_in_flight: s.active,
      connections: open,
    };
  });
  const snapshot = sup.snapshot;
  // As Kong's, zeros until the workers have a config. A start's snapshot computes its hash when
  // first read (config/lazy-hash.ts: ~0.35 s at 100,000 consumers): a probe polling /status then
  // waits until every worker serves, and does not take that CPU from the workers building theirs.
  const configurationHash = sup.everReady ? snapshot.hash : NO_CONFIG_HASH;
  const mem = process.memoryUsage();
  return {
    status: sup.allListening() ? 200 : 503,
    body: {
      configuration_hash: configurationHash,
      config_version: snapshot.version,
      // DB mode, as Kong's /status: whether this node reaches its database now.
      ...(ctx.settings.database === 'postgres' ? { database: { reachable: (ctx.writer.store.unavailable?.() ?? null) === null } } : {}),
      server: { total_requests: totalRequests, connections_active: connections, requests_in_flight: inFlight },
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
