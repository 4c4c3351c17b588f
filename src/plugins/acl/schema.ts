/** Kong 3.10 `kong/plugins/acl/schema.lua`, plus Kong Enterprise's `include_consumer_groups` (accepted). */
import type { Field, PluginSchema } from '../schema-types';

const GROUPS: Field = { type: 'array', elements: { type: 'string' } };

/** Kong's is_nonempty: absent, null and [] are all empty. */
function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

const PAIR = "'config.allow', 'config.deny'";

export const schema: PluginSchema = {
  name: 'acl',
  noConsumer: true,
  fields: {
    /** Groups allowed in; any other consumer is answered 403. */
    allow: { ...GROUPS },
    /** Groups kept out; any other consumer passes. */
    deny: { ...GROUPS },
    /** Do not send X-Consumer-Groups upstream. */
    hide_groups_header: { type: 'boolean', default: false },
    /**
     * Kong: prefer groups an earlier plugin authenticated (ldap-auth, oauth2) over the consumer's
     * ACL groups. No Hyperway plugin sets authenticated groups, so this changes nothing yet.
     */
    always_use_authenticated_groups: { type: 'boolean', default: false },
    /**
     * Kong Enterprise: match consumer-group names too. Hyperway has no consumer groups; accepted
     * so Enterprise files load, and ignored.
     */
    include_consumer_groups: { type: 'boolean', default: false },
  },
  check(config, report) {
    // Kong's entity_checks, in its order: only_one_of, then at_least_one_of (both fail when neither is set).
    const n = (nonEmpty(config.allow) ? 1 : 0) + (nonEmpty(config.deny) ? 1 : 0);
    if (n !== 1) report([], `only one of these fields must be non-empty: ${PAIR}`);
    if (n === 0) report([], `at least one of these fields must be non-empty: ${PAIR}`);
  },
};
