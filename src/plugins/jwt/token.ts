/**
 * Strict decoding of an untrusted compact JWS before any key is looked up (Kong's
 * `jwt_parser.lua decode_token`, with its error texts). Only the header and the claims are read
 * here; the signature is checked by jose once the credential is known.
 */

/** Kong 3.10's `alg_verify` table: anything else is `invalid alg`. */
export const JWT_ALGORITHMS: ReadonlySet<string> = new Set([
  'HS256', 'HS384', 'HS512',
  'RS256', 'RS384', 'RS512',
  'ES256', 'ES384', 'ES512',
  'PS256', 'PS384', 'PS512',
  'EdDSA',
]);

/**
 * Longest token decoded. Kong never sees more: nginx's 8k header and request-line buffers cut
 * it off first. It also bounds the JSON parsed per request and the verified-token cache.
 */
export const MAX_TOKEN_LENGTH = 8192;

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  alg: string;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** base64url without padding (RFC 7515 §2): no `+`, `/`, `=` or whitespace. */
function isBase64Url(s: string): boolean {
  return s.length % 4 !== 1 && BASE64URL.test(s);
}

/** A JSON object (never an array, null or scalar), or null. */
function jsonObject(seg: string): Record<string, unknown> | null {
  if (!isBase64Url(seg)) return null;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The decoded token, or the reason Kong gives after `Bad token; `. */
export function decodeToken(token: string): DecodedJwt | string {
  if (token.length > MAX_TOKEN_LENGTH) return 'too large';
  const dot1 = token.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
  // Kong's tokenize: fewer than three parts fail JSON decoding; extra dots end up in the signature.
  if (dot2 < 0) return 'invalid JSON';
  const header = jsonObject(token.slice(0, dot1));
  const claims = header && jsonObject(token.slice(dot1 + 1, dot2));
  if (header === null || claims === null) return 'invalid JSON';
  const alg = Object.hasOwn(header, 'alg') ? header.alg : undefined;
  if (typeof alg !== 'string' || !JWT_ALGORITHMS.has(alg)) return 'invalid alg';
  if (!isBase64Url(token.slice(dot2 + 1))) return 'invalid signature';
  return { header, claims, alg };
}
