/** Kong `kong/plugins/file-log/schema.lua`. */
import type { PluginSchema } from '../schema-types';
import { customFieldsByLua, refuseLua } from '../lib/log-schema';

export const schema: PluginSchema = {
  name: 'file-log',
  fields: {
    /** The file the JSON lines are appended to; created when missing. */
    path: { type: 'string', required: true, match: { re: /^[^*&%\\`]+$/, err: 'not a valid filename' } },
    /** Close and reopen the file on every write batch (log rotation without a signal). */
    reopen: { type: 'boolean', default: false },
    custom_fields_by_lua: customFieldsByLua,
  },
  check: refuseLua,
};
