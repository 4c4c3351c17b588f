/** Kong `kong/db/schema/entities/services.lua`, with the `url` shorthand. */
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import type { Path, Problems } from '../problems';
import type { EntityDef } from './types';
import { HEALTHCHECKS_FIELD } from './healthchecks';

const TLS_ONLY = ['client_certificate', 'tls_verify', 'tls_verify_depth', 'ca_certificates'] as const;

const fields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  name: t.utf8Name,
  protocol: { type: 'string', oneOf: t.KONG_PROTOCOLS, default: 'http' },
  host: { ...t.host, required: true },
  port: { ...t.port, default: 80 },
  path: t.path,
  retries: { type: 'integer', between: [0, 32767], default: 5 },
  connect_timeout: t.timeout,
  write_timeout: t.timeout,
  read_timeout: t.timeout,
  tags: t.tags,
  client_certificate: { type: 'any' },
  tls_verify: { type: 'boolean' },
  tls_verify_depth: { type: 'integer', between: [0, 64] },
  ca_certificates: { type: 'array', elements: t.uuid },
  enabled: { type: 'boolean', default: true },
};

interface ParsedUrl {
  protocol: string;
  host: string;
  port: number;
  path: string | null;
}

/**
 * Kong's `url` shorthand: scheme wins; without a scheme, port 443 means https and anything else
 * http; a missing port is 80 (http) or 443 (https); a missing path is null, `/` stays `/`.
 */
export function parseServiceUrl(url: string): ParsedUrl | string {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):\/\/)?(\[[^\]]*\]|[^/:?#]*)(?::(\d*))?([^?#]*)(\?[^#]*)?(#.*)?$/.exec(url);
  if (!m || m[2] === '') return `invalid url: '${url}'`;
  const [, scheme, rawHost, portText, rawPath] = m;
  if (rawPath !== '' && !rawPath.startsWith('/')) return `invalid url: '${url}'`;
  let port = portText ? Number(portText) : null;
  if (port !== null && port > 65535) return `invalid url: '${url}' (port must be between 0 and 65535)`;
  const protocol = scheme ? scheme.toLowerCase() : port === 443 ? 'https' : 'http';
  port ??= protocol === 'https' ? 443 : 80;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { protocol, host, port, path: rawPath === '' ? null : rawPath };
}

function validate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined {
  let input = raw;
  if (raw.url !== undefined && raw.url !== null) {
    input = expandUrl(raw, path, pr);
  }
  const hints: Record<string, string> = { healthchecks: healthchecksHint(input) };
  const rec = validateRecord(fields, input, path, pr, hints, { skip: new Set([...skip, 'url']) });
  if (!rec) return undefined;
  if (raw.healthchecks !== undefined && raw.healthchecks !== null) {
    // Still check the misplaced block, so every mistake in it shows up in the same run.
    validateRecord(HEALTHCHECKS_FIELD.fields ?? {}, raw.healthchecks, [...path, 'healthchecks'], pr, HEALTHCHECKS_FIELD.hints);
  }
  const protocol = rec.protocol as string | undefined;
  if (protocol !== undefined && !t.HTTP_PROTOCOLS.has(protocol)) {
    pr.err([...path, 'protocol'], unsupportedProtocol(protocol));
  }
  for (const f of TLS_ONLY) {
    if (rec[f] === null || rec[f] === undefined) continue;
    if (protocol !== 'https' && protocol !== 'tls') {
      pr.err([...path, f], `'${f}' can only be set when 'protocol' is 'https' or 'tls'`);
    } else if (f === 'tls_verify_depth') {
      pr.warn([...path, f], "'tls_verify_depth' is not enforced by Hyperway (node's TLS has no chain-depth limit): the chain is verified to a trusted CA whatever its length");
    }
  }
  return rec;
}

function expandUrl(raw: Record<string, unknown>, path: Path, pr: Problems): Record<string, unknown> {
  const urlPath = [...path, 'url'];
  if (typeof raw.url !== 'string') {
    pr.err(urlPath, 'expected a string');
    return { ...raw, host: raw.host ?? 'invalid.url' };
  }
  const parsed = parseServiceUrl(raw.url);
  if (typeof parsed === 'string') {
    pr.err(urlPath, parsed);
    return { ...raw, host: raw.host ?? 'invalid.url' };
  }
  for (const f of ['protocol', 'host', 'port', 'path'] as const) {
    if (raw[f] !== undefined && raw[f] !== null) {
      pr.warn([...path, f], `'${f}' is overridden by 'url' (Kong applies the url shorthand last)`, 'key');
    }
  }
  let protocol = parsed.protocol;
  if (!t.HTTP_PROTOCOLS.has(protocol)) {
    pr.err(urlPath, unsupportedProtocol(protocol));
    protocol = 'http';
  }
  const hostErr = t.checkHost(parsed.host);
  if (hostErr) pr.err(urlPath, `invalid url host '${parsed.host}': ${hostErr}`);
  if (parsed.path !== null) {
    const pathErr = t.checkPath(parsed.path);
    if (pathErr) pr.err(urlPath, `invalid url path: ${pathErr}`);
  }
  const rest = { ...raw };
  delete rest.url;
  // Invalid parts were reported against `url`; keep well-typed stand-ins so they are not reported twice.
  return {
    ...rest,
    protocol,
    host: hostErr ? 'invalid.url' : parsed.host,
    port: parsed.port,
    path: parsed.path === null || t.checkPath(parsed.path) ? null : parsed.path,
  };
}

function unsupportedProtocol(protocol: string): string {
  return `Hyperway supports only 'http' and 'https' services (got '${protocol}')`;
}

function healthchecksHint(svc: Record<string, unknown>): string {
  const host = typeof svc.host === 'string' ? svc.host : '<service host>';
  const port = typeof svc.port === 'number' ? svc.port : 80;
  return (
    `unknown field: healthchecks is an upstream field, not a service field: move it to an upstream named '${host}' ` +
    `(with a target '${host}:${port}') and keep the service host '${host}' pointing at it`
  );
}

export const services: EntityDef = {
  name: 'services',
  singular: 'service',
  fields,
  endpointKey: 'name',
  endpointKeyUnique: true,
  foreign: {},
  children: ['routes', 'plugins'],
  validate,
};
