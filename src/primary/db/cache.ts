/**
 * The local cache of the last configuration this node read from the database (Kong keeps one
 * too): a node that starts while Postgres is down starts from it, with a warning, instead of
 * refusing to start or serving nothing. Written atomically after every load from the database.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { emptyEntitySet, ENTITY_ORDER, type EntitySet } from '../config';
import { writeAtomic } from '../store/file-store';
import type { DbContent } from './pg-store';

interface CacheFile {
  hyperway_db_cache: 1;
  written_at: string;
  database: string;
  version: number;
  entities: EntitySet;
}

/** db_cache_file, or a file in the OS temp dir named after the database (two databases never share one). */
export function cachePath(setting: string, where: string): string {
  if (setting !== '') return setting;
  return join(tmpdir(), `hyperway-db-cache-${createHash('sha256').update(where).digest('hex').slice(0, 16)}.json`);
}

export function writeCache(file: string, where: string, content: DbContent): void {
  const doc: CacheFile = { hyperway_db_cache: 1, written_at: new Date().toISOString(), database: where, version: content.version, entities: content.entities };
  writeAtomic(file, JSON.stringify(doc));
}

/** The cached content and when it was written, or null when there is none (or it is unreadable). */
export function readCache(file: string): (DbContent & { writtenAt: string }) | null {
  if (!existsSync(file)) return null;
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    const entities = emptyEntitySet();
    for (const e of ENTITY_ORDER) if (Array.isArray(doc.entities?.[e])) entities[e] = doc.entities[e];
    return { entities, version: Number(doc.version), writtenAt: String(doc.written_at) };
  } catch {
    return null;
  }
}
