/** Kong `kong/db/schema/entities/consumers.lua`. */
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import type { Path, Problems } from '../problems';
import type { EntityDef } from './types';

const fields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  username: { type: 'string' },
  custom_id: { type: 'string' },
  tags: t.tags,
};

function validate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined {
  const rec = validateRecord(fields, raw, path, pr, undefined, { skip });
  if (rec && raw.username == null && raw.custom_id == null) {
    pr.err(path, "at least one of these fields must be non-empty: 'custom_id', 'username'");
  }
  return rec;
}

export const consumers: EntityDef = {
  name: 'consumers',
  singular: 'consumer',
  fields,
  endpointKey: 'username',
  endpointKeyUnique: true,
  foreign: {},
  children: ['plugins', 'keyauth_credentials', 'basicauth_credentials', 'jwt_secrets', 'acls'],
  validate,
};
