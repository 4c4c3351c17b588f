/** GET /: node information, in Kong's shape where Kong has the field. */
import os from 'node:os';
import type { AdminContext } from './context';
import type { AdminResponse } from './server';
import { HYPERWAY_VERSION } from '../../shared/version';

export function nodeInfo(ctx: AdminContext): AdminResponse {
  const s = ctx.settings;
  return {
    status: 200,
    body: {
      tagline: 'Welcome to hyperway',
      version: HYPERWAY_VERSION,
      kong_compatibility: '3.10',
      node_id: ctx.nodeId,
      hostname: os.hostname(),
      node: { version: process.version, platform: process.platform, arch: process.arch },
      uws: ctx.supervisor.uws,
      pids: { master: process.pid, workers: ctx.supervisor.workers.map((w) => w.pid) },
      configuration: {
        database: 'off',
        declarative_config: ctx.configFile,
        router_flavor: 'traditional_compatible',
        proxy_listen: [`${s.proxyListen.host}:${s.proxyListen.port}`],
        admin_listen: [`${s.adminListen.host}:${s.adminListen.port}`],
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
