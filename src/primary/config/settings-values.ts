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

/** Flags of a Kong listen entry that uWS honours anyway (it always sets SO_REUSEPORT). */
const HONOURED_FLAGS = new Set(['reuseport']);
/** Flags Kong accepts that change nothing Hyperway can control: accepted, and said so. */
const IGNORED_FLAG = /^(?:deferred|bind|backlog=\d+|ipv6only=(?:on|off)|so_keepalive=\S+)$/;

/**
 * Kong's listen form, `0.0.0.0:8000 reuseport backlog=16384, [::]:8000, 0.0.0.0:8443 http2 ssl`:
 * every plain entry. An `ssl` or `http2` entry Hyperway cannot serve yet is left out with a
 * warning naming it (Kong's Docker defaults carry one), as long as a plain entry remains;
 * `proxy_protocol` is an error, since silently ignoring it breaks every request behind a
 * PROXY-protocol load balancer.
 * @param offOk whether `off` (no listener at all) is allowed: it gives the empty list
 * @param sslServed `ssl` entries are served (parseSslListens gives them), not skipped
 * @param sslOnlyOk `ssl` entries alone are enough (admin_listen): the plain list is then empty
 */
export function parseListens(v: unknown, name: string, offOk = false, sslServed = false, sslOnlyOk = false): Parsed<ListenAddress[]> {
  const entries = Array.isArray(v) ? v : [v];
  if (entries.some((e) => typeof e !== 'string')) return fail(`expected a string such as '0.0.0.0:8000'`);
  const parts = (entries as string[]).flatMap((e) => e.split(',')).map((e) => e.trim()).filter((e) => e !== '');
  if (parts.length === 1 && parts[0].toLowerCase() === 'off') {
    return offOk ? ok([]) : fail(`'off' is not supported for ${name}: Hyperway needs this listener`);
  }
  const out: ListenAddress[] = [];
  const notes: string[] = [];
  const skipped: string[] = [];
  let sslSeen = false;
  for (const part of parts) {
    const [address, ...flags] = part.split(/\s+/);
    const p = parseHostPort(address);
    if (!p || p.port === null) return fail(`invalid listen address '${address}': expected <ip>:<port>, e.g. 0.0.0.0:8000`);
    if (flags.includes('proxy_protocol')) return fail(`proxy_protocol listeners are not supported yet: '${part}' (the PROXY header would be read as a request)`);
    const unknown = flags.find((f) => f !== 'ssl' && f !== 'http2' && !HONOURED_FLAGS.has(f) && !IGNORED_FLAG.test(f));
    if (unknown !== undefined) return fail(`invalid listen flag '${unknown}' in '${part}'`);
    // With sslServed (proxy_listen), `ssl` entries are parseSslListens' to serve (HTTP/1.1 over
    // TLS: uWS negotiates no h2, so an `http2 ssl` entry is served as HTTP/1.1 through ALPN fallback).
    if (sslServed && flags.includes('ssl')) {
      sslSeen = true;
      continue;
    }
    if (flags.includes('ssl') || flags.includes('http2')) {
      skipped.push(part);
      continue;
    }
    const ignored = flags.filter((f) => IGNORED_FLAG.test(f));
    if (ignored.length > 0) notes.push(`${ignored.join(' ')} on ${address} ignored`);
    if (!out.some((a) => a.host === p.host && a.port === p.port)) out.push({ host: p.host, port: p.port });
  }
  if (out.length === 0 && sslSeen) {
    // admin_listen: node's TLS serves an ssl-only Admin API; proxy workers need a plain entry.
    if (sslOnlyOk) return ok(out);
    return fail('an ssl entry needs a plain HTTP entry beside it (Hyperway serves TLS next to plain HTTP, e.g. 0.0.0.0:8000, 0.0.0.0:8443 ssl)');
  }
  if (out.length === 0) {
    return fail(`no plain HTTP entry: ${skipped.map((e) => `'${e}'`).join(', ')} need ssl or http2, which Hyperway does not serve yet`);
  }
  if (skipped.length > 0) notes.unshift(`skipped ${skipped.map((e) => `'${e}'`).join(', ')}: ssl and http2 listeners are not supported yet (Hyperway serves plain HTTP/1.1 on ${out.map(formatAddress).join(', ')})`);
  return ok(out, notes.length > 0 ? notes.join('; ') : undefined);
}

/**
 * The `ssl` entries of proxy_listen or admin_listen (parseListens checked the list as a whole). `http2` on them is
 * accepted and served as HTTP/1.1 (uWS speaks no h2; ALPN lets clients fall back).
 */
export function parseSslListens(v: unknown): Parsed<ListenAddress[]> {
  const entries = Array.isArray(v) ? v : [v];
  // A value of the wrong shape is parseListens' to report (once).
  if (entries.some((e) => typeof e !== 'string')) return ok([]);
  const out: ListenAddress[] = [];
  for (const part of (entries as string[]).flatMap((e) => e.split(',')).map((e) => e.trim())) {
    const [address, ...flags] = part.split(/\s+/);
    if (!flags.includes('ssl')) continue;
    const p = parseHostPort(address);
    if (!p || p.port === null) return ok([]);
    if (!out.some((a) => a.host === p.host && a.port === p.port)) out.push({ host: p.host, port: p.port });
  }
  return ok(out);
}

/** Kong's `ssl_protocols`: uWS 20.30 fixes TLS 1.2 as the floor and TLS 1.3 as the ceiling. */
export function parseSslProtocols(v: unknown): Parsed<string[]> {
  const r = typeof v === 'string' ? ok(v.split(/[\s,]+/).filter((s) => s !== '')) : parseList(v);
  if (!r.ok) return r;
  const known = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  const bad = r.value.find((s) => !known.includes(s));
  if (bad !== undefined) return fail(`invalid protocol '${bad}': expected some of ${known.join(' ')}`);
  const served = r.value.filter((s) => s === 'TLSv1.2' || s === 'TLSv1.3');
  if (served.length === 0) return fail('uWebSockets.js serves only TLSv1.2 and TLSv1.3: name at least one of them');
  const notes: string[] = [];
  if (served.length < r.value.length) notes.push('TLSv1 and TLSv1.1 are never served (uWebSockets.js refuses them)');
  if (served.length === 1) notes.push(`uWebSockets.js cannot turn ${served[0] === 'TLSv1.2' ? 'TLSv1.3' : 'TLSv1.2'} off: both are served`);
  return ok(served, notes.length > 0 ? notes.join('; ') : undefined);
}

/** One listener (status_listen): the first plain entry of the list form. */
export function parseListen(v: unknown, name: string): Parsed<ListenAddress> {
  const r = parseListens(v, name);
  return r.ok ? ok(r.value[0], r.warning) : r;
}

/** `admin_token`: sent in a header, so visible ASCII only; short tokens are guessable. */
export function parseToken(v: unknown): Parsed<string | null> {
  if (typeof v !== 'string' || !/^[\x21-\x7e]+$/.test(v)) return fail('expected a token of visible ASCII characters (no spaces)');
  if (v.length < 16) return ok(v, 'an admin token shorter than 16 characters is easy to guess');
  return ok(v);
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
