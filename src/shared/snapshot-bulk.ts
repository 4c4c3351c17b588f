/**
 * The bulk of a Snapshot (services, routes, consumers, credentials, plugins: nearly all of 100,000
 * consumers' 12 MB) is never changed by the primary after compile; only the settings, upstreams
 * and certificates are (reload.ts, dns/, health/, tls/). The compile thread packs the bulk once;
 * the primary keeps those bytes with the snapshot, reads the fields from them only when it first
 * needs them (metrics names), and sends them to the workers as they are (protocol.ts), instead of
 * unpacking 12 MB and packing it again for every reload.
 *
 * On the wire the bulk's consumers and credentials are one consumer directory (consumer-directory.ts):
 * `wireBulk()` makes it, `bulkFromWire()` gives the lists back to the primary; workers read the
 * directory as it is.
 *
 * Such a snapshot's bulk fields are getters. `{ ...snapshot }` still works (it reads them, and the
 * copy goes to workers packed whole); snapshotWith() keeps them, so the copy still goes as bytes.
 */
import type { Snapshot } from './snapshot';
import { ConsumerDirectory, encodeDirectory } from './consumer-directory';

export const BULK_FIELDS = ['services', 'routes', 'consumers', 'credentials', 'plugins'] as const;
export type BulkField = (typeof BULK_FIELDS)[number];
export type SnapshotBulk = Pick<Snapshot, BulkField>;
export type SnapshotHead = Omit<Snapshot, BulkField>;

/** The bulk as it is packed and sent to workers. */
export interface WireBulk extends Pick<Snapshot, 'services' | 'routes' | 'plugins'> {
  directory: Uint8Array;
}

export function wireBulk(s: SnapshotBulk): WireBulk {
  return { services: s.services, routes: s.routes, plugins: s.plugins, directory: encodeDirectory(s.consumers, s.credentials) };
}

/** The snapshot's bulk fields from a WireBulk (the primary reads its consumers this way). */
export function bulkFromWire(w: WireBulk): SnapshotBulk {
  const { consumers, credentials } = new ConsumerDirectory(w.directory).toLists();
  return { services: w.services, routes: w.routes, plugins: w.plugins, consumers, credentials };
}

const PACKED = Symbol('packed snapshot bulk');

interface Packed {
  bytes: Uint8Array;
  /** The getters this bulk installed: a field whose getter is another (or a value) is not these bytes. */
  getters: Record<BulkField, () => unknown>;
}

/** `head` (changed in place) with its bulk fields read from `bytes` when first used. */
export function withPackedBulk(head: SnapshotHead, bytes: Uint8Array, unpack: (bytes: Uint8Array) => SnapshotBulk): Snapshot {
  let bulk: SnapshotBulk | null = null;
  const getters = {} as Packed['getters'];
  for (const f of BULK_FIELDS) {
    const get = (): unknown => (bulk ??= unpack(bytes))[f];
    getters[f] = get;
    Object.defineProperty(head, f, { get, enumerable: true, configurable: true });
  }
  Object.defineProperty(head, PACKED, { value: { bytes, getters } satisfies Packed, enumerable: false });
  return head as Snapshot;
}

/** The packed bulk of `s` when every bulk field is still read from it; null otherwise. */
export function packedBulkOf(s: Snapshot): Uint8Array | null {
  const p = (s as unknown as Record<symbol, Packed | undefined>)[PACKED];
  if (p === undefined) return null;
  for (const f of BULK_FIELDS) {
    if (Object.getOwnPropertyDescriptor(s, f)?.get !== p.getters[f]) return null;
  }
  return p.bytes;
}

/** The snapshot's fields but the bulk, for packing beside packedBulkOf()'s bytes. */
export function snapshotHead(s: Snapshot): SnapshotHead {
  const head: Record<string, unknown> = {};
  for (const k of Object.keys(s)) if (!(BULK_FIELDS as readonly string[]).includes(k)) head[k] = (s as unknown as Record<string, unknown>)[k];
  return head as unknown as SnapshotHead;
}

/** `{ ...s, ...changes }` that keeps packed bulk fields packed (`changes` names no bulk field). */
export function snapshotWith(s: Snapshot, changes: Partial<SnapshotHead>): Snapshot {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(s)) as Snapshot;
  for (const [k, v] of Object.entries(changes)) Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
  return out;
}
