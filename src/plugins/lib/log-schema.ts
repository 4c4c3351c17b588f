/**
 * Fields the log plugins share. `custom_fields_by_lua` is Kong's Lua sandbox: Hyperway runs no
 * Lua, so a non-empty map is refused with that reason rather than silently ignored.
 */
import type { Field, PluginConfigReport } from '../schema-types';

export const customFieldsByLua: Field = { type: 'map', keys: { type: 'string' }, values: { type: 'string' } };

export function refuseLua(config: Record<string, unknown>, report: PluginConfigReport): void {
  const lua = config.custom_fields_by_lua;
  if (lua !== null && typeof lua === 'object' && Object.keys(lua).length > 0) {
    report(['custom_fields_by_lua'], 'Lua expressions cannot run in Hyperway (no Lua sandbox); remove custom_fields_by_lua');
  }
}
