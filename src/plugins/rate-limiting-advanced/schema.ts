/**
 * Kong Enterprise's rate-limiting-advanced (3.10), the fields Hyperway implements: several windows
 * of any size at once, sliding or fixed, counted in this node's shared memory or in Redis.
 */
import * as t from '../../primary/config/typedefs';
import type { Field, PluginSchema } from '../schema-types';
import { MAX_LOCAL_COUNT } from '../../shared/rate-limit-table';
import { redisRecord } from '../rate-limiting/schema';

const positive = (v: unknown): string | null => ((v as number) > 0 ? null : 'value must be greater than 0');

/**
 * The Redis record without defaults for host and port: unset, they come from the environment
 * (HYPERWAY_REDIS_HOST, HYPERWAY_REDIS_PORT), then 127.0.0.1:6379 (see the handler).
 */
const redis: Field = {
  ...redisRecord,
  fields: { ...redisRecord.fields, port: t.port },
};

export const schema: PluginSchema = {
  name: 'rate-limiting-advanced',
  protocols: ['grpc', 'grpcs', 'http', 'https'],
  fields: {
    /** Requests allowed per window, one per entry of window_size. */
    limit: { type: 'array', required: true, lenMin: 1, elements: { type: 'number', check: positive } },
    /** Window lengths in seconds. */
    window_size: {
      type: 'array',
      required: true,
      lenMin: 1,
      elements: { type: 'number', check: (v) => (Number.isInteger(v) && (v as number) >= 1 ? null : 'window sizes are whole seconds, at least 1') },
    },
    /** sliding: the weighted two-window estimate; fixed: windows aligned on multiples of their size. */
    window_type: { type: 'string', default: 'sliding', oneOf: ['fixed', 'sliding'] },
    identifier: { type: 'string', default: 'consumer', oneOf: ['consumer', 'credential', 'ip', 'service', 'header', 'path', 'consumer-group'] },
    header_name: t.headerName,
    path: t.path,
    /** Instances with one namespace share their counters (none: the plugin's id). */
    namespace: { type: 'string' },
    strategy: { type: 'string', default: 'local', oneOf: ['cluster', 'redis', 'local'] },
    /** redis: 0 (or none) synchronous; > 0 batched every sync_rate s; -1 this node's memory only. */
    sync_rate: { type: 'number' },
    /** Accepted for Kong compatibility: the counters are in Hyperway's shared table. */
    dictionary_name: { type: 'string', default: 'kong_rate_limiting_counters' },
    lock_dictionary_name: { type: 'string', default: 'kong_locks' },
    redis,
    hide_client_headers: { type: 'boolean', default: false },
    /** Adds 0 … this many seconds (random) to Retry-After, so blocked clients do not return at once. */
    retry_after_jitter_max: { type: 'number', default: 0 },
    error_code: { type: 'number', default: 429, check: positive },
    error_message: { type: 'string', default: 'API rate limit exceeded' },
    /** sliding: false counts denied requests too (Kong Enterprise's penalty); true does not. */
    disable_penalty: { type: 'boolean', default: false },
    enforce_consumer_groups: { type: 'boolean', default: false },
    consumer_groups: { type: 'array', elements: { type: 'string' } },
  },
  check(config, report) {
    const limits = config.limit as number[];
    const sizes = config.window_size as number[];
    if (limits.length !== sizes.length) report([], 'You must provide the same number of windows and limits');
    if (new Set(sizes).size !== sizes.length) report(['window_size'], 'window sizes must differ');
    if (config.strategy === 'cluster') {
      report(['strategy'], "'cluster' counts in Kong's database, which DB-less mode (and Hyperway) does not have: use 'redis' to share counters between nodes, or 'local'");
    }
    const memory = config.strategy === 'local' || config.sync_rate === -1;
    if (memory) {
      limits.forEach((l, i) => {
        if (l > MAX_LOCAL_COUNT) report(['limit', i], `counters in this node's memory go up to ${MAX_LOCAL_COUNT} per window: use strategy 'redis' with sync_rate ≥ 0 for higher limits`);
      });
    }
    if (typeof config.sync_rate === 'number' && config.sync_rate !== -1 && config.sync_rate < 0) {
      report(['sync_rate'], 'expected -1 (this node only), 0 (synchronous) or a number of seconds');
    }
    if (config.identifier === 'consumer-group' || config.enforce_consumer_groups === true) {
      report([config.identifier === 'consumer-group' ? 'identifier' : 'enforce_consumer_groups'], 'consumer groups do not exist in Hyperway');
    }
    if (config.identifier === 'header' && (config.header_name === null || config.header_name === undefined)) report(['header_name'], 'required field missing');
    if (config.identifier === 'path' && (config.path === null || config.path === undefined)) report(['path'], 'required field missing');
    if ((config.retry_after_jitter_max as number) < 0) report(['retry_after_jitter_max'], 'value must be at least 0');
  },
};
