/** Kong 3.10 `kong/plugins/request-size-limiting/schema.lua`. */
import type { PluginSchema } from '../schema-types';

export const schema: PluginSchema = {
  name: 'request-size-limiting',
  protocols: ['http', 'https'],
  fields: {
    /** The largest body allowed, in `size_unit`s. */
    allowed_payload_size: { type: 'integer', default: 128 },
    /** megabytes (2^20 bytes), kilobytes (2^10) or bytes. */
    size_unit: { type: 'string', default: 'megabytes', oneOf: ['megabytes', 'kilobytes', 'bytes'] },
    /** Reject a request that declares no Content-Length (411), unless its body is chunked. */
    require_content_length: { type: 'boolean', default: false },
  },
};
