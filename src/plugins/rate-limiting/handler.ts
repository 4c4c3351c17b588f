/**
 * Kong's rate-limiting (`kong/plugins/rate-limiting/handler.lua`): fixed calendar windows, counted
 * per identifier; headers on every response; `error_code` with `error_message` once a window is
 * used up. Unlike Kong, which reads the usage first and increments later in a timer (so bursts
 * overshoot), the count and the check are one step here: exactly `limit` requests per window pass.
 */
import type { PluginContext, PluginHandler, PluginScope } from '../types';
import { hashKey, PERIODS } from '../../shared/rate-limit-table';
import { EXPIRATION, X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, resetSeconds, windowStart } from './windows';
import { checkLocal } from './policies/local';
import { checkRedis, redisBatch, redisConn, type RedisBatch, type RedisConf, type RedisConn } from './policies/redis';
import type { Limit, Outcome } from './policies/types';
import { identify, LIMIT_BY } from './identifier';

/** Kong's placeholder for a plugin not scoped to a route or service, in counter keys. */
const EMPTY_UUID = '00000000-0000-0000-0000-000000000000';


export interface RateLimitingConf {
  limits: Limit[];
  expirations: number[];
  limitBy: number;
  headerName: string;
  path: string | null;
  /** `<route id>:<service id>:` of the plugin instance (Kong keys counters by the plugin's scope). */
  scope: string;
  hideClientHeaders: boolean;
  faultTolerant: boolean;
  errorCode: number;
  errorMessage: string;
  policy: 'local' | 'redis';
  redis: RedisConn | null;
  batch: RedisBatch | null;
}

/** Kong's headers for the usage, and the answer when blocked. `used`: counts before the request. */
function finish(ctx: PluginContext, conf: RateLimitingConf, out: Outcome, used: readonly number[], nowMs: number): void {
  if (!out.known) return;
  const limits = conf.limits;
  let reset = 0;
  if (!conf.hideClientHeaders) {
    let best = -1;
    let bestRemaining = 0;
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i];
      let remaining = l.limit - used[i];
      if (out.stop < 0 || out.stop === i) remaining -= 1;
      if (remaining < 0) remaining = 0;
      // The most constrained window names RateLimit-*: the lowest remaining, ties to the longer one.
      if (best < 0 || remaining < bestRemaining || (remaining === bestRemaining && l.code > limits[best].code)) {
        best = i;
        bestRemaining = remaining;
      }
      ctx.setResponseHeader(X_RATELIMIT_LIMIT[l.period], String(l.limit));
      ctx.setResponseHeader(X_RATELIMIT_REMAINING[l.period], String(remaining));
    }
    reset = resetSeconds(limits[best].period, nowMs);
    ctx.setResponseHeader('RateLimit-Limit', String(limits[best].limit));
    ctx.setResponseHeader('RateLimit-Remaining', String(bestRemaining));
    ctx.setResponseHeader('RateLimit-Reset', String(reset));
  }
  if (out.stop >= 0) {
    ctx.error(conf.errorCode, conf.errorMessage, reset > 0 ? { 'Retry-After': String(reset) } : null);
  }
}

function redisKeys(conf: RateLimitingConf, id: string, nowMs: number, endsAt: number[] | null): string[] {
  const keys: string[] = [];
  for (const l of conf.limits) {
    const start = windowStart(l.period, nowMs);
    keys.push(`ratelimit:${conf.scope}${id}:${start}:${l.period}`);
    endsAt?.push(start + EXPIRATION[l.period] * 1000);
  }
  return keys;
}

async function accessRedis(ctx: PluginContext, conf: RateLimitingConf, id: string, nowMs: number): Promise<void> {
  const used: number[] = [];
  let out: Outcome;
  try {
    out = await checkRedis(conf.redis!, redisKeys(conf, id, nowMs, null), conf.limits, conf.expirations, used);
  } catch (err) {
    if (!conf.faultTolerant) {
      conf.redis!.logError('failed to get usage', err);
      ctx.error(500, 'An unexpected error occurred');
      return;
    }
    // Kong: the request goes on without headers, one error logged (here once per interval).
    conf.redis!.logError('failed to get usage', err);
    return;
  }
  finish(ctx, conf, out, used, nowMs);
}

export const handler: PluginHandler<RateLimitingConf> = {
  name: 'rate-limiting',
  priority: 910,
  version: '3.10.0',

  configure(config, _env, scope?: PluginScope): RateLimitingConf {
    const limits: Limit[] = [];
    PERIODS.forEach((period, i) => {
      const v = config[period];
      if (typeof v === 'number') limits.push({ period, code: i + 1, limit: v });
    });
    const policy = config.policy === 'redis' ? 'redis' : 'local';
    const syncRate = typeof config.sync_rate === 'number' ? config.sync_rate : -1;
    const redisConf = config.redis as RedisConf;
    const redis = policy === 'redis' ? redisConn(redisConf) : null;
    return {
      limits,
      expirations: limits.map((l) => EXPIRATION[l.period]),
      limitBy: LIMIT_BY[config.limit_by as keyof typeof LIMIT_BY] ?? LIMIT_BY.consumer,
      headerName: typeof config.header_name === 'string' ? config.header_name.toLowerCase() : '',
      path: typeof config.path === 'string' ? config.path : null,
      scope: `${scope?.routeId ?? EMPTY_UUID}:${scope?.serviceId ?? EMPTY_UUID}:`,
      hideClientHeaders: config.hide_client_headers === true,
      faultTolerant: config.fault_tolerant !== false,
      errorCode: typeof config.error_code === 'number' ? config.error_code : 429,
      errorMessage: typeof config.error_message === 'string' ? config.error_message : 'API rate limit exceeded',
      policy,
      redis,
      batch: policy === 'redis' && syncRate > 0 ? redisBatch(redisConf, syncRate) : null,
    };
  },

  access(ctx, conf) {
    const nowMs = Date.now();
    const id = identify(ctx, conf.limitBy, conf.headerName, conf.path);
    if (conf.policy === 'local') {
      const used: number[] = [];
      finish(ctx, conf, checkLocal(hashKey(conf.scope + id), conf.limits, nowMs, used), used, nowMs);
      return;
    }
    if (conf.batch !== null) {
      const used: number[] = [];
      const endsAt: number[] = [];
      const keys = redisKeys(conf, id, nowMs, endsAt);
      finish(ctx, conf, conf.batch.check(keys, conf.limits, conf.expirations, endsAt, used), used, nowMs);
      return;
    }
    return accessRedis(ctx, conf, id, nowMs);
  },
};
