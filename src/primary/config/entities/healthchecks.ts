/**
 * `upstreams[].healthchecks` (Kong `upstreams.lua` healthchecks_config): every default of
 * kong-reference section e is filled in, so the prober never guesses.
 */
import type { Field } from '../schema';
import * as t from '../typedefs';

const seconds = (d: number): Field => ({ type: 'number', between: [0, 65535], default: d });
const counter = (d: number): Field => ({ type: 'integer', between: [0, 255], default: d });
const statuses = (d: number[]): Field => ({
  type: 'array',
  elements: { type: 'integer', between: [100, 999] },
  default: d,
});
const checkType: Field = { type: 'string', oneOf: ['tcp', 'http', 'https', 'grpc', 'grpcs'], default: 'http' };

const PASSIVE_HEALTHY = [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308];

const ACTIVE_HINTS: Record<string, string> = {
  interval: 'unknown field: use active.healthy.interval and active.unhealthy.interval (seconds between probes of healthy and of unhealthy targets)',
  http_status: 'unknown field: use active.healthy.http_statuses (and active.unhealthy.http_statuses for the failure codes)',
  http_statuses: 'unknown field: use active.healthy.http_statuses and active.unhealthy.http_statuses',
  successes: 'unknown field: use active.healthy.successes',
  http_failures: 'unknown field: use active.unhealthy.http_failures',
  tcp_failures: 'unknown field: use active.unhealthy.tcp_failures',
  timeouts: 'unknown field: use active.unhealthy.timeouts',
};

const PASSIVE_HINTS: Record<string, string> = {
  interval: 'unknown field: passive checks have no interval (they watch proxied traffic); use active.healthy.interval / active.unhealthy.interval',
  http_status: 'unknown field: use passive.healthy.http_statuses',
  http_statuses: 'unknown field: use passive.healthy.http_statuses and passive.unhealthy.http_statuses',
  successes: 'unknown field: use passive.healthy.successes',
  http_failures: 'unknown field: use passive.unhealthy.http_failures',
  tcp_failures: 'unknown field: use passive.unhealthy.tcp_failures',
  timeouts: 'unknown field: use passive.unhealthy.timeouts',
};

const active: Field = {
  type: 'record',
  hints: ACTIVE_HINTS,
  fields: {
    type: checkType,
    timeout: seconds(1),
    concurrency: { type: 'integer', between: [1, 2 ** 31], default: 10 },
    http_path: { ...t.path, default: '/' },
    https_sni: t.sni,
    https_verify_certificate: { type: 'boolean', default: true },
    headers: { type: 'map', keys: { type: 'string' }, values: { type: 'array', elements: { type: 'string' } } },
    healthy: {
      type: 'record',
      fields: { interval: seconds(0), http_statuses: statuses([200, 302]), successes: counter(0) },
    },
    unhealthy: {
      type: 'record',
      fields: {
        interval: seconds(0),
        http_statuses: statuses([429, 404, 500, 501, 502, 503, 504, 505]),
        tcp_failures: counter(0),
        timeouts: counter(0),
        http_failures: counter(0),
      },
    },
  },
};

const passive: Field = {
  type: 'record',
  hints: PASSIVE_HINTS,
  fields: {
    type: checkType,
    healthy: { type: 'record', fields: { http_statuses: statuses(PASSIVE_HEALTHY), successes: counter(0) } },
    unhealthy: {
      type: 'record',
      fields: {
        http_statuses: statuses([429, 500, 503]),
        tcp_failures: counter(0),
        timeouts: counter(0),
        http_failures: counter(0),
      },
    },
  },
};

export const HEALTHCHECKS_FIELD: Field = {
  type: 'record',
  fields: { active, passive, threshold: { type: 'number', between: [0, 100], default: 0 } },
};
