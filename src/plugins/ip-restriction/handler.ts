/**
 * Kong 3.10 `kong/plugins/ip-restriction/handler.lua`: the client address (after trusted_ips and
 * real_ip_header, nginx's $remote_addr) is checked against `deny`, then `allow`; a rejection is a
 * `kong.response.error`.
 */
import { compileIpMatcher, type IpMatcher } from '../../lib/cidr';
import { KONG_COMPAT_VERSION } from '../../shared/version';
import type { PluginContext, PluginHandler } from '../types';

export interface IpRestrictionConf {
  /** Null when the list is absent or empty (Kong's isempty: no check). */
  deny: IpMatcher | null;
  allow: IpMatcher | null;
  status: number;
  /** Null: Kong's default, which names the address. */
  message: string | null;
}

function matcher(list: unknown): IpMatcher | null {
  return Array.isArray(list) && list.length > 0 ? compileIpMatcher(list as string[]) : null;
}

function configure(config: Record<string, unknown>): IpRestrictionConf {
  return {
    deny: matcher(config.deny),
    allow: matcher(config.allow),
    status: typeof config.status === 'number' ? config.status : 403,
    message: typeof config.message === 'string' ? config.message : null,
  };
}

function access(ctx: PluginContext, conf: IpRestrictionConf): void {
  const ip = ctx.clientIp;
  if ((conf.deny !== null && conf.deny(ip)) || (conf.allow !== null && !conf.allow(ip))) {
    ctx.error(conf.status, conf.message ?? `IP address not allowed: ${ip}`);
  }
}

export const handler: PluginHandler<IpRestrictionConf> = {
  name: 'ip-restriction',
  priority: 990,
  version: KONG_COMPAT_VERSION,
  configure,
  access,
};
