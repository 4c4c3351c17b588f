/**
 * Kong Enterprise's rate-limiting-advanced: several windows of any size, sliding (the weighted
 * two-window counter, ./sliding-window.ts) or fixed, per identifier and namespace.
 *
 * Counters: strategy local, or redis with sync_rate -1, in this node's shared table
 * (shared/rate-limit-table.ts, exact across workers); redis with sync_rate 0 (or none) one script
 * per request; redis with sync_rate > 0 counted per worker and synced in batches. Redis errors let
 * the request through (Enterprise has no fault_tolerant switch) with one logged error per interval.
 * Redis settings: the plugin's, then HYPERWAY_REDIS_HOST / _PORT / _PASSWORD, then 127.0.0.1:6379.
 */
import type { PluginContext, PluginHandler, PluginScope } from '../types';
import { hashKey } from '../../shared/rate-limit-table';
import { localTable } from '../rate-limiting/policies/local';
import { identify, LIMIT_BY } from '../rate-limiting/identifier';
import { redisBatch, redisConn, type RedisBatch, type RedisConf, type RedisConn } from '../rate-limiting/policies/redis';
import { previousWeight, secondsToWindowEnd, slidingRate, windowIndexOf } from './sliding-window';
import { log } from '../../lib/log';

/** Kong Enterprise names a window by its length when it is a calendar unit. */
const HUMAN: Readonly<Record<number, string>> = { 1: 'Second', 60: 'Minute', 3600: 'Hour', 86400: 'Day', 2592000: 'Month', 31536000: 'Year' };

interface Window {
  size: number;
  limit: number;
  limitHeader: string;
  remainingHeader: string;
}

export interface RateLimitingAdvancedConf {
  windows: Window[];
  sliding: boolean;
  /** Denied requests count (sliding windows, disable_penalty false). */
  penalty: boolean;
  limitBy: number;
  headerName: string;
  path: string | null;
  namespace: string;
  hideClientHeaders: boolean;
  jitterMax: number;
  errorCode: number;
  errorMessage: string;
  redis: RedisConn | null;
  batch: RedisBatch | null;
}

/** rates[i]: the window's rate including this request (-1: unknown, not counted). */
function finish(ctx: PluginContext, conf: RateLimitingAdvancedConf, rates: readonly number[], stop: number, undone: boolean, nowMs: number): void {
  const ws = conf.windows;
  let reset = 0;
  if (!conf.hideClientHeaders) {
    let best = -1;
    let bestRemaining = 0;
    for (let i = 0; i < ws.length; i++) {
      if (rates[i] < 0) continue;
      const w = ws[i];
      let remaining = i === stop ? 0 : w.limit - rates[i] + (stop >= 0 && undone ? 1 : 0);
      if (remaining < 0) remaining = 0;
      if (best < 0 || remaining < bestRemaining || (remaining === bestRemaining && w.size > ws[best].size)) {
        best = i;
        bestRemaining = remaining;
      }
      ctx.setResponseHeader(w.limitHeader, String(w.limit));
      ctx.setResponseHeader(w.remainingHeader, String(remaining));
    }
    if (best >= 0) {
      reset = secondsToWindowEnd(ws[best].size, nowMs);
      ctx.setResponseHeader('RateLimit-Limit', String(ws[best].limit));
      ctx.setResponseHeader('RateLimit-Remaining', String(bestRemaining));
      ctx.setResponseHeader('RateLimit-Reset', String(reset));
    }
  }
  if (stop >= 0) {
    let headers: Record<string, string> | null = null;
    if (!conf.hideClientHeaders) {
      const after = secondsToWindowEnd(ws[stop].size, nowMs) + (conf.jitterMax > 0 ? Math.floor(Math.random() * (conf.jitterMax + 1)) : 0);
      headers = { 'Retry-After': String(after) };
    }
    ctx.error(conf.errorCode, conf.errorMessage, headers);
  }
}

function accessLocal(ctx: PluginContext, conf: RateLimitingAdvancedConf, id: string, nowMs: number): void {
  const t = localTable();
  if (t === null) return;
  const base = hashKey(`${conf.namespace}:${id}`);
  const ws = conf.windows;
  const rates: number[] = [];
  let stop = -1;
  for (let i = 0; i < ws.length; i++) {
    const { size, limit } = ws[i];
    const idx = windowIndexOf(size, nowMs);
    const cur = t.addWindow(base, size, idx, nowMs, 1);
    if (cur < 0) {
      rates.push(-1);
      continue;
    }
    const rate = conf.sliding ? slidingRate(t.countWindow(base, size, idx - 1), cur, size, nowMs) : cur;
    rates.push(rate);
    if (stop < 0 && rate > limit) stop = i;
  }
  const undo = stop >= 0 && !conf.penalty;
  if (undo) {
    for (let i = 0; i < ws.length; i++) {
      if (rates[i] >= 0) t.addWindow(base, ws[i].size, windowIndexOf(ws[i].size, nowMs), nowMs, -1);
    }
  }
  finish(ctx, conf, rates, stop, undo, nowMs);
}

const keyOf = (conf: RateLimitingAdvancedConf, id: string, size: number, idx: number): string =>
  `ratelimit-advanced:${conf.namespace}:${id}:${size}:${idx * size}`;

async function accessRedis(ctx: PluginContext, conf: RateLimitingAdvancedConf, id: string, nowMs: number): Promise<void> {
  const ws = conf.windows;
  const keys: string[] = [];
  const args: (string | number)[] = [];
  for (const w of ws) {
    const idx = windowIndexOf(w.size, nowMs);
    keys.push(keyOf(conf, id, w.size, idx), keyOf(conf, id, w.size, idx - 1));
  }
  for (const w of ws) args.push(w.limit);
  for (const w of ws) args.push(conf.sliding ? previousWeight(w.size, nowMs) : 0);
  for (const w of ws) args.push(2 * w.size);
  args.push(conf.penalty ? 0 : 1);
  let out: number[];
  try {
    await conf.redis!.ready();
    out = await conf.redis!.client.hwSlidingCheck(keys.length, ...keys, ...args);
  } catch (err) {
    conf.redis!.logError('rate-limiting-advanced: failed to reach redis; request let through', err);
    return;
  }
  finish(ctx, conf, out.slice(0, ws.length).map(Number), Number(out[ws.length]) - 1, !conf.penalty, nowMs);
}

function accessBatch(ctx: PluginContext, conf: RateLimitingAdvancedConf, id: string, nowMs: number): void {
  const ws = conf.windows;
  const batch = conf.batch!;
  const rates: number[] = [];
  const current = [];
  let stop = -1;
  for (let i = 0; i < ws.length; i++) {
    const { size, limit } = ws[i];
    const idx = windowIndexOf(size, nowMs);
    const endsAt = (idx + 1) * size * 1000;
    const cur = batch.entry(keyOf(conf, id, size, idx), 2 * size, endsAt + size * 1000);
    // The previous window is tracked too, so the next sync reads its total.
    const prev = conf.sliding ? batch.entry(keyOf(conf, id, size, idx - 1), 2 * size, endsAt) : null;
    const count = cur.synced + cur.pending + 1;
    const rate = prev === null ? count : slidingRate(prev.synced + prev.pending, count, size, nowMs);
    current.push(cur);
    rates.push(rate);
    if (stop < 0 && rate > limit) stop = i;
  }
  const count = stop < 0 || conf.penalty;
  if (count) for (const e of current) e.pending++;
  finish(ctx, conf, rates, stop, !count, nowMs);
}

function redisSettings(config: Record<string, unknown>): RedisConf {
  const r = { ...(config.redis as RedisConf) };
  const env = process.env;
  r.host = r.host ?? env.HYPERWAY_REDIS_HOST ?? '127.0.0.1';
  r.port = r.port ?? (Number(env.HYPERWAY_REDIS_PORT) || 6379);
  r.password = r.password ?? env.HYPERWAY_REDIS_PASSWORD ?? null;
  return r;
}

export const handler: PluginHandler<RateLimitingAdvancedConf> = {
  name: 'rate-limiting-advanced',
  priority: 910,
  version: '3.10.0',

  configure(config, _env, scope?: PluginScope): RateLimitingAdvancedConf {
    const limits = config.limit as number[];
    const sizes = config.window_size as number[];
    const windows = sizes.map((size, i) => {
      const name = HUMAN[size] ?? String(size);
      return { size, limit: limits[i], limitHeader: `X-RateLimit-Limit-${name}`, remainingHeader: `X-RateLimit-Remaining-${name}` };
    });
    const syncRate = typeof config.sync_rate === 'number' ? config.sync_rate : 0;
    const redis = config.strategy === 'redis' && syncRate !== -1;
    const sliding = config.window_type !== 'fixed';
    if (redis && config.redis && (config.redis as RedisConf).host === null && process.env.HYPERWAY_REDIS_HOST === undefined) {
      log('notice', 'rate-limiting-advanced: no redis host configured; using 127.0.0.1', { plugin: scope?.id });
    }
    const redisConf = redis ? redisSettings(config) : null;
    return {
      windows,
      sliding,
      penalty: sliding && config.disable_penalty !== true,
      limitBy: LIMIT_BY[config.identifier as keyof typeof LIMIT_BY] ?? LIMIT_BY.consumer,
      headerName: typeof config.header_name === 'string' ? config.header_name.toLowerCase() : '',
      path: typeof config.path === 'string' ? config.path : null,
      namespace: typeof config.namespace === 'string' ? config.namespace : scope?.id ?? 'default',
      hideClientHeaders: config.hide_client_headers === true,
      jitterMax: typeof config.retry_after_jitter_max === 'number' ? config.retry_after_jitter_max : 0,
      errorCode: typeof config.error_code === 'number' ? config.error_code : 429,
      errorMessage: typeof config.error_message === 'string' ? config.error_message : 'API rate limit exceeded',
      redis: redisConf && syncRate <= 0 ? redisConn(redisConf) : null,
      batch: redisConf && syncRate > 0 ? redisBatch(redisConf, syncRate) : null,
    };
  },

  access(ctx, conf) {
    const nowMs = Date.now();
    const id = identify(ctx, conf.limitBy, conf.headerName, conf.path);
    if (conf.redis !== null) return accessRedis(ctx, conf, id, nowMs);
    if (conf.batch !== null) return accessBatch(ctx, conf, id, nowMs);
    accessLocal(ctx, conf, id, nowMs);
  },
};
