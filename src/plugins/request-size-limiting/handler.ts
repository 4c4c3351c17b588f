/**
 * Kong 3.10 `kong/plugins/request-size-limiting/handler.lua`. A declared Content-Length over the
 * limit is answered before any byte goes upstream; a chunked body is buffered up to the limit and
 * answered as soon as it passes it (Kong reads it whole first; the answer is the same).
 */
import { KONG_COMPAT_VERSION } from '../../shared/version';
import type { PluginContext, PluginHandler } from '../types';

const UNIT_BYTES: Readonly<Record<string, number>> = { bytes: 1, kilobytes: 1024, megabytes: 1048576 };

export interface RequestSizeLimitingConf {
  /** Bodies strictly larger than this are rejected. */
  limit: number;
  requireContentLength: boolean;
}

const TOO_LARGE = 'Request size limit exceeded';

function configure(config: Record<string, unknown>): RequestSizeLimitingConf {
  return {
    limit: (config.allowed_payload_size as number) * (UNIT_BYTES[config.size_unit as string] ?? UNIT_BYTES.megabytes),
    requireContentLength: config.require_content_length === true,
  };
}

/** Kong answers 417 instead of 413 when the client waits for `100 Continue`. */
function reject(ctx: PluginContext): void {
  const expect = ctx.requestHeader('expect');
  ctx.error(expect !== null && expect.trim().toLowerCase() === '100-continue' ? 417 : 413, TOO_LARGE);
}

async function readChunked(ctx: PluginContext, conf: RequestSizeLimitingConf): Promise<void> {
  try {
    await ctx.readRequestBody(conf.limit);
  } catch (e) {
    if ((e as { code?: string }).code !== 'HW_ERR_BODY_TOO_LARGE') throw e;
    if (!ctx.exited) reject(ctx);
  }
}

function access(ctx: PluginContext, conf: RequestSizeLimitingConf): void | Promise<void> {
  const length = ctx.requestBodyLength;
  if (length > 0 || ctx.requestHeader('content-length') !== null) {
    if (length > conf.limit) reject(ctx);
    return;
  }
  if (length === -2) return readChunked(ctx, conf);
  if (conf.requireContentLength) ctx.error(411, 'A valid Content-Length header is required');
}

export const handler: PluginHandler<RequestSizeLimitingConf> = {
  name: 'request-size-limiting',
  priority: 951,
  version: KONG_COMPAT_VERSION,
  configure,
  access,
};
