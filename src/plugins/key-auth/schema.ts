/** Kong 3.10 `kong/plugins/key-auth/schema.lua`: same keys, defaults and header-name check. */
import * as t from '../../primary/config/typedefs';
import type { PluginSchema } from '../schema-types';

export const schema: PluginSchema = {
  name: 'key-auth',
  noConsumer: true,
  fields: {
    /** Header, query-string and body field names a key is looked for under, in this order of names. */
    key_names: { type: 'array', elements: t.headerName, default: ['apikey'] },
    /** Remove the key (header, query arg, body field) from what goes upstream. */
    hide_credentials: { type: 'boolean', default: false },
    /** Consumer id or username used when authentication fails (Kong's logical OR between auth plugins). */
    anonymous: { type: 'string' },
    key_in_header: { type: 'boolean', default: true },
    key_in_query: { type: 'boolean', default: true },
    /** Also look in form-urlencoded and JSON request bodies (the body is buffered). */
    key_in_body: { type: 'boolean', default: false },
    /** false: OPTIONS requests pass unauthenticated (CORS preflights). */
    run_on_preflight: { type: 'boolean', default: true },
    /** `WWW-Authenticate: Key realm="<realm>"` on 401s; plain `Key` when unset. */
    realm: { type: 'string' },
  },
};
