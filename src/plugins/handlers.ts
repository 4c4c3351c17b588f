/**
 * Plugin registry for the data plane: name → handler. Workers import this file, never the
 * schemas (./index.ts), so the validator stays out of worker processes.
 */
import type { PluginHandler } from './types';
import { handler as acl } from './acl/handler';
import { handler as basicAuth } from './basic-auth/handler';
import { handler as circuitBreaker } from './circuit-breaker/handler';
import { handler as correlationId } from './correlation-id/handler';
import { handler as cors } from './cors/handler';
import { handler as fileLog } from './file-log/handler';
import { handler as httpLog } from './http-log/handler';
import { handler as ipRestriction } from './ip-restriction/handler';
import { handler as jwt } from './jwt/handler';
import { handler as keyAuth } from './key-auth/handler';
import { handler as opentelemetry } from './opentelemetry/handler';
import { handler as prometheus } from './prometheus/handler';
import { handler as rateLimiting } from './rate-limiting/handler';
import { handler as rateLimitingAdvanced } from './rate-limiting-advanced/handler';
import { handler as requestSizeLimiting } from './request-size-limiting/handler';
import { handler as requestTermination } from './request-termination/handler';
import { handler as requestTransformer } from './request-transformer/handler';
import { handler as responseTransformer } from './response-transformer/handler';

const HANDLERS: readonly PluginHandler<any>[] = [
  acl,
  basicAuth,
  circuitBreaker,
  correlationId,
  cors,
  fileLog,
  httpLog,
  ipRestriction,
  jwt,
  keyAuth,
  opentelemetry,
  prometheus,
  rateLimiting,
  rateLimitingAdvanced,
  requestSizeLimiting,
  requestTermination,
  requestTransformer,
  responseTransformer,
];

export const PLUGIN_HANDLERS: ReadonlyMap<string, PluginHandler<any>> = new Map(HANDLERS.map((h) => [h.name, h]));
