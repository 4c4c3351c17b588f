/**
 * Piscina task: load → validate → compile in a worker thread, so a large config does not block
 * the primary's event loop. A loaded config comes back as one msgpackr buffer, moved (not copied)
 * to the primary: a structured clone of 100,000 consumers' snapshot and entities cost seconds on
 * both sides. Errors come back as plain problems.
 */
import type { MessagePort } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { piscina } from '../../lib/optional-packages';
import type { ConfigProblem, ErrorCode } from '../../lib/errors';
import type { EntitySet } from './flatten';
import { bulkFromWire, snapshotHead, wireBulk, withPackedBulk, type SnapshotHead, type WireBulk } from '../../shared/snapshot-bulk';
import { loadConfigText, type LoadedConfig } from './load-config';

export interface CompileTask {
  text: string;
  file: string;
  env: NodeJS.ProcessEnv;
  version: number;
  /**
   * When given (a reload), the loaded config without its entities is posted here as soon as it is
   * packed, and the task's result is the packed entity set alone (flattened and packed after).
   */
  early?: MessagePort;
}

/** A loaded config packed by packLoaded, or the problems that stopped it. */
export type CompileResult = Uint8Array | { ok: false; problems: ConfigProblem[]; code: ErrorCode };

// As the IPC protocol's (shared/protocol.ts): records, so repeated shapes are written once.
const packr = new Packr({ useRecords: true, moreTypes: false });

/**
 * A LoadedConfig as bytes in a buffer of its own (so it can be moved to another thread): two
 * 4-byte lengths, then the snapshot's head (all but its bulk) with the warnings and the settings
 * block, the snapshot's bulk (shared/snapshot-bulk.ts: the workers get these very bytes), and the
 * entities. unpackLoaded reads the bulk and the entities only when they are first used.
 */
export function packLoaded(loaded: LoadedConfig, withEntities = true): Uint8Array {
  const { snapshot, warnings, file, settingsBlock } = loaded;
  // Copied out at once: msgpackr's result is a view of a buffer it goes on writing into.
  // The hash is not one of the snapshot's own keys (config/lazy-hash.ts): it goes beside it. A reload
  // compares it before anything goes to the workers, so the thread computes it here.
  const head = new Uint8Array(packr.pack({ snapshot: snapshotHead(snapshot), hash: snapshot.hash, warnings, file, settingsBlock }));
  const bulkBytes = new Uint8Array(packr.pack(wireBulk(snapshot)));
  const tail = withEntities ? packr.pack(loaded.entities) : new Uint8Array(0);
  const out = new Uint8Array(8 + head.length + bulkBytes.length + tail.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, head.length);
  view.setUint32(4, bulkBytes.length);
  out.set(head, 8);
  out.set(bulkBytes, 8 + head.length);
  out.set(tail, 8 + head.length + bulkBytes.length);
  return out;
}

/** `entityBytes`: where the packed entities are when `bytes` has none (a task with `early`). */
export function unpackLoaded(bytes: Uint8Array, entityBytes?: () => Uint8Array): LoadedConfig {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bulkStart = 8 + view.getUint32(0);
  const tailStart = bulkStart + view.getUint32(4);
  const { hash, ...loaded } = packr.unpack(bytes.subarray(8, bulkStart)) as Omit<LoadedConfig, 'entities' | 'snapshot'> & { snapshot: SnapshotHead; hash: string };
  // Not enumerable, as compile.ts makes it: packed beside the snapshot, never sent to workers.
  Object.defineProperty(loaded.snapshot, 'hash', { value: hash, enumerable: false, writable: true, configurable: true });
  const snapshot = withPackedBulk(loaded.snapshot, bytes.subarray(bulkStart, tailStart), (b) => bulkFromWire(packr.unpack(b) as WireBulk));
  let entities: EntitySet | null = null;
  return Object.defineProperty({ ...loaded, snapshot }, 'entities', {
    enumerable: true,
    get: () => (entities ??= packr.unpack(entityBytes !== undefined ? entityBytes() : bytes.subarray(tailStart)) as EntitySet),
  }) as LoadedConfig;
}

/** The task's work: a packed LoadedConfig, or the problems. */
export function compileToBytes(task: CompileTask): CompileResult {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigText(task.text, task.file, task.env, task.version);
  } catch (e) {
    // Matched by shape, not class: see lib/errors.ts.
    const err = e as { code?: ErrorCode; problems?: ConfigProblem[]; message?: string };
    if (Array.isArray(err.problems) && err.code) return { ok: false, problems: err.problems, code: err.code };
    return { ok: false, problems: [{ path: '', message: `internal error while compiling: ${err.message ?? String(e)}` }], code: 'HW_ERR_CONFIG_INVALID' };
  }
  if (task.early === undefined) return packLoaded(loaded);
  const head = packLoaded(loaded, false);
  task.early.postMessage(head, [head.buffer as ArrayBuffer]);
  // Copied out: msgpackr's result is a view of a buffer it goes on writing into.
  return new Uint8Array(packr.pack(loaded.entities));
}

export default function compileTask(task: CompileTask): CompileResult {
  const r = compileToBytes(task);
  // Moved: the primary receives the buffer itself, not a copy.
  return r instanceof Uint8Array ? (piscina().move(r) as Uint8Array) : r;
}
