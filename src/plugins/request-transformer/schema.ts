/** Kong `kong/plugins/request-transformer/schema.lua`. */
import type { Field, PluginSchema } from '../schema-types';
import { colonStrings, parseTemplate, plainStrings, splitColon } from '../lib/colon-list';

const headerNames: Field = {
  type: 'array',
  default: [],
  elements: { type: 'string', match: { re: /^[A-Za-z0-9_-]+$/, err: 'invalid header name' } },
};
const headerPairs: Field = {
  type: 'array',
  default: [],
  elements: { type: 'string', match: { re: /^[A-Za-z0-9_-]+:.*$/s, err: "invalid value: expected 'header-name:value'" } },
};

const section = (extra: Record<string, Field> = {}, pairs = true): Field => ({
  type: 'record',
  fields: {
    body: pairs ? colonStrings : plainStrings,
    headers: pairs ? headerPairs : headerNames,
    querystring: pairs ? colonStrings : plainStrings,
    ...extra,
  },
});

export const schema: PluginSchema = {
  name: 'request-transformer',
  fields: {
    /** Changes the method sent upstream. */
    http_method: { type: 'string', match: { re: /^[A-Z]+$/, err: 'invalid value: must be an uppercase HTTP method' } },
    remove: section({}, false),
    rename: section(),
    replace: section({ uri: { type: 'string' } }),
    add: section(),
    append: section(),
  },
  check(config, report) {
    // Templates are compiled by the worker; refuse here what it could not evaluate.
    for (const op of ['rename', 'replace', 'add', 'append']) {
      const rec = config[op] as Record<string, unknown>;
      for (const part of ['body', 'headers', 'querystring']) {
        (rec[part] as string[]).forEach((item, i) => {
          try { parseTemplate(op === 'rename' ? '' : splitColon(item)[1]); } catch (e) { report([op, part, i], (e as Error).message); }
        });
      }
    }
    const uri = (config.replace as Record<string, unknown>).uri;
    if (typeof uri === 'string') {
      try { parseTemplate(uri); } catch (e) { report(['replace', 'uri'], (e as Error).message); }
    }
  },
};
