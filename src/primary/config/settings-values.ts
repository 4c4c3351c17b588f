/**
 * Parsers for kong.conf-style values. Each accepts what YAML gives (number, boolean, list) and
 * what an environment variable gives (always a string), and returns a value or an error message.
 */
import { isIP } from 'node:net';
import { formatAddress, type ListenAddress, type LogLevel } from '../../shared/settings';
import { parseHostPort } from './typedefs';

/** `warning`: accepted, but the user should hear how it was taken. */
export type Parsed<T> = { ok: true; value: T; warning?: string } | { ok: false; error: string };
const ok = <T>(value: T, warning?: string): Parsed<T> => (warning === undefined ? { ok: true, value } : { ok: true, value, warning });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/**
 * Kong's listen form: `0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 ssl` → the first
 * address. Flags Hyperway cannot honour (`ssl`, `http2`) on any entry are errors rather than a
 * listener that silently speaks plain HTTP/1.1 (or is silently left out).
 * @param off the value `off` stands for (with a warning), or null when `off` is an error
 */
export function parseListen(v: unknown, name: string, off: ListenAddress | null = null): Parsed<ListenAddress> {
  const entries = Array.isArray(v) ? v : [v];
  if (entries.some((e) => typeof e !== 'string')) return fail(`expected a string such as '0.0.0.0:8000'`);
  const parts = (entries as string[]).flatMap((e) => e.split(',')).map((e) => e.trim()).filter((e) => e !== '');
  for (const part of parts) {
    const flags = part.split(/\s+/).slice(1);
    if (flags.includes('ssl')) return fail(`ssl listeners are not supported yet: '${part}' (Hyperway serves plain HTTP; remove this entry)`);
    if (flags.includes('http2')) return fail(`http2 listeners are not supported yet: '${part}' (Hyperway serves HTTP/1.1; remove the http2 flag)`);
  }
  const first = parts[0]?.split(/\s+/)[0] ?? '';
  if (first === 'off') {
    if (off === null) return fail(`'off' is not supported for ${name}: Hyperway needs this listener`);
    return ok(off, `'off' is not supported for ${name}: the Admin API stays on ${formatAddress(off)}`);
  }
  const p = parseHostPort(first);
  if (!p || p.port === null) return fail(`invalid listen address '${first}': expected <ip>:<port>, e.g. 0.0.0.0:8000`);
  return ok({ host: p.host, port: p.port });
}

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * nginx's time form, in ms: `60s`, `500ms`, `1m`, `1h`, or a bare number of seconds (nginx's
 * default unit). Timers take at most 2^31-1 ms.
 */
export function parseNginxTime(v: unknown): Parsed<number> {
  const m = typeof v === 'number' ? [String(v), String(v), 's'] : typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v) : null;
  if (m === null) return fail(`expected a time such as 60s, 500ms or 1m`);
  const ms = Math.round(Number(m[1]) * TIME_UNITS[m[2] ?? 's']);
  if (!Number.isFinite(ms) || ms < 0 || ms > 2 ** 31 - 1) return fail('value should be between 0 and 2147483647 ms');
  return ok(ms);
}

/**
 * nginx's size form, in bytes: `8k`, `1m`, or a bare number of bytes. Held per request in
 * memory (client_body_buffer_size), so at most 64m.
 */
export function parseNginxSize(v: unknown): Parsed<number> {
  const m = typeof v === 'number' ? [String(v), String(v), ''] : typeof v === 'string' ? /^\s*(\d+)\s*([km]?)\s*$/i.exec(v) : null;
  if (m === null) return fail('expected a size such as 8k, 16k or 1m');
  const n = Number(m[1]) * (m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024);
  if (!Number.isSafeInteger(n) || n > 64 * 1024 * 1024) return fail('value should be between 0 and 64m');
  return ok(n);
}

export function parseBool(v: unknown): Parsed<boolean> {
  if (typeof v === 'boolean') return ok(v);
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'on' || s === 'true') return ok(true);
    if (s === 'off' || s === 'false') return ok(false);
  }
  return fail('expected on, off, true or false');
}

export function parseInt_(v: unknown, min: number, max: number): Parsed<number> {
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) return fail('expected an integer');
  if (n < min || n > max) return fail(`value should be between ${min} and ${max}`);
  return ok(n);
}

export function parseNumber(v: unknown, min: number, max: number): Parsed<number> {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) return fail('expected a number');
  if (n < min || n > max) return fail(`value should be between ${min} and ${max}`);
  return ok(n);
}

export function parseWorkers(v: unknown): Parsed<number> {
  if (typeof v === 'string' && v.trim().toLowerCase() === 'auto') return ok(0);
  const r = parseInt_(v, 0, 1024);
  return r.ok ? r : fail(`${r.error} (or "auto" for one worker per core)`);
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'notice', 'warn', 'error'];
/** Kong's (nginx's) levels above error; Hyperway logs nothing more severe than error. */
const SEVERE_LEVELS = new Set(['crit', 'alert', 'emerg']);

export function parseLogLevel(v: unknown): Parsed<LogLevel> {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  if (typeof s === 'string' && SEVERE_LEVELS.has(s)) return ok('error');
  return LOG_LEVELS.includes(s as LogLevel) ? ok(s as LogLevel) : fail(`expected one of: ${LOG_LEVELS.join(', ')}`);
}

/** A YAML list or a comma-separated string; `off` (alone) is the empty list, as in kong.conf. */
export function parseList(v: unknown): Parsed<string[]> {
  let items: unknown[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'string') items = v.split(',');
  else return fail('expected a list or a comma-separated string');
  const out: string[] = [];
  for (const it of items) {
    if (typeof it !== 'string') return fail('expected a list of strings');
    const s = it.trim();
    if (s !== '') out.push(s);
  }
  if (out.length === 1 && out[0].toLowerCase() === 'off') return ok([]);
  return ok(out);
}

export function parseCidrs(v: unknown): Parsed<string[]> {
  const r = parseList(v);
  if (!r.ok) return r;
  for (const s of r.value) {
    if (s === 'unix:') continue;
    const [ip, bits, extra] = s.split('/');
    const fam = isIP(ip);
    const max = fam === 6 ? 128 : 32;
    if (fam === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
      return fail(`invalid IP address or CIDR: '${s}'`);
    }
  }
  return r;
}

/** A list whose entries must come from `allowed` (case-insensitive); stored lowercased. */
export function parseChoiceList(v: unknown, allowed: readonly string[]): Parsed<string[]> {
  const r = parseList(v);
  if (!r.ok) return r;
  const lower = r.value.map((s) => s.toLowerCase());
  const bad = lower.find((s) => !allowed.includes(s));
  if (bad !== undefined) return fail(`invalid value '${bad}': expected one of: ${allowed.join(', ')}, off`);
  return ok(lower);
}

export function parseHeaderName(v: unknown): Parsed<string> {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v.trim())) return fail('expected a header name');
  return ok(v.trim().toLowerCase());
}

/** Any string (a YAML number is taken as its text: `pg_password: 1234`). */
export function parseText(v: unknown): Parsed<string> {
  if (typeof v === 'number') return ok(String(v));
  return typeof v === 'string' ? ok(v) : fail('expected a string');
}

export function parseOneOf(v: unknown, allowed: readonly string[]): Parsed<string> {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  return allowed.includes(s as string) ? ok(s as string) : fail(`expected one of: ${allowed.join(', ')}`);
}

/**
 * nginx's `large_client_header_buffers <number> <size>` (`4 8k`): sizes in bytes, `k` or `m`.
 * A size under 1 KiB would refuse ordinary requests; above 1 MiB uWS's own limit (set from it
 * at fork) would let one connection hold that much unparsed head.
 */
export function parseHeaderBuffers(v: unknown): Parsed<{ count: number; size: number }> {
  const m = typeof v === 'string' ? /^\s*(\d+)\s+(\d+)([km]?)\s*$/i.exec(v) : null;
  if (m === null) return fail("expected '<number> <size>', e.g. '4 8k'");
  const count = Number(m[1]);
  const size = Number(m[2]) * (m[3] === '' ? 1 : m[3].toLowerCase() === 'k' ? 1024 : 1024 * 1024);
  if (count < 1 || count > 64) return fail('the number of buffers should be between 1 and 64');
  if (size < 1024 || size > 1024 * 1024) return fail('the buffer size should be between 1k and 1m');
  if (count * size > 4 * 1024 * 1024) return fail('number * size should be at most 4m');
  return ok({ count, size });
}

/** `dns_resolver`: `ip[:port]` entries (port 53 when omitted); names are refused, a resolver must not need one. */
export function parseNameservers(v: unknown): Parsed<string[]> {
  const r = parseList(v);
  if (!r.ok) return r;
  for (const s of r.value) {
    const p = parseHostPort(s);
    if (p === null || p.kind === 'name' || p.port === 0) return fail(`invalid nameserver '${s}': expected <ip>[:<port>], e.g. 127.0.0.1:8600`);
  }
  return r;
}

const DNS_TYPES = ['LAST', 'SRV', 'A', 'AAAA', 'CNAME'];

/** `dns_order`: LAST, SRV, A, AAAA, CNAME in any order (case-insensitive), at least one. */
export function parseDnsOrder(v: unknown): Parsed<string[]> {
  const r = parseList(v);
  if (!r.ok) return r;
  const upper = r.value.map((s) => s.toUpperCase());
  const bad = upper.find((s) => !DNS_TYPES.includes(s));
  if (bad !== undefined) return fail(`invalid record type '${bad}': expected some of ${DNS_TYPES.join(', ')}`);
  if (upper.length === 0) return fail('expected at least one record type');
  return ok(upper);
}
