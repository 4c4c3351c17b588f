/** Kong 3.10 `kong/plugins/prometheus/schema.lua`: every per-request family is off by default. */
import type { PluginSchema } from '../schema-types';

export const schema: PluginSchema = {
  name: 'prometheus',
  fields: {
    /** Fill the `consumer` label of kong_http_requests_total and kong_bandwidth_bytes (username, else custom_id, else id). */
    per_consumer: { type: 'boolean', default: false },
    /** Export kong_http_requests_total{service,route,code,source,workspace,consumer}. */
    status_code_metrics: { type: 'boolean', default: false },
    /** Kong's AI Gateway metrics: accepted for compatibility; Hyperway has no AI proxy, so nothing is counted. */
    ai_metrics: { type: 'boolean', default: false },
    /** Export kong_kong_latency_ms, kong_upstream_latency_ms and kong_request_latency_ms. */
    latency_metrics: { type: 'boolean', default: false },
    /** Export kong_bandwidth_bytes{direction=ingress|egress}. */
    bandwidth_metrics: { type: 'boolean', default: false },
    /** Export kong_upstream_target_health (target health lives in the primary: issue 15's export). */
    upstream_health_metrics: { type: 'boolean', default: false },
  },
};
