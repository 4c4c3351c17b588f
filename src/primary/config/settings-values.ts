/**
 * Parsers for kong.conf-style values. Each accepts what YAML gives (number, boolean, list) and
 * what an environment variable gives (always a string), and returns a value or an error message.
 */
import { isIP } from 'node:net';
import type { ListenAddress, LogLevel } from '../../shared/settings';
import { parseHostPort } from './typedefs';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** Kong's listen form: `0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 ssl` → first address. */
export function parseListen(v: unknown, name: string): Parsed<ListenAddress> {
  const text = Array.isArray(v) ? v[0] : v;
  if (typeof text !== 'string') return fail(`expected a string such as '0.0.0.0:8000'`);
  const first = text.split(',')[0].trim().split(/\s+/)[0] ?? '';
  if (first === 'off') return fail(`'off' is not supported for ${name}: Hyperway needs this listener`);
  const p = parseHostPort(first);
  if (!p || p.port === null) return fail(`invalid listen address '${first}': expected <ip>:<port>, e.g. 0.0.0.0:8000`);
  return ok({ host: p.host, port: p.port });
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

export function parseLogLevel(v: unknown): Parsed<LogLevel> {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
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

export function parseOneOf(v: unknown, allowed: readonly string[]): Parsed<string> {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  return allowed.includes(s as string) ? ok(s as string) : fail(`expected one of: ${allowed.join(', ')}`);
}
