/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): parsing an incoming `traceparent`,
 * formatting the outgoing one, random ids, and Kong's ratio sampler.
 */
import { randomFillSync } from 'node:crypto';

export interface Incoming {
  traceId: Buffer;
  /** The caller's span: the parent of the gateway's root span. */
  parentId: Buffer;
  flags: number;
}

const HEX = /^[0-9a-f]+$/;

/**
 * A valid traceparent, or null (then the request starts a new trace, as the spec says). Version
 * 00 is exactly 55 characters; a later version may append fields after a '-'; version ff and
 * all-zero ids are invalid.
 */
export function parseTraceparent(value: string | null): Incoming | null {
  if (value === null || value.length < 55) return null;
  const v = value.trim().toLowerCase();
  if (v.length < 55 || v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return null;
  const version = v.slice(0, 2);
  if (version === 'ff' || !HEX.test(version)) return null;
  if (version === '00' ? v.length !== 55 : v.length > 55 && v[55] !== '-') return null;
  const trace = v.slice(3, 35);
  const parent = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX.test(trace) || !HEX.test(parent) || !HEX.test(flags)) return null;
  if (/^0+$/.test(trace) || /^0+$/.test(parent)) return null;
  return { traceId: Buffer.from(trace, 'hex'), parentId: Buffer.from(parent, 'hex'), flags: parseInt(flags, 16) };
}

export function formatTraceparent(traceId: Buffer, spanId: Buffer, flags: number): string {
  return `00-${traceId.toString('hex')}-${spanId.toString('hex')}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

// Random ids come from one pool refilled 4 KiB at a time: one syscall per ~170 requests.
const POOL = Buffer.alloc(4096);
let poolPos = POOL.length;

/** A random non-zero id of `n` bytes (8: span, 16: trace), in its own Buffer. */
export function randomId(n: number): Buffer {
  for (;;) {
    if (poolPos + n > POOL.length) {
      randomFillSync(POOL);
      poolPos = 0;
    }
    const id = Buffer.allocUnsafe(n);
    POOL.copy(id, 0, poolPos, poolPos + n);
    poolPos += n;
    for (let i = 0; i < n; i++) if (id[i] !== 0) return id;
  }
}

/**
 * Kong's ratio sampler: deterministic per trace id (every hop that samples at the same rate
 * decides alike), from the id's random low half.
 */
export function sampledByRate(traceId: Buffer, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return traceId.readUInt32BE(12) < rate * 0x100000000;
}
