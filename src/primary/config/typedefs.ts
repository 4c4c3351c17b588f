/**
 * Kong's typedefs (`kong/db/schema/typedefs.lua`) as Field values: the checks that need no
 * router or entity context. Messages follow Kong's wording where Kong has one.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Field } from './schema';

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`, 'i');

export interface HostPort {
  host: string;
  port: number | null;
  kind: 'ipv4' | 'ipv6' | 'name';
}

/** `host`, `host:port`, `[v6]:port` or bare v6 → parts; null when not a valid host. */
export function parseHostPort(s: string): HostPort | null {
  let host = s;
  let portText: string | null = null;
  const bracket = /^\[([^\]]+)\](?::(\d*))?$/.exec(s);
  if (bracket) {
    host = bracket[1];
    portText = bracket[2] ?? null;
    if (!isIPv6(host)) return null;
  } else if (isIPv6(s)) {
    return { host: s, port: null, kind: 'ipv6' };
  } else {
    const i = s.lastIndexOf(':');
    if (i >= 0) {
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    }
  }
  let port: number | null = null;
  if (portText !== null) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port > 65535) return null;
  }
  if (bracket) return { host, port, kind: 'ipv6' };
  if (isIPv4(host)) return { host, port, kind: 'ipv4' };
  if (/^[\d.]+$/.test(host) || host.length > 253 || !HOSTNAME_RE.test(host)) return null;
  return { host, port, kind: 'name' };
}

export function checkHost(v: unknown): string | null {
  const p = parseHostPort(v as string);
  if (!p) return `invalid value: ${String(v)}`;
  if (p.port !== null) return 'must not have a port';
  return null;
}

/** Kong's `validate_path`: RFC 3986 characters and valid %XX escapes. */
export function checkPathChars(path: string): string | null {
  if (!/^[\w.\-~/%:@!$&'()*+,;=]*$/.test(path)) {
    return `invalid path: '${path}' (characters outside of the reserved list of RFC 3986 found)`;
  }
  return checkPercentEncoding(path);
}

/** Kong's `validate_path` "percent" error: every `%` starts a valid `%XX` escape. */
export function checkPercentEncoding(path: string): string | null {
  const bad = /%(?![0-9a-fA-F]{2}).{0,2}/.exec(path);
  return bad ? `invalid url-encoded value: '${bad[0]}'` : null;
}

export function checkPath(v: unknown): string | null {
  const s = v as string;
  if (!s.startsWith('/')) return 'should start with: /';
  if (s.includes('//')) return 'must not have empty segments';
  return checkPathChars(s);
}

export const port: Field = { type: 'integer', between: [0, 65535] };
export const host: Field = { type: 'string', check: checkHost };
export const path: Field = { type: 'string', check: checkPath };
export const timeout: Field = { type: 'integer', between: [1, 2 ** 31 - 2], default: 60000 };
export const autoTimestamp: Field = { type: 'integer' };

export const uuid: Field = {
  type: 'string',
  match: { re: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, err: 'expected a valid UUID' },
};

export const utf8Name: Field = {
  type: 'string',
  check: (v) =>
    /^[\p{L}\p{N}._~-]+$/u.test(v as string)
      ? null
      : `invalid value '${String(v)}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`,
};

export const tags: Field = {
  type: 'set',
  elements: {
    type: 'string',
    check: (v) =>
      /[,/]/.test(v as string) || /[\x00-\x1f\x7f]/.test(v as string)
        ? `invalid tag '${String(v)}': expected printable ascii (except \`,\` and \`/\`) or valid utf-8 sequences`
        : null,
  },
};

export const headerName: Field = {
  type: 'string',
  check: (v) =>
    /^[A-Za-z0-9_-]+$/.test(v as string)
      ? null
      : `bad header name '${String(v)}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
};

export const sni: Field = {
  type: 'string',
  check: (v) => {
    const s = (v as string).startsWith('*.') ? (v as string).slice(2) : (v as string);
    const p = parseHostPort(s);
    if (!p || p.port !== null) return `invalid value: ${String(v)}`;
    if (p.kind !== 'name') return 'must not be an IP';
    return null;
  },
};

/** Protocols Kong knows (`kong/constants.lua`); Hyperway serves only the http subset. */
export const KONG_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'tcp', 'tls', 'tls_passthrough', 'udp'] as const;
export const HTTP_PROTOCOLS: ReadonlySet<string> = new Set(['http', 'https']);

export const protocols: Field = { type: 'set', elements: { type: 'string', oneOf: KONG_PROTOCOLS } };

/** Kong's `host_with_optional_port`: a host name or IP, with or without `:port`. */
export const hostWithOptionalPort: Field = {
  type: 'string',
  check: (v) => (parseHostPort(v as string) ? null : `invalid value: ${String(v)}`),
};
