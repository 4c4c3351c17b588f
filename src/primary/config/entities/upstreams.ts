/** Kong `kong/db/schema/entities/upstreams.lua`: hashing rules and the algorithm shorthands. */
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import type { Path, Problems } from '../problems';
import type { EntityDef } from './types';
import { HEALTHCHECKS_FIELD } from './healthchecks';

const HASH_ON = ['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture'] as const;
const hashOn: Field = { type: 'string', oneOf: HASH_ON, default: 'none' };

function checkUpstreamName(v: unknown): string | null {
  const p = t.parseHostPort(v as string);
  if (!p) return 'Invalid name; must be a valid hostname';
  if (p.kind !== 'name') return 'Invalid name; no ip addresses allowed';
  if (p.port !== null) return 'Invalid name; no port allowed';
  return null;
}

const fields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  name: { type: 'string', required: true, check: checkUpstreamName },
  algorithm: { type: 'string', oneOf: ['consistent-hashing', 'least-connections', 'round-robin', 'latency'], default: 'round-robin' },
  hash_on: hashOn,
  hash_fallback: hashOn,
  hash_on_header: t.headerName,
  hash_fallback_header: t.headerName,
  hash_on_cookie: { type: 'string', match: { re: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, err: 'invalid cookie name' } },
  hash_on_cookie_path: { ...t.path, default: '/' },
  hash_on_query_arg: { type: 'string' },
  hash_fallback_query_arg: { type: 'string' },
  hash_on_uri_capture: { type: 'string' },
  hash_fallback_uri_capture: { type: 'string' },
  slots: { type: 'integer', between: [10, 65536], default: 10000 },
  healthchecks: HEALTHCHECKS_FIELD,
  tags: t.tags,
  // Kong's typedefs.host_with_optional_port: `example.com:8080` is accepted.
  host_header: t.hostWithOptionalPort,
  client_certificate: { type: 'any' },
  use_srv_name: { type: 'boolean', default: false },
};

/** hash mode → the field naming what to hash (primary, fallback). */
const NAMED: Record<string, [string, string]> = {
  header: ['hash_on_header', 'hash_fallback_header'],
  query_arg: ['hash_on_query_arg', 'hash_fallback_query_arg'],
  uri_capture: ['hash_on_uri_capture', 'hash_fallback_uri_capture'],
};

function validate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined {
  const rec = validateRecord(fields, raw, path, pr, undefined, { skip });
  if (!rec) return undefined;
  applyShorthands(raw, rec, path, pr);
  checkHashing(rec, path, pr);
  if (rec.client_certificate !== null && rec.client_certificate !== undefined) {
    pr.warn([...path, 'client_certificate'], "'client_certificate' is not implemented by Hyperway yet and is ignored");
  }
  warnNotYetRun(raw, rec, path, pr);
  return rec;
}

/** What loads but does not run yet: say so at load time rather than check differently in silence (gRPC probes are TCP connects). */
function warnNotYetRun(raw: Record<string, unknown>, rec: Record<string, unknown>, path: Path, pr: Problems): void {
  const type = (rec.healthchecks as { active?: { type?: string } } | undefined)?.active?.type;
  if (raw.healthchecks != null && (type === 'grpc' || type === 'grpcs')) {
    pr.warn([...path, 'healthchecks', 'active', 'type'], `active checks of type '${type}' are not implemented yet: Hyperway probes these targets with a TCP connect`);
  }
}

/**
 * Kong's shorthands: least-connections/latency clear hash_on; a non-none hash_on switches the
 * algorithm to consistent-hashing, an explicit `hash_on: none` switches consistent-hashing to
 * round-robin (nothing to hash on). Done as a warning here so the user sees the switch.
 */
function applyShorthands(raw: Record<string, unknown>, rec: Record<string, unknown>, path: Path, pr: Problems): void {
  const algo = rec.algorithm;
  if (algo === 'least-connections' || algo === 'latency') {
    if (rec.hash_on !== 'none' && raw.hash_on != null) {
      pr.warn([...path, 'hash_on'], `hash_on is ignored with algorithm '${String(algo)}' (it only applies to consistent-hashing)`);
    }
    rec.hash_on = 'none';
    rec.hash_fallback = 'none';
    return;
  }
  if (algo === 'consistent-hashing' && raw.hash_on === 'none') {
    pr.warn([...path, 'algorithm'], "algorithm 'consistent-hashing' becomes 'round-robin' because hash_on is 'none'");
    rec.algorithm = 'round-robin';
    return;
  }
  if (typeof rec.hash_on === 'string' && rec.hash_on !== 'none' && algo !== 'consistent-hashing') {
    if (raw.algorithm != null) {
      pr.warn([...path, 'algorithm'], `algorithm '${String(algo)}' becomes 'consistent-hashing' because hash_on is '${rec.hash_on}'`);
    }
    rec.algorithm = 'consistent-hashing';
  }
}

function checkHashing(rec: Record<string, unknown>, path: Path, pr: Problems): void {
  const on = rec.hash_on as string | undefined;
  const fb = rec.hash_fallback as string | undefined;
  if (on === undefined || fb === undefined) return;
  if (on === 'cookie' || fb === 'cookie') {
    if (rec.hash_on_cookie === null) pr.err([...path, 'hash_on_cookie'], "required field missing (hashing on 'cookie')");
  }
  for (const [mode, [onField, fbField]] of Object.entries(NAMED)) {
    if (on === mode && rec[onField] === null) pr.err([...path, onField], `required field missing (hash_on is '${mode}')`);
    if (fb === mode && rec[fbField] === null) pr.err([...path, fbField], `required field missing (hash_fallback is '${mode}')`);
  }
  if ((on === 'none' || on === 'cookie') && fb !== 'none') {
    pr.err([...path, 'hash_fallback'], `expected one of: none (hash_fallback must be 'none' when hash_on is '${on}')`);
    return;
  }
  if (on !== 'none' && on === fb) {
    const named = NAMED[on];
    if (!named) {
      pr.err([...path, 'hash_fallback'], `hash_fallback must differ from hash_on ('${on}')`);
    } else if (rec[named[0]] !== null && rec[named[0]] === rec[named[1]]) {
      pr.err([...path, named[1]], `must differ from ${named[0]} ('${String(rec[named[0]])}')`);
    }
  }
}

export const upstreams: EntityDef = {
  name: 'upstreams',
  singular: 'upstream',
  fields,
  endpointKey: 'name',
  endpointKeyUnique: true,
  foreign: {},
  children: ['targets'],
  validate,
};
