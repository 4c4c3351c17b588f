/** Kong 3.10 `kong/plugins/basic-auth/schema.lua`. */
import type { PluginSchema } from '../schema-types';

export const schema: PluginSchema = {
  name: 'basic-auth',
  noConsumer: true,
  fields: {
    /** Consumer id or username used when authentication fails (Kong's logical OR between auth plugins). */
    anonymous: { type: 'string' },
    /** Remove the Authorization / Proxy-Authorization header that was read from what goes upstream. */
    hide_credentials: { type: 'boolean', default: false },
    /** `WWW-Authenticate: Basic realm="<realm>"` on 401s. */
    realm: { type: 'string', default: 'service' },
  },
};
