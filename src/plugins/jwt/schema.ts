/**
 * Kong's `kong/plugins/jwt/schema.lua` (3.10): config keys, defaults and the entity check that a
 * maximum_expiration needs `exp` among the verified claims.
 */
import type { PluginSchema } from '../schema-types';

const names = (dflt: string[]) => ({ type: 'set' as const, elements: { type: 'string' as const }, default: dflt });

export const schema: PluginSchema = {
  name: 'jwt',
  noConsumer: true,
  fields: {
    /** Query string arguments a token is read from. */
    uri_param_names: names(['jwt']),
    /** Cookies a token is read from. */
    cookie_names: names([]),
    /** Request headers a `Bearer <token>` is read from. */
    header_names: names(['authorization']),
    /** The claim (or, failing that, the JOSE header field) naming the jwt_secrets `key`. */
    key_claim_name: { type: 'string', default: 'iss' },
    /** The credential's HMAC secret is base64 encoded. */
    secret_is_base64: { type: 'boolean', default: false },
    /** Registered claims checked against the clock on every request. */
    claims_to_verify: { type: 'set', elements: { type: 'string', oneOf: ['exp', 'nbf'] } },
    /** Consumer id or username to continue as when authentication fails. */
    anonymous: { type: 'string' },
    /** Authenticate OPTIONS requests too (false lets CORS preflights through). */
    run_on_preflight: { type: 'boolean', default: true },
    /** Seconds a token may still be valid for; 0 means no limit. */
    maximum_expiration: { type: 'number', default: 0, between: [0, 31536000] },
    /** Realm of the `WWW-Authenticate: Bearer` challenge. */
    realm: { type: 'string' },
  },
  check(config, report) {
    const max = config.maximum_expiration as number;
    const claims = config.claims_to_verify as string[] | null;
    if (max > 0 && !(claims ?? []).includes('exp')) {
      report(['claims_to_verify'], 'expected to contain: exp (maximum_expiration is greater than 0)');
    }
  },
};
