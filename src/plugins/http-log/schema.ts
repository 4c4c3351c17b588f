/** Kong `kong/plugins/http-log/schema.lua` (3.x: the `queue` record; older keys as shorthands). */
import type { PluginSchema } from '../schema-types';
import { customFieldsByLua, refuseLua } from '../lib/log-schema';
import { queueField } from '../lib/queue-schema';
import { checkHttpUrl } from '../lib/http-url';
import { headerName } from '../../primary/config/typedefs';

export const schema: PluginSchema = {
  name: 'http-log',
  fields: {
    /** Where batches are sent; `user:pass@` becomes Basic authorization, as in Kong. */
    http_endpoint: { type: 'string', required: true, check: checkHttpUrl },
    method: { type: 'string', oneOf: ['POST', 'PUT', 'PATCH'], default: 'POST' },
    content_type: { type: 'string', oneOf: ['application/json', 'application/json; charset=utf-8'], default: 'application/json' },
    /** ms for the whole send. */
    timeout: { type: 'number', default: 10000 },
    /** ms an idle connection to the collector is kept. */
    keepalive: { type: 'number', default: 60000 },
    retry_count: { type: 'integer' },
    queue_size: { type: 'integer' },
    flush_timeout: { type: 'number' },
    headers: { type: 'map', keys: headerName, values: { type: 'string' } },
    queue: queueField,
    custom_fields_by_lua: customFieldsByLua,
  },
  check(config, report) {
    refuseLua(config, report);
    // Kong 3.x's shorthands for the pre-3.3 keys.
    const queue = config.queue as Record<string, unknown>;
    if (typeof config.queue_size === 'number') queue.max_batch_size = config.queue_size;
    if (typeof config.flush_timeout === 'number') queue.max_coalescing_delay = config.flush_timeout;
  },
};
