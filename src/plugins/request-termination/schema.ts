/** Kong 3.10 `kong/plugins/request-termination/schema.lua`. */
import * as t from '../../primary/config/typedefs';
import type { PluginSchema } from '../schema-types';

/** Kong's `is_present`: a non-empty string. */
const present = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

export const schema: PluginSchema = {
  name: 'request-termination',
  protocols: ['http', 'https'],
  fields: {
    /** The status to answer with. */
    status_code: { type: 'integer', default: 503, between: [100, 599] },
    /** The message of the default `{"message": …}` body. */
    message: { type: 'string' },
    /** Content-Type of `body`. */
    content_type: { type: 'string' },
    /** A raw body, sent as is (exclusive with `message`). */
    body: { type: 'string' },
    /** Answer with a JSON copy of the request (debugging), combinable with `trigger`. */
    echo: { type: 'boolean', default: false },
    /** A header or query argument name: only requests carrying it are terminated. */
    trigger: t.headerName,
  },
  check(config, report) {
    // Kong's custom_validator, in its order: the first failing rule is the message.
    if (present(config.message) && (present(config.content_type) || present(config.body))) {
      report([], 'message cannot be used with content_type or body');
    } else if (present(config.content_type) && !present(config.body)) {
      report([], 'content_type requires a body');
    } else if (config.echo === true && (present(config.content_type) || present(config.body))) {
      report([], 'echo cannot be used with content_type and body');
    }
  },
};
