/**
 * Kong 3.10 `kong/plugins/opentelemetry/schema.lua`: `traces_endpoint` (`endpoint` is its
 * shorthand), the 3.x `queue` record (`batch_span_count` / `batch_flush_delay` are the
 * deprecated keys folded into it), `header_type` and the 3.7+ `propagation` record.
 */
import type { Field, PluginSchema } from '../schema-types';
import { queueField } from '../lib/queue-schema';
import { checkHttpUrl } from '../lib/http-url';
import { headerName, timeout } from '../../primary/config/typedefs';

const url: Field = { type: 'string', check: checkHttpUrl };

/** Kong's `typedefs.queue { default = { max_batch_size = 200 } }`. */
const queue: Field = {
  ...queueField,
  fields: { ...queueField.fields, max_batch_size: { ...(queueField.fields as Record<string, Field>).max_batch_size, default: 200 } },
};

const EXTRACT = ['w3c', 'datadog', 'b3', 'jaeger', 'ot', 'aws', 'gcp', 'instana'] as const;
const INJECT = ['preserve', 'w3c', 'datadog', 'b3', 'b3-single', 'jaeger', 'ot', 'aws', 'gcp', 'instana'] as const;

export const HEADER_TYPES = ['preserve', 'ignore', 'b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'gcp', 'datadog'] as const;

export const schema: PluginSchema = {
  name: 'opentelemetry',
  protocols: ['http', 'https'],
  fields: {
    /** OTLP/HTTP traces endpoint (a collector's /v1/traces); spans go there as protobuf. */
    traces_endpoint: url,
    /** Kong 3.8+ log records over OTLP: accepted, not exported by Hyperway (README). */
    logs_endpoint: url,
    /** Deprecated name of traces_endpoint (Kong's shorthand). */
    endpoint: url,
    /** Extra headers on every export request (an APM's token). */
    headers: { type: 'map', keys: headerName, values: { type: 'string' } },
    /** Added to the Resource of every export; service.name defaults to `kong`. */
    resource_attributes: { type: 'map', keys: { type: 'string' }, values: { type: 'string' } },
    queue,
    /** Deprecated: queue.max_batch_size. */
    batch_span_count: { type: 'integer' },
    /** Deprecated: queue.max_coalescing_delay (seconds). */
    batch_flush_delay: { type: 'integer' },
    connect_timeout: { ...timeout, default: 1000 },
    send_timeout: { ...timeout, default: 5000 },
    read_timeout: { ...timeout, default: 5000 },
    /** A response header that carries the trace id back to the client. */
    http_response_header_for_traceid: { type: 'string' },
    /** Deprecated in 3.7 for `propagation`; which formats are honoured: README. */
    header_type: { type: 'string', oneOf: HEADER_TYPES, default: 'preserve' },
    /** Share of new traces recorded, 0..1; unset: every trace (README). An incoming unsampled flag wins. */
    sampling_rate: { type: 'number', between: [0, 1] },
    propagation: {
      type: 'record',
      fields: {
        extract: { type: 'array', elements: { type: 'string', oneOf: EXTRACT } },
        clear: { type: 'array', elements: { type: 'string' } },
        inject: { type: 'array', elements: { type: 'string', oneOf: INJECT } },
        default_format: { type: 'string', oneOf: INJECT.filter((f) => f !== 'preserve'), default: 'w3c' },
      },
    },
  },
  check(config, report) {
    if (typeof config.endpoint === 'string' && config.traces_endpoint == null) config.traces_endpoint = config.endpoint;
    if (config.traces_endpoint == null && config.logs_endpoint == null) report([], 'at least one of these fields must be non-empty: \'traces_endpoint\', \'logs_endpoint\'');
    const q = config.queue as Record<string, unknown>;
    if (typeof config.batch_span_count === 'number') q.max_batch_size = config.batch_span_count;
    if (typeof config.batch_flush_delay === 'number') q.max_coalescing_delay = config.batch_flush_delay;
  },
};
