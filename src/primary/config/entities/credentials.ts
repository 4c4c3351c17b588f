/**
 * Credential DAOs of the auth plugins (`kong/plugins/{key-auth,basic-auth,jwt,acl}/daos.lua`).
 * Auto-generated secrets (key-auth key, jwt key/secret) are left null here: they belong to the
 * credential store that auth plugins will add, so the configuration hash stays stable.
 */
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import type { Path, Problems } from '../problems';
import type { EntityDef } from './types';

const base: Record<string, Field> = { id: t.uuid, created_at: t.autoTimestamp, tags: t.tags };

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

function plain(fields: Record<string, Field>) {
  return (raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>) =>
    validateRecord(fields, raw, path, pr, undefined, { skip });
}

const keyauthFields: Record<string, Field> = { ...base, key: { type: 'string' }, ttl: { type: 'integer', between: [0, 100000000] } };
const basicauthFields: Record<string, Field> = { ...base, username: { type: 'string', required: true }, password: { type: 'string', required: true } };
const jwtFields: Record<string, Field> = {
  ...base,
  key: { type: 'string' },
  secret: { type: 'string' },
  rsa_public_key: { type: 'string' },
  algorithm: { type: 'string', oneOf: JWT_ALGORITHMS, default: 'HS256' },
};
const aclFields: Record<string, Field> = { ...base, group: { type: 'string', required: true } };

export const keyauth_credentials: EntityDef = {
  name: 'keyauth_credentials',
  singular: 'key-auth credential',
  fields: keyauthFields,
  endpointKey: 'key',
  endpointKeyUnique: true,
  cacheKey: ['key'],
  foreign: { consumer: 'consumers' },
  requiredForeign: ['consumer'],
  children: [],
  validate: plain(keyauthFields),
};

export const basicauth_credentials: EntityDef = {
  name: 'basicauth_credentials',
  singular: 'basic-auth credential',
  fields: basicauthFields,
  endpointKey: 'username',
  endpointKeyUnique: true,
  cacheKey: ['username'],
  foreign: { consumer: 'consumers' },
  requiredForeign: ['consumer'],
  children: [],
  validate: plain(basicauthFields),
};

export const jwt_secrets: EntityDef = {
  name: 'jwt_secrets',
  singular: 'jwt secret',
  fields: jwtFields,
  endpointKey: 'key',
  endpointKeyUnique: true,
  cacheKey: ['key'],
  foreign: { consumer: 'consumers' },
  requiredForeign: ['consumer'],
  children: [],
  validate(raw, path, pr, skip) {
    const rec = validateRecord(jwtFields, raw, path, pr, undefined, { skip });
    const algo = rec?.algorithm;
    if (rec && typeof algo === 'string' && !algo.startsWith('HS') && rec.rsa_public_key === null) {
      pr.err([...path, 'rsa_public_key'], `required field missing (algorithm '${algo}' needs a public key)`);
    }
    return rec;
  },
};

export const acls: EntityDef = {
  name: 'acls',
  singular: 'acl',
  fields: aclFields,
  cacheKey: ['consumer', 'group'],
  foreign: { consumer: 'consumers' },
  requiredForeign: ['consumer'],
  children: [],
  validate: plain(aclFields),
};
