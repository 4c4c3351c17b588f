/**
 * Plugin registry for the control plane: which plugins exist, which Hyperway implements, and the
 * schema their config is checked with. The primary's validator imports this file; workers import
 * `./handlers` instead and never load a schema.
 *
 * To implement a plugin, add its folder (schema.ts + handler.ts), its schema to SCHEMAS below and
 * its handler to ./handlers.ts.
 */
import { KONG_BUNDLED_PLUGINS, KONG_ENTERPRISE_PLUGINS } from './known';
import type { PluginSchema } from './schema-types';
import { schema as acl } from './acl/schema';
import { schema as basicAuth } from './basic-auth/schema';
import { schema as circuitBreaker } from './circuit-breaker/schema';
import { schema as correlationId } from './correlation-id/schema';
import { schema as cors } from './cors/schema';
import { schema as fileLog } from './file-log/schema';
import { schema as httpLog } from './http-log/schema';
import { schema as ipRestriction } from './ip-restriction/schema';
import { schema as jwt } from './jwt/schema';
import { schema as keyAuth } from './key-auth/schema';
import { schema as opentelemetry } from './opentelemetry/schema';
import { schema as prometheus } from './prometheus/schema';
import { schema as rateLimiting } from './rate-limiting/schema';
import { schema as rateLimitingAdvanced } from './rate-limiting-advanced/schema';
import { schema as requestSizeLimiting } from './request-size-limiting/schema';
import { schema as requestTermination } from './request-termination/schema';
import { schema as requestTransformer } from './request-transformer/schema';
import { schema as responseTransformer } from './response-transformer/schema';

export { KONG_BUNDLED_PLUGINS, KONG_ENTERPRISE_PLUGINS };
export type { PluginSchema, PluginConfigReport } from './schema-types';

const SCHEMAS: readonly PluginSchema[] = [
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

/** name → schema of every plugin Hyperway implements. */
export const IMPLEMENTED_PLUGINS: Readonly<Record<string, PluginSchema>> = Object.fromEntries(SCHEMAS.map((s) => [s.name, s]));

export type PluginStatus =
  | { kind: 'implemented'; def: PluginSchema }
  | { kind: 'not-implemented' }
  | { kind: 'enterprise'; alternative: string | null }
  | { kind: 'unknown' };

const BUNDLED = new Set(KONG_BUNDLED_PLUGINS);

export function pluginStatus(name: string): PluginStatus {
  const def = Object.prototype.hasOwnProperty.call(IMPLEMENTED_PLUGINS, name) ? IMPLEMENTED_PLUGINS[name] : undefined;
  if (def) return { kind: 'implemented', def };
  if (BUNDLED.has(name)) return { kind: 'not-implemented' };
  if (Object.prototype.hasOwnProperty.call(KONG_ENTERPRISE_PLUGINS, name)) {
    return { kind: 'enterprise', alternative: KONG_ENTERPRISE_PLUGINS[name] };
  }
  return { kind: 'unknown' };
}

/** The message a user sees for a plugin name Hyperway cannot load, or null when it can. */
export function pluginNameProblem(name: string): string | null {
  const s = pluginStatus(name);
  switch (s.kind) {
    case 'implemented':
      return null;
    case 'not-implemented':
      return `plugin '${name}' is a Kong plugin that Hyperway does not implement yet`;
    case 'enterprise':
      return (
        `plugin '${name}' is a Kong Enterprise plugin; Hyperway implements only open-source Kong plugins` +
        (s.alternative ? `: use '${s.alternative}' instead` : '')
      );
    case 'unknown':
      return `plugin '${name}' not enabled; add it to the 'plugins' configuration property`;
  }
}
