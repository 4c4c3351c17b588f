/**
 * Kong's jwt plugin (`kong/plugins/jwt/handler.lua`, 3.10): a token from the query string, a
 * cookie or a `Bearer` header names a jwt_secrets credential by its `key_claim_name`; its
 * signature is verified with jose, the registered claims against the clock.
 *
 * Verified tokens are remembered per worker (bounded LRU keyed by the token string), so a
 * repeated token costs a map lookup and the claim checks, synchronously; only a cache miss
 * that reaches signature verification makes `access` asynchronous.
 */
import { createPublicKey } from 'node:crypto';
import type { CryptoKey, VerifyOptions } from 'jose';
import { jose } from '../../lib/optional-packages';
import type { ConsumerSnap } from '../../shared/snapshot';
import type { JwtCredential } from '../env';
import type { CredentialRef, PluginContext, PluginEnv, PluginHandler } from '../types';
import { decodeToken, JWT_ALGORITHMS } from './token';

interface Failure {
  body: object;
  headers: Record<string, string>;
}

export interface JwtConf {
  env: PluginEnv;
  uriParamNames: ReadonlySet<string>;
  /** Lowercase: nginx matches cookie names case-insensitively. */
  cookieNames: readonly string[];
  /** Lowercase. */
  headerNames: readonly string[];
  keyClaimName: string;
  secretIsBase64: boolean;
  claimsToVerify: readonly string[];
  maximumExpiration: number;
  runOnPreflight: boolean;
  anonymous: string | null;
  /** The anonymous consumer of this snapshot, or null when absent (a 500 per request, as Kong). */
  anonymousConsumer: ConsumerSnap | null;
  /** `WWW-Authenticate` for a failure with a token (`error="invalid_token"`). */
  invalidTokenHeaders: Record<string, string>;
  unauthorized: Failure;
  multiple: Failure;
  unrecognizable: Failure;
  noMandatoryClaim: Failure;
  invalidClaim: Failure;
  noCredentials: Failure;
  invalidAlgorithm: Failure;
  invalidSecret: Failure;
  invalidSignature: Failure;
}

// ---- the verified-token cache ----------------------------------------------------------------

interface Verified {
  /** What the verification depended on besides the token: a hit MUST match all three. */
  env: PluginEnv;
  keyClaimName: string;
  secretIsBase64: boolean;
  cred: JwtCredential;
  ref: CredentialRef;
  /** The raw claim values (undefined when absent), checked against the clock on every hit. */
  exp: unknown;
  nbf: unknown;
}

const CACHE_MAX_ENTRIES = 4096;
/** Bounds the memory held by the tokens themselves (ASCII: one byte per char). */
const CACHE_MAX_CHARS = 4 * 1024 * 1024;
/**
 * Map keys are a token's last chars (its signature's): V8 hashes a fresh 500-char string key in
 * microseconds, a 32-char one in tens of nanoseconds. A hit MUST then equal the whole token;
 * two tokens sharing a tail just take turns in one slot (a miss, never a false hit).
 */
const FINGERPRINT_CHARS = 32;

interface Slot {
  token: string;
  v: Verified;
  /** The clock at the slot's last (re)insertion: how far it is from the Map's end. */
  stamp: number;
}

/**
 * An LRU in Map order: eviction takes from the front. A hit re-inserts its slot at the end only
 * once it has drifted into the older half, so a hot token is never evicted and most hits cost
 * one lookup, no delete and set.
 */
class TokenCache {
  readonly #map = new Map<string, Slot>();
  #chars = 0;
  #clock = 0;

  get(token: string): Verified | undefined {
    const fp = token.length > FINGERPRINT_CHARS ? token.slice(-FINGERPRINT_CHARS) : token;
    const slot = this.#map.get(fp);
    if (slot === undefined || slot.token !== token) return undefined;
    if (this.#clock - slot.stamp > CACHE_MAX_ENTRIES / 2) {
      this.#map.delete(fp);
      this.#map.set(fp, slot);
      slot.stamp = ++this.#clock;
    }
    return slot.v;
  }

  set(token: string, v: Verified): void {
    const fp = token.length > FINGERPRINT_CHARS ? token.slice(-FINGERPRINT_CHARS) : token;
    const old = this.#map.get(fp);
    if (old !== undefined) {
      this.#map.delete(fp);
      this.#chars -= old.token.length;
    }
    this.#map.set(fp, { token, v, stamp: ++this.#clock });
    this.#chars += token.length;
    while (this.#map.size > CACHE_MAX_ENTRIES || this.#chars > CACHE_MAX_CHARS) {
      const [oldestFp, oldest] = this.#map.entries().next().value as [string, Slot];
      this.#map.delete(oldestFp);
      this.#chars -= oldest.token.length;
    }
  }

  clear(): void {
    this.#map.clear();
    this.#chars = 0;
  }

  get size(): number {
    return this.#map.size;
  }
}

const verified = new TokenCache();

// ---- keys, imported once per credential ---------------------------------------------------

type VerifyKey = CryptoKey | Uint8Array;

interface KeySlot {
  /** The secret or PEM the key was made from: a reload that changes it re-imports. */
  material: string;
  key: Promise<VerifyKey | null>;
}

/** credential id → `<alg>` or `<alg>+b64` → key. */
const keys = new Map<string, Map<string, KeySlot>>();

/** The snapshot the caches belong to: a new one empties the token cache. */
let cacheEnv: PluginEnv | null = null;

function adoptEnv(env: PluginEnv): void {
  if (env === cacheEnv) return;
  cacheEnv = env;
  // Entries name credentials of the old snapshot: none may answer for the new one.
  verified.clear();
  if (keys.size === 0) return;
  const live = new Set<string>();
  for (const id of env.jwtIds()) live.add(id);
  for (const id of keys.keys()) if (!live.has(id)) keys.delete(id);
}

/** Kong's base64_decode for secrets: either alphabet, padding optional; null when not base64. */
function decodeSecret(s: string): Uint8Array | null {
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  const padded = std + '='.repeat((4 - (std.length % 4)) % 4);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(padded) || padded.length % 4 !== 0) return null;
  return Buffer.from(padded, 'base64');
}

async function importKey(alg: string, material: string, base64: boolean): Promise<VerifyKey | null> {
  if (alg.startsWith('HS')) {
    const secret = base64 ? decodeSecret(material) : Buffer.from(material, 'utf8');
    // jose refuses zero-length HMAC keys; Kong's "Invalid key/secret" is the honest answer.
    return secret !== null && secret.length > 0 ? secret : null;
  }
  // Loaded outside the try: a jose that cannot load is an error, not a bad key.
  const { importSPKI } = jose();
  try {
    // Through node:crypto first, so PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEMs work as in Kong's OpenSSL.
    const ko = createPublicKey(material);
    const bits = ko.asymmetricKeyDetails?.modulusLength;
    // jose refuses RSA keys under 2048 bits at verification: say so once, as a bad key.
    if (bits !== undefined && bits < 2048) return null;
    return await importSPKI(ko.export({ type: 'spki', format: 'pem' }) as string, alg);
  } catch {
    return null;
  }
}

function keyFor(cred: JwtCredential, material: string, base64: boolean): Promise<VerifyKey | null> {
  const variant = base64 && cred.algorithm.startsWith('HS') ? cred.algorithm + '+b64' : cred.algorithm;
  let slots = keys.get(cred.id);
  if (slots === undefined) keys.set(cred.id, (slots = new Map()));
  let slot = slots.get(variant);
  if (slot === undefined || slot.material !== material) {
    slot = { material, key: importKey(cred.algorithm, material, base64) };
    slots.set(variant, slot);
  }
  return slot.key;
}

/** jose accepts exactly the credential's algorithm (the header already had to name it). */
const VERIFY_OPTIONS: ReadonlyMap<string, VerifyOptions> = new Map([...JWT_ALGORITHMS].map((a) => [a, { algorithms: [a] }]));

// ---- the token in the request -------------------------------------------------------------

/** Kong's `re_gmatch(header, "\\s*[Bb]earer\\s+(.+)")`: unanchored, the rest of the value. */
const BEARER = /\s*[Bb]earer\s+(.+)/;
const MULTIPLE = 1;
/** A bare `?jwt` (no `=`): Kong's query parser gives `true`, which is no token string. */
const UNRECOGNIZABLE = 2;
type Found = string | null | typeof MULTIPLE | typeof UNRECOGNIZABLE;

/** Kong collects a set of distinct tokens: the same token in two places is one token. */
function merge(found: Found, token: string | typeof UNRECOGNIZABLE): Found {
  if (found === null) return token;
  return found === token ? found : MULTIPLE;
}

function unescapeQuery(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced; // ngx.unescape_uri leaves a malformed escape as it is
  }
}

function retrieveToken(ctx: PluginContext, conf: JwtConf): Found {
  let found: Found = null;
  if (conf.uriParamNames.size > 0 && ctx.query !== '') {
    for (const pair of ctx.query.split('&')) {
      const eq = pair.indexOf('=');
      const name = unescapeQuery(eq < 0 ? pair : pair.slice(0, eq));
      if (!conf.uriParamNames.has(name)) continue;
      if (eq < 0) {
        found = merge(found, UNRECOGNIZABLE);
      } else {
        const value = unescapeQuery(pair.slice(eq + 1));
        if (value !== '') found = merge(found, value);
      }
    }
  }
  if (conf.cookieNames.length > 0) {
    const cookies = ctx.requestHeaderValues('cookie');
    if (cookies.length > 0) {
      for (const wanted of conf.cookieNames) {
        const value = cookieValue(cookies, wanted);
        if (value !== null && value !== '') found = merge(found, value);
      }
    }
  }
  for (const name of conf.headerNames) {
    const header = ctx.requestHeader(name);
    if (header === null) continue;
    const token = bearerToken(header);
    if (token !== null) found = merge(found, token);
  }
  return found;
}

/**
 * The token of a Bearer header value, or null. The common `Bearer <token>` is a slice: the
 * regex's `(.+)` costs a pass over the whole token. They differ only on a line terminator
 * inside the value, where `.` stops: such a value never holds a valid token either way.
 */
function bearerToken(header: string): string | null {
  const c = header.charCodeAt(0);
  if ((c === 66 || c === 98) && header.startsWith('earer ', 1) && header.charCodeAt(7) > 32) return header.slice(7);
  const m = BEARER.exec(header);
  return m !== null && m[1] !== '' ? m[1] : null;
}

/** nginx's `$cookie_<name>`: the first cookie of that name, names compared case-insensitively. */
function cookieValue(headers: readonly string[], lowerName: string): string | null {
  for (const header of headers) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim().toLowerCase() === lowerName) return part.slice(eq + 1).trim();
    }
  }
  return null;
}

// ---- the outcome --------------------------------------------------------------------------

function fail(ctx: PluginContext, conf: JwtConf, f: Failure): void {
  if (conf.anonymous === null) {
    ctx.exit(401, f.body, f.headers);
    return;
  }
  // Logical OR with other auth plugins: continue as the anonymous consumer.
  const anon = conf.anonymousConsumer;
  if (anon === null) {
    ctx.error(500, `anonymous consumer ${conf.anonymous} is configured but doesn't exist`);
    return;
  }
  ctx.authenticate(anon, null);
}

/** Kong's verify_registered_claims then check_maximum_expiration, against `now` in seconds. */
function claimErrors(v: Verified, conf: JwtConf, now: number): Record<string, string> | null {
  let errors: Record<string, string> | null = null;
  for (const name of conf.claimsToVerify) {
    const value = name === 'exp' ? v.exp : v.nbf;
    let err: string | null = null;
    if (typeof value !== 'number') err = 'must be a number';
    else if (name === 'exp' && value <= now) err = 'token expired';
    else if (name === 'nbf' && value > now) err = 'token not valid yet';
    if (err !== null) (errors ??= {})[name] = err;
  }
  if (errors === null && conf.maximumExpiration > 0) {
    if (typeof v.exp !== 'number' || v.exp - now > conf.maximumExpiration) return { exp: 'exceeds maximum allowed expiration' };
  }
  return errors;
}

function finish(ctx: PluginContext, conf: JwtConf, token: string, v: Verified): void {
  const errors = claimErrors(v, conf, Math.floor(Date.now() / 1000));
  if (errors !== null) {
    fail(ctx, conf, { body: errors, headers: conf.invalidTokenHeaders });
    return;
  }
  ctx.authenticate(v.cred.consumer, v.ref);
  ctx.shared.authenticated_jwt_token = token;
}

/** An own claim (never an inherited `constructor` or `toString`), undefined when absent. */
function own(o: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}

function present(v: unknown): boolean {
  // Lua's `claims[k] or header[k]`: nil and false fall through; JSON null counts as absent here.
  return v !== undefined && v !== null && v !== false;
}

async function verifySignature(
  ctx: PluginContext,
  conf: JwtConf,
  token: string,
  claims: Record<string, unknown>,
  cred: JwtCredential,
  material: string,
): Promise<void> {
  const key = await keyFor(cred, material, conf.secretIsBase64);
  if (key === null) return fail(ctx, conf, conf.invalidSecret);
  // Loaded outside the try: a jose that cannot load is an error, not a bad signature.
  const { compactVerify } = jose();
  try {
    await compactVerify(token, key, VERIFY_OPTIONS.get(cred.algorithm));
  } catch {
    // A bad MAC/signature, and what jose refuses besides (an unknown `crit`, `b64: false`).
    return fail(ctx, conf, conf.invalidSignature);
  }
  const v: Verified = {
    env: conf.env,
    keyClaimName: conf.keyClaimName,
    secretIsBase64: conf.secretIsBase64,
    cred,
    ref: { id: cred.id, identifier: cred.key },
    exp: own(claims, 'exp'),
    nbf: own(claims, 'nbf'),
  };
  // A reload during the await emptied the cache: an entry for the old snapshot would only hold it in memory.
  if (conf.env === cacheEnv) verified.set(token, v);
  finish(ctx, conf, token, v);
}

function authenticate(ctx: PluginContext, conf: JwtConf): void | Promise<void> {
  const token = retrieveToken(ctx, conf);
  if (typeof token !== 'string') {
    return fail(ctx, conf, token === null ? conf.unauthorized : token === MULTIPLE ? conf.multiple : conf.unrecognizable);
  }
  const hit = verified.get(token);
  if (hit !== undefined && hit.env === conf.env && hit.keyClaimName === conf.keyClaimName && hit.secretIsBase64 === conf.secretIsBase64) {
    return finish(ctx, conf, token, hit);
  }
  const jwt = decodeToken(token);
  if (typeof jwt === 'string') {
    return fail(ctx, conf, { body: { message: 'Bad token; ' + jwt }, headers: conf.invalidTokenHeaders });
  }
  let key = own(jwt.claims, conf.keyClaimName);
  if (!present(key)) key = own(jwt.header, conf.keyClaimName);
  if (!present(key)) return fail(ctx, conf, conf.noMandatoryClaim);
  if (typeof key !== 'string' || key === '') return fail(ctx, conf, conf.invalidClaim);
  const cred = conf.env.jwtByKey.get(key);
  if (cred === undefined) return fail(ctx, conf, conf.noCredentials);
  if (jwt.alg !== cred.algorithm) return fail(ctx, conf, conf.invalidAlgorithm);
  const material = cred.algorithm.startsWith('HS') ? cred.secret : cred.rsaPublicKey;
  if (material === null) return fail(ctx, conf, conf.invalidSecret);
  return verifySignature(ctx, conf, token, jwt.claims, cred, material);
}

function failure(message: string, wwwAuthenticate: string): Failure {
  return { body: { message }, headers: { 'WWW-Authenticate': wwwAuthenticate } };
}

export const handler: PluginHandler<JwtConf> = {
  name: 'jwt',
  priority: 1450,
  version: '3.10.0',

  configure(config, env) {
    adoptEnv(env);
    const realm = config.realm as string | null;
    const base = realm !== null ? `Bearer realm="${realm}"` : 'Bearer';
    const withError = `${base} error="invalid_token"`;
    const claim = config.key_claim_name as string;
    const anonymous = config.anonymous as string | null;
    return {
      env,
      uriParamNames: new Set(config.uri_param_names as string[]),
      cookieNames: (config.cookie_names as string[]).map((n) => n.toLowerCase()),
      headerNames: (config.header_names as string[]).map((n) => n.toLowerCase()),
      keyClaimName: claim,
      secretIsBase64: config.secret_is_base64 as boolean,
      claimsToVerify: (config.claims_to_verify as string[] | null) ?? [],
      maximumExpiration: config.maximum_expiration as number,
      runOnPreflight: config.run_on_preflight as boolean,
      anonymous,
      anonymousConsumer: anonymous !== null ? env.findConsumer(anonymous) : null,
      invalidTokenHeaders: { 'WWW-Authenticate': withError },
      unauthorized: failure('Unauthorized', base),
      multiple: failure('Multiple tokens provided', withError),
      unrecognizable: failure('Unrecognizable token', withError),
      noMandatoryClaim: failure(`No mandatory '${claim}' in claims`, withError),
      invalidClaim: failure(`Invalid '${claim}' in claims`, withError),
      noCredentials: failure(`No credentials found for given '${claim}'`, withError),
      invalidAlgorithm: failure('Invalid algorithm', withError),
      invalidSecret: failure('Invalid key/secret', withError),
      invalidSignature: failure('Invalid signature', withError),
    };
  },

  access(ctx, conf) {
    if (!conf.runOnPreflight && ctx.method === 'OPTIONS') return;
    // Logical OR: another auth plugin already identified a credential.
    if (conf.anonymous !== null && ctx.credential !== null) return;
    return authenticate(ctx, conf);
  },
};

/** For tests: how many verified tokens this worker remembers. */
export function verifiedTokenCount(): number {
  return verified.size;
}

