/** Kong 3.10 `kong/plugins/correlation-id/schema.lua`. */
import type { PluginSchema } from '../schema-types';

export const schema: PluginSchema = {
  name: 'correlation-id',
  protocols: ['http', 'https'],
  fields: {
    /** The header that carries the id, upstream and (echo_downstream) downstream. */
    header_name: { type: 'string', default: 'Kong-Request-ID' },
    /** `uuid`: a v4 UUID; `uuid#counter`: a per-worker UUID, `#`, a per-worker counter; `tracker`: address, port, pid, connection, request, time. */
    generator: { type: 'string', default: 'uuid#counter', oneOf: ['uuid', 'uuid#counter', 'tracker'] },
    /** Also send the id back to the client (on the gateway's own answers too). */
    echo_downstream: { type: 'boolean', default: false },
  },
};
