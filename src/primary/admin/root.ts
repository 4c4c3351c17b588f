/** GET /: node information, in Kong's shape where Kong has the field; settings as running (after reloads). */
import os from 'node:os';
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import { formatAddress } from '../../shared/settings';
import { HYPERWAY_VERSION, KONG_COMPAT_VERSION } from '../../shared/version';

export function nodeInfo(ctx: AdminContext): AdminResponse {
  const s = ctx.settings;
  return {
    status: 200,
    body: {
      tagline: 'Welcome to hyperway',
      // Kong clients (decK, Kong Manager, scripts) pick features by this field: it names the Kong
      // version whose Admin API and behaviour Hyperway follows. Hyperway's own is below.
      version: KONG_COMPAT_VERSION,
      // Hyperway's own settings that kong.conf does not have, as running now.
      hyperway: { version: HYPERWAY_VERSION, drain_timeout: s.drainTimeout, worker_heartbeat_timeout: s.workerHeartbeatTimeout },
      node_id: ctx.nodeId,
      hostname: os.hostname(),
      node: { version: process.version, platform: process.platform, arch: process.arch },
      uws: ctx.supervisor.uws,
      pids: { master: process.pid, workers: ctx.supervisor.workers.filter((w) => w.child !== null).map((w) => w.pid) },
      configuration: {
        database: 'off',
        declarative_config: ctx.configFile,
        router_flavor: 'traditional_compatible',
        proxy_listen: s.proxyListens.map(formatAddress),
        admin_listen: [...s.adminListens.map(formatAddress), ...(s.adminSslListens ?? []).map((a) => `${formatAddress(a)} ssl`)],
        status_listen: s.statusListen === null ? [] : [formatAddress(s.statusListen)],
        nginx_worker_processes: ctx.supervisor.workers.length,
        trusted_ips: s.trustedIps,
        real_ip_header: s.realIpHeader,
        real_ip_recursive: s.realIpRecursive ? 'on' : 'off',
        allow_debug_header: s.allowDebugHeader,
        headers: s.headers,
        upstream_keepalive_pool_size: s.upstreamKeepalivePoolSize,
        upstream_keepalive_idle_timeout: s.upstreamKeepaliveIdleTimeout,
        log_level: s.logLevel,
      },
      plugins: { available_on_server: {}, enabled_in_cluster: [] },
    },
  };
}
