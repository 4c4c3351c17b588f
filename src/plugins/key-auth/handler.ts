/**
 * Kong 3.10 key-auth (`kong/plugins/key-auth/handler.lua`): for each key name in order, the header,
 * then the query string, then (key_in_body) the form or JSON body; the first string value is the
 * key. With `anonymous` set the plugin is in Kong's "logical OR" mode: a request an earlier auth
 * plugin already authenticated passes untouched, and a failure continues as the anonymous consumer.
 */
import type { ConsumerSnap } from '../../shared/snapshot';
import type { KeyAuthCredential, Lookup } from '../env';
import type { PluginContext, PluginEnv, PluginHandler } from '../types';
import { DUPLICATE, lookupArg, removeArg, type ArgValue } from './args';
import { NO_FIELDS, bodyFields, type BodyFields } from './body';

/** Kong 3.10's texts (handler.lua ERR_*). */
export const ERR_DUPLICATE_API_KEY = 'Duplicate API key found';
export const ERR_NO_API_KEY = 'No API key found in request';
export const ERR_INVALID_AUTH_CRED = 'Unauthorized';

/**
 * The most body key_in_body buffers. Kong has no limit of its own (nginx's client_max_body_size,
 * unlimited in Kong's template); a larger body is treated as one without fields, as Kong treats
 * a body it cannot read.
 */
export const BODY_LIMIT = 1024 * 1024;

interface KeyName {
  /** As configured: the query-arg and body-field name. */
  name: string;
  /** Lowercase header name. */
  header: string;
  /** OpenResty's header table also finds `api_key` under `api-key`; null when the same. */
  headerDashed: string | null;
}

export interface KeyAuthConf {
  names: readonly KeyName[];
  inHeader: boolean;
  inQuery: boolean;
  inBody: boolean;
  hide: boolean;
  runOnPreflight: boolean;
  /** The configured value (null: logical AND) and the consumer it names (null when none does). */
  anonymous: string | null;
  anonymousConsumer: ConsumerSnap | null;
  /** `WWW-Authenticate` on every 401. */
  challenge: Readonly<Record<string, string>>;
  credentials: Lookup<KeyAuthCredential>;
}

/** The key's search needs the body, which is not read yet. */
const NEED_BODY: unique symbol = Symbol('hyperway.key-auth.need-body');

type Outcome = KeyAuthCredential | string | typeof NEED_BODY;

function headerValue(ctx: PluginContext, k: KeyName): ArgValue {
  let values = ctx.requestHeaderValues(k.header);
  if (values.length === 0 && k.headerDashed !== null) values = ctx.requestHeaderValues(k.headerDashed);
  if (values.length === 0) return undefined;
  return values.length > 1 ? DUPLICATE : values[0];
}

/**
 * Finds and checks the key: the credential, an error message, or NEED_BODY. Nothing is changed
 * until the search is over, so a NEED_BODY pass is simply run again once the body is there.
 */
function authenticate(ctx: PluginContext, conf: KeyAuthConf, body: BodyFields | null): Outcome {
  let key: string | null = null;
  for (const k of conf.names) {
    let v: ArgValue;
    if (conf.inHeader) v = headerValue(ctx, k);
    if (v === undefined && conf.inQuery) v = lookupArg(ctx.query, k.name, false);
    if (v === undefined && conf.inBody) {
      if (body === null) return NEED_BODY;
      v = body.lookup(k.name);
    }
    if (typeof v === 'string') {
      if (conf.hide) {
        if (conf.inBody && body === null) return NEED_BODY;
        hide(ctx, k, body);
      }
      key = v;
      break;
    }
    if (v === DUPLICATE) return ERR_DUPLICATE_API_KEY;
    // Absent, or not a string (`?apikey` with no value, a JSON number): Kong moves on to the next name.
  }
  if (key === null || key === '') return ERR_NO_API_KEY;
  return conf.credentials.get(key) ?? ERR_INVALID_AUTH_CRED;
}

/** Kong clears the name everywhere it may be, whichever place the key came from. */
function hide(ctx: PluginContext, k: KeyName, body: BodyFields | null): void {
  const query = removeArg(ctx.query, k.name, false);
  if (query !== null) ctx.setQuery(query);
  ctx.removeRequestHeader(k.header);
  if (k.headerDashed !== null) ctx.removeRequestHeader(k.headerDashed);
  const rest = body?.without(k.name) ?? null;
  if (rest !== null) ctx.setRequestBody(rest);
}

function finish(ctx: PluginContext, conf: KeyAuthConf, outcome: KeyAuthCredential | string): void {
  if (typeof outcome !== 'string') {
    ctx.authenticate(outcome.consumer, { id: outcome.id, identifier: outcome.id });
    return;
  }
  if (conf.anonymous === null) {
    ctx.error(401, outcome, conf.challenge);
  } else if (conf.anonymousConsumer !== null) {
    ctx.authenticate(conf.anonymousConsumer, null);
  } else {
    ctx.error(500, `anonymous consumer ${conf.anonymous} is configured but doesn't exist`);
  }
}

async function readBody(ctx: PluginContext): Promise<BodyFields> {
  const declared = ctx.requestBodyLength;
  if (declared === 0 || declared > BODY_LIMIT) return NO_FIELDS;
  let body: Buffer;
  try {
    body = await ctx.readRequestBody(BODY_LIMIT);
  } catch (e) {
    if ((e as { code?: string }).code === 'HW_ERR_BODY_TOO_LARGE') return NO_FIELDS;
    throw e;
  }
  return bodyFields(ctx.requestHeader('content-type'), body);
}

async function accessWithBody(ctx: PluginContext, conf: KeyAuthConf): Promise<void> {
  const body = await readBody(ctx);
  // With the body given, the search never asks for it again.
  finish(ctx, conf, authenticate(ctx, conf, body) as KeyAuthCredential | string);
}

export const handler: PluginHandler<KeyAuthConf> = {
  name: 'key-auth',
  priority: 1250,
  version: '3.10.0',

  configure(config: Record<string, unknown>, env: PluginEnv): KeyAuthConf {
    const anonymous = (config.anonymous as string | null | undefined) ?? null;
    const realm = (config.realm as string | null | undefined) ?? null;
    return {
      names: (config.key_names as string[]).map((name) => {
        const header = name.toLowerCase();
        const dashed = header.replace(/_/g, '-');
        return { name, header, headerDashed: dashed === header ? null : dashed };
      }),
      inHeader: config.key_in_header !== false,
      inQuery: config.key_in_query !== false,
      inBody: config.key_in_body === true,
      hide: config.hide_credentials === true,
      runOnPreflight: config.run_on_preflight !== false,
      anonymous,
      anonymousConsumer: anonymous === null ? null : env.findConsumer(anonymous),
      challenge: Object.freeze({ 'WWW-Authenticate': realm === null ? 'Key' : `Key realm="${realm}"` }),
      credentials: env.keyauthByKey,
    };
  },

  access(ctx, conf) {
    if (!conf.runOnPreflight && ctx.method === 'OPTIONS') return;
    // Logical OR: an earlier auth plugin already identified the client.
    if (conf.anonymous !== null && ctx.credential !== null) return;
    const outcome = authenticate(ctx, conf, null);
    if (outcome === NEED_BODY) return accessWithBody(ctx, conf);
    finish(ctx, conf, outcome);
  },
};
