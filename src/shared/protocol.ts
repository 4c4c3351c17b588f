/**
 * IPC between the primary and its workers: every message is one msgpackr-encoded buffer sent over
 * the child_process channel (serialization 'advanced', so the buffer travels as bytes, not JSON).
 *
 *   primary → worker   config:apply {snapshot, bulk?}    config:file {version, path}
 *                      shutdown {drainTimeout}    logs:reopen
 *   worker → primary   worker:listening {port, uws}    config:ack {version}
 *                      config:rejected {version, error}    config:resend {version}
 *                      listen:failed {error}
 *
 * A worker acknowledges a snapshot only once it serves with it, so the primary always knows
 * which config version each worker runs (also mirrored in the worker's shared-memory slot).
 */
import { Packr } from 'msgpackr';
import type { Snapshot, WorkerSnapshot } from './snapshot';
import { packedBulkOf, snapshotHead, type WireBulk } from './snapshot-bulk';
import { encodeDirectoryAfter } from './consumer-directory';

export type PrimaryMessage =
  /**
   * `bulk`: the snapshot's bulk fields as the compile thread packed them (snapshot-bulk.ts), sent
   * beside the rest; decodeMessage puts them back into `snapshot`, so a worker never sees `bulk`.
   * Either way the consumers and credentials arrive as the consumer directory's bytes.
   */
  | { kind: 'config:apply'; snapshot: WorkerSnapshot; bulk?: Uint8Array }
  /**
   * A large config:apply, encoded as over the channel, in a file the worker reads
   * (primary/supervisor/config-files.ts); one it cannot read it asks for again with config:resend.
   */
  | { kind: 'config:file'; version: number; path: string }
  | { kind: 'shutdown'; drainTimeout: number }
  /** SIGUSR1 on the primary (logrotate's postrotate): log plugins reopen their files. */
  | { kind: 'logs:reopen' };

export interface WireError { code: string; message: string }

export type WorkerMessage =
  | { kind: 'worker:listening'; port: number; uws: { source: string; version: string } }
  | { kind: 'config:ack'; version: number }
  | { kind: 'config:rejected'; version: number; error: WireError }
  /** A config:file the worker could not read: the primary sends that version's config:apply itself. */
  | { kind: 'config:resend'; version: number }
  | { kind: 'listen:failed'; error: WireError };

// Records without shared structures: each message carries its own record definitions, so it
// stays self-describing (any Packr reads it), and a snapshot of 100,000 consumers is a third
// smaller and unpacks about twice as fast as with plain maps.
const packr = new Packr({ useRecords: true, moreTypes: false });

export function encodeMessage(msg: PrimaryMessage | WorkerMessage): Buffer {
  return packr.pack(msg);
}

/**
 * A config:apply whose consumer directory follows its msgpack head in the same buffer: FRAMED, the
 * head's length (u32 LE), the head, then the directory to the end. 0xc1 is the one byte MessagePack
 * never uses, so no plain message starts with it.
 */
const FRAMED = 0xc1;

/**
 * config:apply for `snapshot`: its packed bulk (if it still has it) goes as the bytes they are;
 * else the head is packed and the consumer directory written after it in one buffer, so its
 * ~14 MB (100,000 consumers) are written once and not copied into a msgpack message.
 */
export function encodeApply(snapshot: Snapshot): Buffer {
  const bulk = packedBulkOf(snapshot);
  if (bulk !== null) return packr.pack({ kind: 'config:apply', snapshot: snapshotHead(snapshot), bulk });
  const { services, routes, plugins } = snapshot;
  const head = packr.pack({ kind: 'config:apply', snapshot: { ...snapshotHead(snapshot), services, routes, plugins } });
  const prefix = Buffer.allocUnsafe(5 + head.length);
  prefix[0] = FRAMED;
  prefix.writeUInt32LE(head.length, 1);
  prefix.set(head, 5);
  return encodeDirectoryAfter(prefix, snapshot.consumers, snapshot.credentials);
}

export function decodeMessage<T extends PrimaryMessage | WorkerMessage>(raw: unknown): T | null {
  if (!(raw instanceof Uint8Array)) return null;
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  try {
    if (buf[0] === FRAMED) {
      const end = 5 + buf.readUInt32LE(1);
      const msg = packr.unpack(buf.subarray(5, end)) as PrimaryMessage;
      if (msg.kind !== 'config:apply') return null;
      msg.snapshot.directory = buf.subarray(end);
      return msg as T;
    }
    const msg = packr.unpack(buf) as PrimaryMessage | WorkerMessage;
    if (msg.kind === 'config:apply' && msg.bulk !== undefined) {
      Object.assign(msg.snapshot, packr.unpack(msg.bulk) as WireBulk);
      delete msg.bulk;
    }
    return msg as T;
  } catch {
    return null;
  }
}
