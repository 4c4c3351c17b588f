/**
 * The auth plugins' credentials: `/consumers/{c}/key-auth|basic-auth|jwt|acls` (and `/{id}`), and
 * the flat lists `/key-auths`, `/basic-auths`, `/jwts`, `/acls` (Kong's plugin `api.lua` files).
 */
import type { EntityName } from '../config';
import type { EntityRoute } from './entity-router';

const CREDENTIALS: ReadonlyArray<[path: string, list: string, entity: EntityName]> = [
  ['key-auth', 'key-auths', 'keyauth_credentials'],
  ['basic-auth', 'basic-auths', 'basicauth_credentials'],
  ['jwt', 'jwts', 'jwt_secrets'],
  ['acls', 'acls', 'acls'],
];

const parent = { param: 'consumer', entity: 'consumers', field: 'consumer' } as const;

export const CREDENTIAL_ROUTES: readonly EntityRoute[] = CREDENTIALS.flatMap(([path, list, entity]): EntityRoute[] => [
  { pattern: ['consumers', ':consumer', path], entity, parent },
  { pattern: ['consumers', ':consumer', path, ':credential'], entity, parent, item: 'credential' },
  { pattern: [list], entity },
  { pattern: [list, ':credential'], entity, item: 'credential' },
]);
