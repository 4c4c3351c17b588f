/** Kong 3.10 `kong/plugins/ip-restriction/schema.lua`. */
import { parseCidr } from '../../lib/cidr';
import type { Field, PluginSchema } from '../schema-types';

/** Kong's `typedefs.ip_or_cidr`, with its message. */
const ipOrCidr: Field = {
  type: 'string',
  check: (v) => (parseCidr(v as string) === null ? `invalid ip or cidr range: '${String(v)}'` : null),
};

const nonEmpty = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

export const schema: PluginSchema = {
  name: 'ip-restriction',
  // Kong's default, stream protocols included (it also runs in preread there).
  protocols: ['http', 'https', 'tcp', 'tls', 'grpc', 'grpcs'],
  fields: {
    /** IPs or CIDR ranges allowed; any other address is rejected. */
    allow: { type: 'array', elements: ipOrCidr },
    /** IPs or CIDR ranges rejected; checked first (deny wins over allow). */
    deny: { type: 'array', elements: ipOrCidr },
    /** The status of a rejection (none: 403). */
    status: { type: 'number' },
    /** The message of a rejection (none: `IP address not allowed: <client ip>`). */
    message: { type: 'string' },
  },
  check(config, report) {
    if (!nonEmpty(config.allow) && !nonEmpty(config.deny)) {
      report([], "at least one of these fields must be non-empty: 'config.allow', 'config.deny'");
    }
  },
};
