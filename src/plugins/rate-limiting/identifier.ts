import type { PluginContext } from '../types';

/** limit_by (rate-limiting) / identifier (rate-limiting-advanced) as a number, for the hot path. */
export const LIMIT_BY = { consumer: 0, credential: 1, ip: 2, service: 3, header: 4, path: 5 } as const;

/**
 * Whose requests count together. Kong falls back to the client address whenever the chosen
 * entity is missing (no consumer, no header, another path).
 */
export function identify(ctx: PluginContext, limitBy: number, headerName: string, path: string | null): string {
  let id: string | null | undefined = null;
  switch (limitBy) {
    case LIMIT_BY.consumer: id = ctx.consumer?.id ?? ctx.credential?.id; break;
    case LIMIT_BY.credential: id = ctx.credential?.id; break;
    case LIMIT_BY.service: id = ctx.serviceId; break;
    case LIMIT_BY.header: id = ctx.requestHeader(headerName); break;
    case LIMIT_BY.path: id = ctx.path === path ? ctx.path : null; break;
  }
  return id || ctx.clientIp;
}
