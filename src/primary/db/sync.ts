/**
 * Keeps this node's configuration equal to the database's. A dedicated connection LISTENs on
 * the change channel; a notification whose version differs from the store's (or the periodic
 * version check every db_update_frequency seconds, which covers a missed notification and a
 * reconnect) reads every entity again, validates and compiles them as a file, and rolls the
 * snapshot out through the writer queue with the same acknowledged apply as a reload.
 * While the database is unreachable nothing changes: workers keep the last snapshot.
 */
import type { Client, Pool } from 'pg';
import { log } from '../../lib/log';
import { closeCompilePool, compileInPool, LARGE_CONFIG_BYTES, loadConfigText, type EntitySet } from '../config';
import { rollOut, type RolloutTarget } from '../rollout';
import type { ConfigWriter } from '../store/writer';
import type { Snapshot } from '../../shared/snapshot';
import { connectClient, type PgSettings } from './pool';
import { readAll, type DbContent, type PgStore } from './pg-store';
import { NOTIFY_CHANNEL } from './schema';
import { writeCache } from './cache';
import { snapshotWith } from '../../shared/snapshot-bulk';

/** How soon a lost LISTEN connection is tried again. */
const RECONNECT_MS = 500;

export interface SyncDeps {
  settings: PgSettings & { dbUpdateFrequency: number };
  pool: Pool;
  store: PgStore;
  writer: ConfigWriter;
  target: RolloutTarget;
  prepare: (next: Snapshot) => Snapshot;
  env: NodeJS.ProcessEnv;
  cacheFile: string;
}

export class DbSync {
  readonly #d: SyncDeps;
  #listener: Client | null = null;
  #poll: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;
  #queued = false;
  /** A version whose content this node rejected: logged once, not retried until it changes. */
  #rejected = -1;

  constructor(deps: SyncDeps) {
    this.#d = deps;
    deps.store.onBehind = () => this.schedule();
    deps.store.onCommitted = (content) => this.#saveCache(content);
  }

  start(): void {
    void this.#listen();
    this.#poll = setInterval(() => void this.#check(), Math.max(100, this.#d.settings.dbUpdateFrequency * 1000));
    this.#poll.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    if (this.#retry) clearTimeout(this.#retry);
    const l = this.#listener;
    this.#listener = null;
    await l?.end().catch(() => undefined);
    await this.#d.pool.end().catch(() => undefined);
  }

  /** Reads the database again through the writer queue (at most one waiting). */
  schedule(): void {
    if (this.#queued || this.#closed) return;
    this.#queued = true;
    void this.#d.writer.serial(async () => {
      this.#queued = false;
      await this.#syncNow();
    });
  }

  #reachable(up: boolean, why?: string): void {
    const store = this.#d.store;
    if (store.reachable === up) return;
    store.reachable = up;
    if (up) log('notice', 'database reachable again: catching up');
    else log('error', 'database unreachable: serving the last configuration; Admin API writes answer 503', { reason: why });
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    let c: Client;
    try {
      c = await connectClient(this.#d.settings);
    } catch (e) {
      this.#reachable(false, (e as Error).message);
      this.#retry = setTimeout(() => void this.#listen(), RECONNECT_MS);
      return;
    }
    const lost = (e?: Error): void => {
      if (this.#listener !== c) return;
      this.#listener = null;
      c.end().catch(() => undefined);
      if (this.#closed) return;
      this.#reachable(false, e?.message ?? 'connection closed');
      this.#retry = setTimeout(() => void this.#listen(), RECONNECT_MS);
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (n) => {
      if (n.channel === NOTIFY_CHANNEL && Number(n.payload) !== this.#d.store.version) this.schedule();
    });
    this.#listener = c;
    try {
      await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (e) {
      lost(e as Error);
      return;
    }
    this.#reachable(true);
    // Whatever changed while this node was not listening.
    await this.#check();
  }

  async #check(): Promise<void> {
    if (this.#closed) return;
    try {
      const r = await this.#d.pool.query<{ version: string }>('SELECT version FROM hyperway_config_version WHERE id = 1');
      if (this.#listener !== null) this.#reachable(true);
      const v = Number(r.rows[0]?.version ?? 0);
      if (v !== this.#d.store.version && v !== this.#rejected) this.schedule();
    } catch (e) {
      this.#reachable(false, (e as Error).message);
    }
  }

  async #syncNow(): Promise<void> {
    const { store, target, env, prepare } = this.#d;
    let content: DbContent;
    try {
      content = await readAll(this.#d.pool);
    } catch (e) {
      this.#reachable(false, (e as Error).message);
      return;
    }
    if (content.version === store.version) return;
    const current = target.snapshot;
    let next: Snapshot;
    let entities: EntitySet;
    try {
      // Large configurations compile on the pool thread, as large files do: heartbeats keep turning.
      const text = JSON.stringify(store.documentOf(content.entities));
      const loaded = Buffer.byteLength(text) > LARGE_CONFIG_BYTES
        ? await compileInPool(text, store.stateFile, env, current.version + 1).finally(() => closeCompilePool())
        : loadConfigText(text, store.stateFile, env, current.version + 1);
      next = prepare(snapshotWith(loaded.snapshot, { settings: current.settings }));
      entities = loaded.entities;
    } catch (e) {
      if (this.#rejected !== content.version) log('error', 'the database holds a configuration this node rejects; keeping the running one', { version: content.version, reason: (e as Error).message });
      this.#rejected = content.version;
      return;
    }
    if (next.hash !== current.hash) {
      const r = await rollOut(target, next);
      if (!r.ok) {
        log('error', 'database change rolled back on this node', { reason: r.reason, version: content.version });
        return;
      }
    }
    store.replace({ entities, version: content.version });
    this.#saveCache({ entities, version: content.version });
    log('notice', 'config changed in the database', { dbVersion: content.version, version: next.version, hash: next.hash });
  }

  #saveCache(content: DbContent): void {
    try {
      writeCache(this.#d.cacheFile, this.#d.store.stateFile, content);
    } catch (e) {
      log('warn', 'cannot write the database cache file', { file: this.#d.cacheFile, reason: (e as Error).message });
    }
  }
}
