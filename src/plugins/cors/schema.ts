/** Kong 3.10 `kong/plugins/cors/schema.lua`. */
import type { PluginSchema } from '../schema-types';

export const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

/**
 * Kong's `validate_asterisk_or_regex`: every origin is `*` or compiles as a regex (a flat origin
 * like `https://example.com` is one). Kong compiles PCRE; Hyperway runs JS regexes, so an entry
 * is checked by the engine that will run it.
 */
function checkOrigin(v: unknown): string | null {
  if (v === '*') return null;
  try {
    new RegExp(v as string);
    return null;
  } catch {
    return `'${String(v)}' is not a valid regex`;
  }
}

export const schema: PluginSchema = {
  name: 'cors',
  noConsumer: true,
  protocols: ['http', 'https'],
  fields: {
    /** Allowed origins: `*`, flat `scheme://host[:port]` values, or regexes (anchored; no `:` → host only). */
    origins: { type: 'array', elements: { type: 'string', check: checkOrigin } },
    /** Access-Control-Allow-Headers; empty → the preflight's Access-Control-Request-Headers echoed. */
    headers: { type: 'array', elements: { type: 'string' } },
    /** Access-Control-Expose-Headers; empty → none. */
    exposed_headers: { type: 'array', elements: { type: 'string' } },
    /** Access-Control-Allow-Methods. */
    methods: { type: 'array', default: [...CORS_METHODS], elements: { type: 'string', oneOf: CORS_METHODS } },
    /** Access-Control-Max-Age, in seconds. */
    max_age: { type: 'number' },
    /** Send Access-Control-Allow-Credentials: true. */
    credentials: { type: 'boolean', default: false },
    /** Send Access-Control-Allow-Private-Network: true when the preflight asks for it. */
    private_network: { type: 'boolean', default: false },
    /** Proxy the OPTIONS preflight to the upstream instead of answering it. */
    preflight_continue: { type: 'boolean', default: false },
    /** Add the CORS headers to responses whose request had no Origin header. */
    allow_origin_absent: { type: 'boolean', default: true },
  },
};
