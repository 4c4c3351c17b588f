/**
 * A snapshot's configuration hash, computed when first read. Only the primary reads it (reload's
 * "unchanged" check, GET /status, the Admin API, DNS discovery); workers never did. At 100,000
 * consumers it is ~0.35 s of canonical JSON + sha256, so a start no longer computes it before the
 * workers get their snapshot.
 *
 * The property is a non-enumerable getter: msgpackr and snapshotHead() (Object.keys) leave it out
 * of what goes to the workers, and snapshotWith() (property descriptors) carries it into every
 * copy, which share one computed value. The inputs it reads (the validated model's records) must
 * not change before it is read: loadParsed reads it before flattenModel takes the records over.
 */
import type { Snapshot } from '../../shared/snapshot';

interface Cell {
  compute: (() => string) | null;
  value: string | null;
}

const CELL = Symbol('config hash cell');

/** `s` (changed in place) with `hash` computed by `compute` on first read, once. */
export function withLazyHash<T extends object>(s: T, compute: () => string): T & { hash: string } {
  const cell: Cell = { compute, value: null };
  Object.defineProperty(s, 'hash', {
    enumerable: false,
    configurable: true,
    get(): string {
      if (cell.value === null) {
        cell.value = cell.compute!();
        // The model and settings it hashed are not kept alive by the snapshot any longer.
        cell.compute = null;
      }
      return cell.value;
    },
  });
  Object.defineProperty(s, CELL, { value: cell, enumerable: false, configurable: true });
  return s as T & { hash: string };
}

/**
 * What identifies `s`'s configuration without computing its hash: the lazy hash's cell (shared by
 * the snapshotWith() copies of one load), or the hash itself when it is a plain value (a snapshot
 * unpacked from the compile thread, or written by hand).
 */
export function configKey(s: Snapshot): object | string {
  return (s as unknown as Record<symbol, Cell | undefined>)[CELL] ?? s.hash;
}
