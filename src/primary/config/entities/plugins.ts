/**
 * Kong `kong/db/schema/entities/plugins.lua`. The name decides everything else: the registry in
 * src/plugins says whether Hyperway implements it, and supplies the config check when it does.
 */
import { pluginNameProblem, pluginStatus } from '../../../plugins';
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import type { Path, Problems } from '../problems';
import type { EntityDef } from './types';

export const DEFAULT_PLUGIN_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'];

const fields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  name: { type: 'string', required: true },
  instance_name: t.utf8Name,
  config: { type: 'record', fields: {} },
  protocols: { ...t.protocols, default: DEFAULT_PLUGIN_PROTOCOLS },
  enabled: { type: 'boolean', default: true },
  tags: t.tags,
};

const HINTS: Record<string, string> = {
  ordering: "unknown field: 'ordering' (dynamic plugin ordering) is a Kong Enterprise feature",
};

function validate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined {
  // `config` is checked by the plugin's own schema below, not by the entity schema.
  const rec = validateRecord(fields, raw, path, pr, HINTS, { skip: new Set([...skip, 'config']) });
  if (!rec) return undefined;
  if (raw.config !== undefined && raw.config !== null && (typeof raw.config !== 'object' || Array.isArray(raw.config))) {
    pr.err([...path, 'config'], 'expected a record');
    return rec;
  }
  if (typeof rec.name !== 'string') return rec;
  const problem = pluginNameProblem(rec.name);
  if (problem) {
    pr.err([...path, 'name'], problem);
    return rec;
  }
  const status = pluginStatus(rec.name);
  if (status.kind !== 'implemented') return rec;
  const def = status.def;
  const configPath = [...path, 'config'];
  const before = pr.count;
  const config = validateRecord(def.fields, raw.config ?? {}, configPath, pr);
  if (config && pr.count === before) def.check?.(config, (p, message) => pr.err([...configPath, ...p], message));
  rec.config = config ?? {};
  if (raw.protocols == null && status.def.protocols) rec.protocols = [...status.def.protocols];
  return rec;
}

export const plugins: EntityDef = {
  name: 'plugins',
  singular: 'plugin',
  fields,
  cacheKey: ['name', 'route', 'service', 'consumer'],
  foreign: { route: 'routes', service: 'services', consumer: 'consumers' },
  children: [],
  validate,
};
