/**
 * Kong 3.10 `kong/plugins/rate-limiting/schema.lua` with the shared Redis record
 * (`kong/tools/redis/schema.lua`) and its deprecated flat `redis_*` shorthands.
 */
import * as t from '../../primary/config/typedefs';
import type { Field, PluginConfigReport, PluginSchema } from '../schema-types';
import { MAX_LOCAL_COUNT, PERIODS } from '../../shared/rate-limit-table';

const limit: Field = { type: 'number', check: (v) => ((v as number) > 0 ? null : 'value must be greater than 0') };

/** Kong's shared Redis record (the `redis:` field of rate-limiting, response-ratelimiting, …). */
export const redisRecord: Field = {
  type: 'record',
  fields: {
    host: t.host,
    port: { ...t.port, default: 6379 },
    /** ms; connect/send/read timeouts fall back to it. */
    timeout: { type: 'integer', between: [0, 2 ** 31 - 2], default: 2000 },
    connect_timeout: { type: 'integer', between: [0, 2 ** 31 - 2] },
    send_timeout: { type: 'integer', between: [0, 2 ** 31 - 2] },
    read_timeout: { type: 'integer', between: [0, 2 ** 31 - 2] },
    username: { type: 'string' },
    password: { type: 'string', lenMin: 0 },
    database: { type: 'integer', default: 0 },
    ssl: { type: 'boolean', default: false },
    ssl_verify: { type: 'boolean', default: false },
    server_name: t.sni,
  },
};

/** Kong's deprecated flat fields → the key of the `redis` record they fill. */
export const REDIS_SHORTHANDS: Readonly<Record<string, { key: string; field: Field }>> = {
  redis_host: { key: 'host', field: t.host },
  redis_port: { key: 'port', field: t.port },
  redis_password: { key: 'password', field: { type: 'string', lenMin: 0 } },
  redis_username: { key: 'username', field: { type: 'string' } },
  redis_ssl: { key: 'ssl', field: { type: 'boolean' } },
  redis_ssl_verify: { key: 'ssl_verify', field: { type: 'boolean' } },
  redis_server_name: { key: 'server_name', field: t.sni },
  redis_timeout: { key: 'timeout', field: { type: 'integer', between: [0, 2 ** 31 - 2] } },
  redis_database: { key: 'database', field: { type: 'integer' } },
};

/** Moves the flat `redis_*` values into `config.redis` (Kong's shorthand_fields), in place. */
export function applyRedisShorthands(config: Record<string, unknown>): void {
  const redis = (config.redis ?? {}) as Record<string, unknown>;
  for (const [flat, { key }] of Object.entries(REDIS_SHORTHANDS)) {
    const v = config[flat];
    delete config[flat];
    if (v !== null && v !== undefined) redis[key] = v;
  }
  config.redis = redis;
}

const fmt1 = (n: number): string => n.toFixed(1);

export const schema: PluginSchema = {
  name: 'rate-limiting',
  protocols: ['grpc', 'grpcs', 'http', 'https'],
  fields: {
    /** Requests allowed per calendar second / minute / hour / day / month / year. */
    second: limit,
    minute: limit,
    hour: limit,
    day: limit,
    month: limit,
    year: limit,
    /** Whose requests are counted together; without one (no consumer …) the client IP. */
    limit_by: {
      type: 'string',
      default: 'consumer',
      oneOf: ['consumer', 'credential', 'ip', 'service', 'header', 'path', 'consumer-group'],
    },
    /** limit_by header: the header whose value identifies the client. */
    header_name: t.headerName,
    /** limit_by path: only requests to exactly this path are counted together. */
    path: t.path,
    /** local: this node's shared memory; redis: one Redis for all nodes; cluster: Kong's database. */
    policy: { type: 'string', default: 'local', lenMin: 0, oneOf: ['local', 'cluster', 'redis'] },
    /** Let requests through when the counters cannot be reached (Redis down). */
    fault_tolerant: { type: 'boolean', default: true },
    redis: redisRecord,
    hide_client_headers: { type: 'boolean', default: false },
    error_code: { type: 'number', default: 429, check: (v) => ((v as number) > 0 ? null : 'value must be greater than 0') },
    error_message: { type: 'string', default: 'API rate limit exceeded' },
    /** redis: -1 (or ≤ 0) counts synchronously; > 0 counts locally and syncs every sync_rate seconds. */
    sync_rate: { type: 'number', default: -1 },
    ...Object.fromEntries(Object.entries(REDIS_SHORTHANDS).map(([k, v]) => [k, v.field])),
  },
  check(config, report) {
    applyRedisShorthands(config);
    checkConfig(config, report);
  },
};

function checkConfig(config: Record<string, unknown>, report: PluginConfigReport): void {
  const set = PERIODS.filter((p) => typeof config[p] === 'number');
  if (set.length === 0) {
    report([], `at least one of these fields must be non-empty: ${PERIODS.map((p) => `'config.${p}'`).join(', ')}`);
  }
  // Kong's custom_validator: a longer window may not have a lower limit.
  for (let i = 0; i < PERIODS.length; i++) {
    const v1 = config[PERIODS[i]];
    if (typeof v1 !== 'number') continue;
    for (let j = i + 1; j < PERIODS.length; j++) {
      const v2 = config[PERIODS[j]];
      if (typeof v2 === 'number' && v2 < v1) {
        report([], `The limit for ${PERIODS[j]}(${fmt1(v2)}) cannot be lower than the limit for ${PERIODS[i]}(${fmt1(v1)})`);
        return;
      }
    }
  }
  if (config.policy === 'cluster') {
    report(['policy'], "'cluster' counts in Kong's database, which DB-less mode (and Hyperway) does not have: use 'redis' to share counters between nodes, or 'local'");
  }
  if (config.policy === 'local') {
    for (const p of set) {
      if ((config[p] as number) > MAX_LOCAL_COUNT) report([p], `policy 'local' counts up to ${MAX_LOCAL_COUNT} per window: use policy 'redis' for higher limits`);
    }
  }
  if (config.limit_by === 'consumer-group') {
    report(['limit_by'], "'consumer-group' needs consumer groups, which Hyperway does not have: use 'consumer', 'credential', 'ip', 'service', 'header' or 'path'");
  }
  const redis = config.redis as Record<string, unknown>;
  if (config.policy === 'redis') {
    for (const k of ['host', 'port', 'timeout']) {
      if (redis[k] === null || redis[k] === undefined) report(['redis', k], 'required field missing');
    }
  }
  if (config.limit_by === 'header' && (config.header_name === null || config.header_name === undefined)) {
    report(['header_name'], 'required field missing');
  }
  if (config.limit_by === 'path' && (config.path === null || config.path === undefined)) {
    report(['path'], 'required field missing');
  }
}
