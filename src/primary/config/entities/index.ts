/** Entity definitions in Kong's dependency order: a referenced entity comes before its referrers. */
import { services } from './services';
import { routes } from './routes';
import { upstreams } from './upstreams';
import { targets } from './targets';
import { consumers } from './consumers';
import { plugins } from './plugins';
import { keyauth_credentials, basicauth_credentials, jwt_secrets, acls } from './credentials';
import { certificates, ca_certificates, snis } from './certificates';
import type { EntityDef, EntityName } from './types';

export const ENTITY_DEFS: Readonly<Record<EntityName, EntityDef>> = {
  // Before services: a service's client_certificate and ca_certificates name them.
  certificates,
  ca_certificates,
  snis,
  services,
  routes,
  upstreams,
  targets,
  consumers,
  plugins,
  keyauth_credentials,
  basicauth_credentials,
  jwt_secrets,
  acls,
};

export const ENTITY_ORDER: readonly EntityName[] = Object.keys(ENTITY_DEFS) as EntityName[];

/** Kong entities a declarative file may hold that Hyperway does not serve yet. */
export const UNSUPPORTED_ENTITIES: readonly string[] = [
  'vaults', 'keys', 'key_sets', 'filter_chains',
  'hmacauth_credentials', 'oauth2_credentials', 'oauth2_authorization_codes', 'oauth2_tokens',
  'parameters', 'clustering_data_planes', 'workspaces',
];

export type { EntityDef, EntityName, Entry, Ref } from './types';
export { entryPath } from './types';
