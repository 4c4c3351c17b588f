/**
 * Plugin registry: which plugins exist, which Hyperway implements, and how their config is
 * checked. The primary's validator imports this file; workers import handlers directly.
 *
 * To implement a plugin, add an entry to IMPLEMENTED_PLUGINS (see PluginDefinition); the
 * declarative validator then accepts the name and runs `validateConfig` on its `config`.
 */
import { KONG_BUNDLED_PLUGINS, KONG_ENTERPRISE_PLUGINS } from './known';

export { KONG_BUNDLED_PLUGINS, KONG_ENTERPRISE_PLUGINS };

export interface PluginConfigProblem {
  /** Path inside `config` (`['key_names', 0]`); empty for `config` itself. */
  path: (string | number)[];
  message: string;
}

export interface PluginDefinition {
  name: string;
  /** Kong's PRIORITY (kong-reference f): higher runs first. */
  priority: number;
  /** Kong's `consumer = typedefs.no_consumer`: the plugin cannot be scoped to a consumer. */
  noConsumer?: boolean;
  /** Protocols the plugin accepts (Kong's default: grpc, grpcs, http, https). */
  protocols?: readonly string[];
  /** Checks `config` (undefined when absent) and returns it with every default filled in. */
  validateConfig(config: unknown): { config: Record<string, unknown>; problems: PluginConfigProblem[] };
}

/** name → definition. Empty until plugins land; later work only adds entries here. */
export const IMPLEMENTED_PLUGINS: Readonly<Record<string, PluginDefinition>> = {};

export type PluginStatus =
  | { kind: 'implemented'; def: PluginDefinition }
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
