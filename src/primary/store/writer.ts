/**
 * The one writer: SIGHUP reloads, `POST /config` and every Admin API change run one at a time,
 * in arrival order. A change is a draft of the store turned into a declarative document, loaded
 * with the same validation + compile as kong.yml, rolled out to every worker with acks, then
 * persisted; only then is it answered. Nothing changes when any step fails.
 */
import type { ConfigProblem } from '../../lib/errors';
import { log } from '../../lib/log';
import { closeCompilePool, compileInPool, LARGE_CONFIG_BYTES, loadConfigText, type EntitySet, type LoadedConfig } from '../config';
import { rollOut, type RolloutTarget } from '../rollout';
import type { EntityStore, EntityView } from './types';
import type { Snapshot } from '../../shared/snapshot';
import { snapshotWith } from '../../shared/snapshot-bulk';

export type ChangeOutcome =
  | { ok: true; entities: EntitySet; unchanged?: boolean }
  | { ok: false; kind: 'invalid'; problems: ConfigProblem[] }
  | { ok: false; kind: 'failed'; reason: string }
  /** The store cannot take writes now (DB mode, database down): answered 503. */
  | { ok: false; kind: 'unavailable'; reason: string }
  /** The database refused a key another node took first (DB mode): answered 409, as Kong. */
  | { ok: false; kind: 'conflict'; reason: string; key: Record<string, string> };

/** The file store, or the Postgres store of DB mode (primary/db/pg-store.ts). */
export interface WriterStore extends EntityStore {
  /** Where changes go, as named in problems and messages. */
  readonly stateFile: string;
  /** Why writes are refused now, or null (absent: always writable). */
  unavailable?(): string | null;
}

export class ConfigWriter {
  readonly store: WriterStore;
  readonly #target: RolloutTarget;
  readonly #env: NodeJS.ProcessEnv;
  /** Fills in what the primary owns before workers see a snapshot (target-table slots). */
  readonly #prepare: (next: Snapshot) => Snapshot;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(store: WriterStore, target: RolloutTarget, env: NodeJS.ProcessEnv, prepare: (next: Snapshot) => Snapshot = (s) => s) {
    this.store = store;
    this.#target = target;
    this.#env = env;
    this.#prepare = prepare;
  }

  /** Runs `fn` after every change queued before it; a failure does not stop the queue. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Validates, rolls out and persists a draft (call inside serial()). */
  async applyDraft(draft: EntityView): Promise<ChangeOutcome> {
    return this.applyText(JSON.stringify(draft.toDeclarative()), this.store.stateFile);
  }

  /**
   * Same, from declarative text (`POST /config`). `onlyIfChanged` (Kong's `check_hash=1`): a
   * document that compiles to the running configuration changes nothing, not even the state file.
   */
  async applyText(text: string, file: string, onlyIfChanged = false): Promise<ChangeOutcome> {
    const down = this.store.unavailable?.() ?? null;
    if (down !== null) return { ok: false, kind: 'unavailable', reason: down };
    const current = this.#target.snapshot;
    let loaded: LoadedConfig;
    try {
      // Large documents compile on the pool thread, as large files do: heartbeats keep turning.
      loaded = Buffer.byteLength(text) > LARGE_CONFIG_BYTES
        ? await compileInPool(text, file, this.#env, current.version + 1)
        : loadConfigText(text, file, this.#env, current.version + 1);
    } catch (e) {
      const err = e as { problems?: ConfigProblem[]; message?: string };
      if (Array.isArray(err.problems)) return { ok: false, kind: 'invalid', problems: err.problems };
      throw e;
    } finally {
      await closeCompilePool();
    }
    // Settings come from kong.yml and the environment: an entity change never moves them.
    const next = this.#prepare(snapshotWith(loaded.snapshot, { settings: current.settings }));
    if (onlyIfChanged && next.hash === current.hash) return { ok: true, entities: loaded.entities, unchanged: true };
    if (next.hash !== current.hash) {
      const r = await rollOut(this.#target, next);
      if (!r.ok) {
        log('error', 'admin API change rolled back', { reason: r.reason, version: current.version });
        return { ok: false, kind: 'failed', reason: r.reason };
      }
    }
    try {
      await this.store.commit(loaded.entities);
    } catch (e) {
      // Workers already serve the change, the disk does not hold it: go back, so both agree.
      const back = await rollOut(this.#target, snapshotWith(current, { version: this.#target.snapshot.version + 1 }));
      const reason = `cannot write ${this.store.stateFile}: ${(e as Error).message}`;
      log('error', 'admin API change not persisted; rolled back', { reason, rolledBack: back.ok });
      const conflict = (e as { conflict?: Record<string, string> }).conflict;
      if (conflict !== undefined) return { ok: false, kind: 'conflict', reason, key: conflict };
      return { ok: false, kind: (e as { unavailable?: boolean }).unavailable === true ? 'unavailable' : 'failed', reason };
    }
    log('notice', 'config changed through the Admin API', { version: next.version, hash: next.hash });
    return { ok: true, entities: loaded.entities };
  }
}
