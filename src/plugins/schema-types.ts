/**
 * What a plugin's schema.ts exports: plain data in the core's field vocabulary (Kong's `type`,
 * `required`, `default`, `one_of`, `between`, `elements`, `fields`), plus Kong's entity_checks as
 * one function. Only the primary imports schemas; handlers never do.
 */
import type { Field } from '../primary/config/schema';

export type { Field };

/** Reports one problem at a path inside `config` (`['allow', 2]`); `[]` is `config` itself. */
export type PluginConfigReport = (path: readonly (string | number)[], message: string) => void;

export interface PluginSchema {
  name: string;
  /** Kong's `consumer = typedefs.no_consumer`: the plugin cannot be scoped to a consumer. */
  noConsumer?: boolean;
  /** Protocols the plugin accepts when the instance names none (Kong's default: grpc, grpcs, http, https). */
  protocols?: readonly string[];
  /** The fields of `config`, with Kong's defaults. */
  fields: Record<string, Field>;
  /**
   * Kong's entity_checks and custom_validator: runs on the config after the field checks passed,
   * with defaults filled in. May normalise values in place (Kong's shorthands).
   */
  check?(config: Record<string, unknown>, report: PluginConfigReport): void;
}
