/**
 * `circuit-breaker`: Hyperway's own plugin (Kong OSS has none; seed 3 wrote a custom one). One
 * breaker per (plugin instance, service), shared by every worker of the node through shared
 * memory (shared/breaker-table.ts). Scoped to a service, a route, or global (then one breaker per
 * service); never to a consumer: a breaker protects a service, not a caller.
 */
import type { Field, PluginSchema } from '../schema-types';
import { MAX_THRESHOLD, MAX_TRIALS } from '../../shared/breaker-table';

/** Longest window and reset_timeout: a day (longer would only hide an outage). */
const MAX_SECONDS = 86_400;

const seconds = (dflt: number): Field => ({
  type: 'number',
  default: dflt,
  check: (v) => ((v as number) > 0 && (v as number) <= MAX_SECONDS ? null : `value must be greater than 0 and at most ${MAX_SECONDS}`),
});

/** Upstream statuses counted as failures by default: every 5xx the service itself answers. */
export const DEFAULT_FAILURE_STATUSES: readonly number[] = Array.from({ length: 100 }, (_, i) => 500 + i);

export const schema: PluginSchema = {
  name: 'circuit-breaker',
  noConsumer: true,
  protocols: ['http', 'https'],
  fields: {
    /** Failures within `window` seconds (counted by all workers together) that open the breaker. */
    failure_threshold: { type: 'integer', default: 5, between: [1, MAX_THRESHOLD] },
    /** Seconds a failure window lasts, from its first failure. */
    window: seconds(60),
    /** Seconds the breaker stays OPEN (answering 503) before it lets trial requests through. */
    reset_timeout: seconds(30),
    /** Trial requests let through in HALF_OPEN; all must succeed to close, one failure reopens. */
    half_open_requests: { type: 'integer', default: 1, between: [1, MAX_TRIALS] },
    /** Statuses answered by the service that count as failures (any other status is a success). */
    failure_statuses: {
      type: 'set',
      default: DEFAULT_FAILURE_STATUSES,
      lenMin: 0,
      elements: { type: 'integer', between: [100, 599] },
    },
    /** The gateway's own 502/503 when the upstream could not be reached (refused, reset, DNS) count as failures. */
    count_connect_errors: { type: 'boolean', default: true },
    /** The gateway's own 504 when the upstream timed out (connect, write or read) counts as a failure. */
    count_timeouts: { type: 'boolean', default: true },
  },
};
