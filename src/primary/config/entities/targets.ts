/** Kong `kong/db/schema/entities/targets.lua`: `host[:port]`, port 8000 when omitted. */
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import type { Path, Problems } from '../problems';
import type { EntityDef } from './types';

export const DEFAULT_TARGET_PORT = 8000;

function checkTarget(v: unknown): string | null {
  const p = t.parseHostPort(v as string);
  if (!p) return 'Invalid target; not a valid hostname or ip address';
  if (p.port === 0) return 'Invalid target; port must be between 1 and 65535';
  return null;
}

const fields: Record<string, Field> = {
  id: t.uuid,
  created_at: { type: 'number' },
  updated_at: { type: 'number' },
  target: { type: 'string', required: true, check: checkTarget },
  weight: { type: 'integer', between: [0, 65535], default: 100 },
  tags: t.tags,
};

/** `target` → its host, port and the normalised `host:port` Kong stores. */
export function normalizeTarget(target: string): { host: string; port: number; target: string } {
  const p = t.parseHostPort(target);
  if (!p) throw new Error(`normalizeTarget: invalid target ${target}`); // validated before compile
  const port = p.port ?? DEFAULT_TARGET_PORT;
  const host = p.kind === 'name' ? p.host.toLowerCase() : p.host;
  return { host, port, target: `${p.kind === 'ipv6' ? `[${host}]` : host}:${port}` };
}

function validate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined {
  const rec = validateRecord(fields, raw, path, pr, undefined, { skip });
  if (rec && typeof rec.target === 'string') rec.target = normalizeTarget(rec.target).target;
  return rec;
}

export const targets: EntityDef = {
  name: 'targets',
  singular: 'target',
  fields,
  endpointKey: 'target',
  endpointKeyUnique: false,
  foreign: { upstream: 'upstreams' },
  requiredForeign: ['upstream'],
  children: [],
  validate,
};
