/**
 * policy: redis — counters in one Redis shared by every node, under Kong's key names
 * (`ratelimit:<route id>:<service id>:<identifier>:<window start ms>:<period>`, expiring after
 * Kong's EXPIRATION of the period).
 *
 * - One client per worker per Redis config (host, port, database, credentials, TLS, timeouts),
 *   kept across config reloads. It reconnects by itself; commands fail fast while it is down
 *   (no offline queue), so a dead Redis costs no request more than a refused connection.
 * - sync_rate ≤ 0: one round trip per request, a server-side script that increments every window
 *   of the request and undoes them when one is over (exact across nodes: Redis runs a script alone).
 * - sync_rate > 0: this worker counts locally over the last totals it read from Redis and sends its
 *   increments every sync_rate seconds (one script call for all keys), so requests do no Redis
 *   I/O; a key new to the worker is synced at once. Between two syncs each worker of each node may
 *   let through up to the limit minus the last total it read: the overshoot is what the other
 *   workers admitted since (at most one sync_rate interval of their traffic).
 */
import type Redis from 'ioredis';
import { ioredis } from '../../../lib/optional-packages';
import { log } from '../../../lib/log';
import type { Limit, Outcome } from './types';

export interface RedisConf {
  host: string;
  port: number;
  timeout: number;
  connect_timeout: number | null;
  send_timeout: number | null;
  read_timeout: number | null;
  username: string | null;
  password: string | null;
  database: number;
  ssl: boolean;
  ssl_verify: boolean;
  server_name: string | null;
}

// INCR every window; a new key gets Kong's expiry; if one is over its limit, undo all (a blocked
// request is not counted). Returns the counts after the increments, then 1 when blocked.
const CHECK_LUA = `
local n = #KEYS
local out = {}
local over = 0
for i = 1, n do
  local c = redis.call('INCR', KEYS[i])
  if c == 1 then redis.call('EXPIRE', KEYS[i], ARGV[n + i]) end
  out[i] = c
  if over == 0 and c > tonumber(ARGV[i]) then over = i end
end
if over > 0 then
  for i = 1, n do redis.call('DECR', KEYS[i]) end
end
out[n + 1] = over
return out`;

// Adds each key's batched delta (0 reads it) and returns the totals; keys without expiry get it.
const SYNC_LUA = `
local n = #KEYS
local out = {}
for i = 1, n do
  local c = redis.call('INCRBY', KEYS[i], ARGV[i])
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ARGV[n + i]) end
  out[i] = c
end
return out`;

// rate-limiting-advanced, sliding or fixed: KEYS are (current, previous) window keys per window;
// ARGV: limits, previous-window weights (0 for fixed), expirations, then 1 to undo when blocked.
// INCR the current windows, compute floor(previous × weight) + current, undo on block if asked.
const SLIDING_LUA = `
local n = #KEYS / 2
local out = {}
local over = 0
for i = 1, n do
  local cur = redis.call('INCR', KEYS[2 * i - 1])
  if cur == 1 then redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[2 * n + i]) end
  local prev = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local rate = math.floor(prev * tonumber(ARGV[n + i])) + cur
  out[i] = rate
  if over == 0 and rate > tonumber(ARGV[i]) then over = i end
end
if over > 0 and ARGV[3 * n + 1] == '1' then
  for i = 1, n do redis.call('DECR', KEYS[2 * i - 1]) end
end
out[n + 1] = over
return out`;

type ScriptClient = Redis & {
  hwSlidingCheck(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  hwRateLimitCheck(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  hwRateLimitSync(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

const ERROR_LOG_MS = 10_000;

/** One Redis connection of this worker. */
export class RedisConn {
  readonly client: ScriptClient;
  readonly #timeout: number;
  #everReady = false;
  /** A connection attempt failed: requests stop waiting for the first connect. */
  #failed = false;
  #lastErrorLog = 0;

  constructor(conf: RedisConf) {
    this.#timeout = conf.timeout > 0 ? conf.timeout : 2000;
    const client = new (ioredis())({
      host: conf.host,
      port: conf.port,
      db: conf.database,
      username: conf.username ?? undefined,
      password: conf.password ?? undefined,
      tls: conf.ssl ? { rejectUnauthorized: conf.ssl_verify, servername: conf.server_name ?? undefined } : undefined,
      connectTimeout: conf.connect_timeout ?? this.#timeout,
      commandTimeout: Math.max(conf.send_timeout ?? 0, conf.read_timeout ?? 0) || this.#timeout,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect for ever, backing off to one try per second: the worker never gives up on Redis.
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    }) as ScriptClient;
    client.defineCommand('hwRateLimitCheck', { lua: CHECK_LUA });
    client.defineCommand('hwRateLimitSync', { lua: SYNC_LUA });
    client.defineCommand('hwSlidingCheck', { lua: SLIDING_LUA });
    // An 'error' event without a listener would throw and take the worker with it.
    client.on('error', (err: Error) => {
      this.#failed = true;
      this.logError('redis connection error', err);
    });
    client.on('ready', () => {
      this.#everReady = true;
    });
    this.client = client;
  }

  /** Logs at most one error per interval (a dead Redis must not flood the log). */
  logError(msg: string, err: unknown): void {
    const now = Date.now();
    if (now - this.#lastErrorLog < ERROR_LOG_MS) return;
    this.#lastErrorLog = now;
    log('error', `rate-limiting: ${msg}`, { err: (err as Error)?.message ?? String(err) });
  }

  /**
   * Waits for the first connect (at most the timeout) so that a worker's first requests do not
   * fail for a Redis that is fine; once connected, or once an attempt failed, commands fail fast.
   */
  async ready(): Promise<void> {
    if (this.client.status === 'ready' || this.#everReady || this.#failed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.client.off('ready', done);
        this.client.off('error', done);
        resolve();
      };
      const timer = setTimeout(done, this.#timeout);
      this.client.once('ready', done);
      this.client.once('error', done);
    });
  }
}

const conns = new Map<string, RedisConn>();

export function redisConn(conf: RedisConf): RedisConn {
  const key = JSON.stringify(conf);
  let c = conns.get(key);
  if (c === undefined) {
    c = new RedisConn(conf);
    conns.set(key, c);
  }
  return c;
}

/** sync_rate ≤ 0: one script call. `used` receives the counts before this request. */
export async function checkRedis(conn: RedisConn, keys: readonly string[], limits: readonly Limit[], expirations: readonly number[], used: number[]): Promise<Outcome> {
  await conn.ready();
  const args: (string | number)[] = [...keys];
  for (const l of limits) args.push(l.limit);
  for (const e of expirations) args.push(e);
  const out = await conn.client.hwRateLimitCheck(keys.length, ...args);
  for (let i = 0; i < keys.length; i++) used[i] = Number(out[i]) - 1;
  return { stop: Number(out[keys.length]) - 1, known: true };
}

export interface BatchEntry {
  /** The total Redis returned at the last sync. */
  synced: number;
  /** Counted here and not yet sent. */
  pending: number;
  expire: number;
  /** ms after which the window is over and the entry can go. */
  endsAt: number;
}

/** sync_rate > 0: this worker's batched counters over one connection, synced every `rate` s. */
export class RedisBatch {
  readonly #conn: RedisConn;
  readonly #entries = new Map<string, BatchEntry>();
  #syncing = false;
  #soon = false;

  constructor(conn: RedisConn, rateS: number) {
    this.#conn = conn;
    const timer = setInterval(() => void this.sync(), Math.max(10, rateS * 1000));
    timer.unref();
  }

  /**
   * The entry of `key`, created when new (count 0 until a sync reads Redis). A new key is synced
   * at once (not in the request, on the next turn), so a worker learns the shared total within one
   * round trip rather than one sync_rate interval.
   */
  entry(key: string, expire: number, endsAt: number): BatchEntry {
    let e = this.#entries.get(key);
    if (e === undefined) {
      e = { synced: 0, pending: 0, expire, endsAt };
      this.#entries.set(key, e);
      if (!this.#soon) {
        this.#soon = true;
        setImmediate(() => {
          this.#soon = false;
          void this.sync();
        });
      }
    }
    return e;
  }

  /** Counts locally; `used` receives the counts before this request (last sync + local). */
  check(keys: readonly string[], limits: readonly Limit[], expirations: readonly number[], endsAt: readonly number[], used: number[]): Outcome {
    const entries: BatchEntry[] = [];
    let stop = -1;
    for (let i = 0; i < keys.length; i++) {
      const e = this.entry(keys[i], expirations[i], endsAt[i]);
      entries.push(e);
      used[i] = e.synced + e.pending;
      if (stop < 0 && used[i] + 1 > limits[i].limit) stop = i;
    }
    if (stop < 0) for (const e of entries) e.pending++;
    return { stop, known: true };
  }

  /** Sends every pending increment and reads every total back, in one round trip. */
  async sync(): Promise<void> {
    if (this.#syncing || this.#entries.size === 0) return;
    const now = Date.now();
    const keys: string[] = [];
    const sent: BatchEntry[] = [];
    const deltas: number[] = [];
    for (const [k, e] of this.#entries) {
      if (e.endsAt <= now && e.pending === 0) {
        this.#entries.delete(k);
        continue;
      }
      keys.push(k);
      sent.push(e);
      deltas.push(e.pending);
    }
    if (keys.length === 0) return;
    this.#syncing = true;
    try {
      const out = await this.#conn.client.hwRateLimitSync(keys.length, ...keys, ...deltas, ...sent.map((e) => e.expire));
      for (let i = 0; i < sent.length; i++) {
        sent[i].pending -= deltas[i];
        sent[i].synced = Number(out[i]);
      }
    } catch (err) {
      // Kept pending: sent at the next sync that reaches Redis.
      this.#conn.logError('cannot sync counters to redis', err);
    } finally {
      this.#syncing = false;
    }
  }
}

const batches = new Map<string, RedisBatch>();

export function redisBatch(conf: RedisConf, rateS: number): RedisBatch {
  const key = `${rateS}|${JSON.stringify(conf)}`;
  let b = batches.get(key);
  if (b === undefined) {
    b = new RedisBatch(redisConn(conf), rateS);
    batches.set(key, b);
  }
  return b;
}
