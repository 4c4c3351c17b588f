/**
 * Kong 3.10 basic-auth (`kong/plugins/basic-auth/access.lua`): `Proxy-Authorization` is tried
 * first, then `Authorization`; a credential matches when sha1hex(password + consumer id) equals its
 * stored hash (Kong's `crypto.hash`). With `anonymous` set the plugin is in Kong's "logical OR"
 * mode, as key-auth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ConsumerSnap } from '../../shared/snapshot';
import type { BasicAuthCredential, Lookup } from '../env';
import type { PluginContext, PluginEnv, PluginHandler } from '../types';

/** Kong 3.10's text for every failure (missing header, bad format, unknown user, wrong password). */
export const ERR_UNAUTHORIZED = 'Unauthorized';

/** Verified header values per worker and snapshot; bounded so junk cannot grow it. */
export const CACHE_MAX = 1024;

export interface BasicAuthConf {
  hide: boolean;
  anonymous: string | null;
  anonymousConsumer: ConsumerSnap | null;
  challenge: Readonly<Record<string, string>>;
  credentials: Lookup<BasicAuthCredential>;
  /** Header value → credential it was verified for; shared by the instances of one snapshot. */
  verified: Map<string, BasicAuthCredential>;
}

/** One cache per PluginEnv (per snapshot): a reload drops it with the old credentials. */
const CACHES = new WeakMap<PluginEnv, Map<string, BasicAuthCredential>>();

// Kong's patterns, unanchored as ngx.re.gmatch / ngx.re.match use them.
const SCHEME = /[Bb]asic\s*(.+)/;
const USER_PASS = /([^:]+):(.*)/;
const BASE64 = /^[A-Za-z0-9+/]*$/;

/**
 * nginx's ngx_decode_base64: stops at the first `=`, refuses any other character outside the
 * alphabet and a length of 4n+1.
 */
function decodeBase64(s: string): string | null {
  const eq = s.indexOf('=');
  const data = eq < 0 ? s : s.slice(0, eq);
  if (!BASE64.test(data) || data.length % 4 === 1) return null;
  return Buffer.from(data, 'base64').toString('utf8');
}

/** `Basic base64(user:pass)` → [user, pass], or null when the value has no such credentials. */
export function parseBasic(value: string): [string, string] | null {
  const m = SCHEME.exec(value);
  if (m === null) return null;
  const decoded = decodeBase64(m[1]);
  if (decoded === null) return null;
  const parts = USER_PASS.exec(decoded);
  return parts === null ? null : [parts[1], parts[2]];
}

function passwordMatches(cred: BasicAuthCredential, password: string): boolean {
  const digest = Buffer.from(createHash('sha1').update(password + cred.consumer.id).digest('hex'));
  const stored = Buffer.from(cred.passwordHash);
  return digest.length === stored.length && timingSafeEqual(digest, stored);
}

function remember(cache: Map<string, BasicAuthCredential>, value: string, cred: BasicAuthCredential): void {
  // Oldest first out: a Map iterates in insertion order.
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(value, cred);
}

/** The credential the request proves, or null. Mirrors Kong's do_authentication step by step. */
function authenticate(ctx: PluginContext, conf: BasicAuthConf): BasicAuthCredential | null {
  const proxyValue = ctx.requestHeader('proxy-authorization');
  const authValue = ctx.requestHeader('authorization');
  if (proxyValue === null && authValue === null) return null;

  // Kong clears each header it reads (hide_credentials) whether or not it authenticates.
  let cred: BasicAuthCredential | null = null;
  let password = '';
  let value = '';
  if (proxyValue !== null) {
    if (conf.hide) ctx.removeRequestHeader('proxy-authorization');
    const hit = conf.verified.get(proxyValue);
    if (hit !== undefined) return hit;
    const given = parseBasic(proxyValue);
    if (given !== null) {
      cred = conf.credentials.get(given[0]) ?? null;
      password = given[1];
      value = proxyValue;
    }
  }
  // A user found through Proxy-Authorization is final: Authorization is not tried after a wrong password.
  if (cred === null) {
    if (authValue === null) return null;
    if (conf.hide) ctx.removeRequestHeader('authorization');
    const hit = conf.verified.get(authValue);
    if (hit !== undefined) return hit;
    const given = parseBasic(authValue);
    if (given === null) return null;
    cred = conf.credentials.get(given[0]) ?? null;
    password = given[1];
    value = authValue;
  }
  if (cred === null || !passwordMatches(cred, password)) return null;
  remember(conf.verified, value, cred);
  return cred;
}

export const handler: PluginHandler<BasicAuthConf> = {
  name: 'basic-auth',
  priority: 1100,
  version: '3.10.0',

  configure(config: Record<string, unknown>, env: PluginEnv): BasicAuthConf {
    const anonymous = (config.anonymous as string | null | undefined) ?? null;
    let verified = CACHES.get(env);
    if (verified === undefined) CACHES.set(env, (verified = new Map()));
    return {
      hide: config.hide_credentials === true,
      anonymous,
      anonymousConsumer: anonymous === null ? null : env.findConsumer(anonymous),
      challenge: Object.freeze({ 'WWW-Authenticate': `Basic realm="${(config.realm as string | undefined) ?? 'service'}"` }),
      credentials: env.basicauthByUsername,
      verified,
    };
  },

  access(ctx, conf) {
    // Logical OR: an earlier auth plugin already identified the client.
    if (conf.anonymous !== null && ctx.credential !== null) return;
    const cred = authenticate(ctx, conf);
    if (cred !== null) {
      ctx.authenticate(cred.consumer, { id: cred.id, identifier: cred.username });
    } else if (conf.anonymous === null) {
      ctx.error(401, ERR_UNAUTHORIZED, conf.challenge);
    } else if (conf.anonymousConsumer !== null) {
      ctx.authenticate(conf.anonymousConsumer, null);
    } else {
      ctx.error(500, `anonymous consumer ${conf.anonymous} is configured but doesn't exist`);
    }
  },
};
