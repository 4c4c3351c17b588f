/**
 * Kong 3.10 acl (`kong/plugins/acl/handler.lua`): the authenticated consumer's ACL groups against
 * `allow` or `deny`. Kong also knows "authenticated groups" that ldap-auth, oauth2 and
 * openid-connect set without a consumer; no Hyperway plugin sets them, so only consumer groups
 * apply here (and `always_use_authenticated_groups` has nothing to prefer).
 */
import type { Lookup } from '../env';
import type { PluginContext, PluginEnv, PluginHandler } from '../types';

export const ERR_FORBIDDEN = 'You cannot consume this service';
/** kong.response.error(401) with no message: Kong's default text for 401. */
export const ERR_UNAUTHORIZED = 'Unauthorized';

export interface AclConf {
  deny: boolean;
  /** The configured allow or deny list, as a Set. */
  groups: ReadonlySet<string>;
  hideGroupsHeader: boolean;
  aclGroups: Lookup<readonly string[]>;
  /**
   * Consumer id → the X-Consumer-Groups value when let in, or BLOCKED; computed on first use as
   * Kong's per-config cache does. Bounded by the consumers of the snapshot.
   */
  decisions: Map<string, string | typeof BLOCKED>;
}

const BLOCKED: unique symbol = Symbol('hyperway.acl.blocked');
const NO_GROUPS: readonly string[] = [];

function decide(conf: AclConf, consumerGroups: readonly string[]): string | typeof BLOCKED {
  let inGroup = false;
  for (const g of consumerGroups) {
    if (conf.groups.has(g)) {
      inGroup = true;
      break;
    }
  }
  return inGroup === conf.deny ? BLOCKED : consumerGroups.join(', ');
}

function forbid(ctx: PluginContext): void {
  ctx.error(403, ERR_FORBIDDEN);
}

export const handler: PluginHandler<AclConf> = {
  name: 'acl',
  priority: 950,
  version: '3.10.0',

  configure(config: Record<string, unknown>, env: PluginEnv): AclConf {
    const deny = (config.deny as string[] | null | undefined) ?? [];
    const isDeny = deny.length > 0;
    return {
      deny: isDeny,
      groups: new Set(isDeny ? deny : ((config.allow as string[] | null | undefined) ?? [])),
      hideGroupsHeader: config.hide_groups_header === true,
      aclGroups: env.aclGroups,
      decisions: new Map(),
    };
  },

  access(ctx, conf) {
    const consumer = ctx.consumer;
    if (consumer === null) {
      if (ctx.credential !== null) return forbid(ctx);
      return ctx.error(401, ERR_UNAUTHORIZED);
    }
    let decision = conf.decisions.get(consumer.id);
    if (decision === undefined) {
      // A consumer without groups is in none: kept out by an allow list, let through a deny list.
      decision = decide(conf, conf.aclGroups.get(consumer.id) ?? NO_GROUPS);
      conf.decisions.set(consumer.id, decision);
    }
    if (decision === BLOCKED) return forbid(ctx);
    if (conf.hideGroupsHeader) return;
    // Kong sets '' for a consumer without groups, which OpenResty's set_header turns into a removal.
    if (decision === '') ctx.removeRequestHeader('x-consumer-groups');
    else ctx.setRequestHeader('x-consumer-groups', decision);
  },
};
