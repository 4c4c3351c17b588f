/** Kong `kong/plugins/response-transformer/schema.lua`. */
import type { Field, PluginSchema } from '../schema-types';
import { colonStrings, plainStrings } from '../lib/colon-list';

const jsonTypes: Field = { type: 'array', default: [], elements: { type: 'string', oneOf: ['boolean', 'number', 'string'] } };
const values = (): Field => ({ type: 'record', fields: { json: colonStrings, json_types: jsonTypes, headers: colonStrings } });

export const schema: PluginSchema = {
  name: 'response-transformer',
  fields: {
    remove: { type: 'record', fields: { json: plainStrings, headers: plainStrings } },
    rename: { type: 'record', fields: { json: colonStrings, headers: colonStrings } },
    replace: values(),
    add: values(),
    append: values(),
  },
};
