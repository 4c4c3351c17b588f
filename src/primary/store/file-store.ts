/**
 * The file-backed entity store. The user's kong.yml is never rewritten (its comments and its
 * `hyperway:` block stay theirs): Admin API changes go to a state file next to it,
 * `<config>.hyperway-state.json`, written atomically (temp file, fsync, rename, fsync of the
 * directory), so a crash leaves either the old state or the new one, never half of one.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { EntitySet } from '../config';
import { MemoryEntities } from './memory';
import type { EntityStore } from './types';
import { HeldEntities } from './held';

export const STATE_FORMAT = 1;

export function stateFileFor(configFile: string): string {
  return `${configFile}.hyperway-state.json`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What the state file holds: the entities, and which kong.yml (by content) they started from. */
export interface StateFile {
  hyperway_state: number;
  written_at: string;
  config_file: string;
  /** sha256 of kong.yml when the state was written: tells a later edit of kong.yml apart. */
  config_sha256: string;
  config: Record<string, unknown>;
}

export class FileStore extends HeldEntities implements EntityStore {
  readonly #configFile: string;
  readonly #stateFile: string;
  #configSha: string;

  constructor(entities: EntitySet, settingsBlock: unknown, configFile: string, configSha: string) {
    super(new MemoryEntities(entities, settingsBlock));
    this.#configFile = configFile;
    this.#stateFile = stateFileFor(configFile);
    this.#configSha = configSha;
  }

  get stateFile(): string {
    return this.#stateFile;
  }

  /** Replaces the content without writing (a reload from the files that are already on disk). */
  replace(entities: EntitySet, settingsBlock: unknown, configSha: string): void {
    this.current = new MemoryEntities(entities, settingsBlock);
    this.#configSha = configSha;
  }

  async commit(entities: EntitySet): Promise<void> {
    const next = new MemoryEntities(entities, this.current.settingsBlock);
    const doc = next.toDeclarative();
    // The settings block stays in kong.yml, where the operator edits it.
    delete doc.hyperway;
    const state: StateFile = {
      hyperway_state: STATE_FORMAT,
      written_at: new Date().toISOString(),
      config_file: this.#configFile,
      config_sha256: this.#configSha,
      config: doc,
    };
    writeAtomic(this.#stateFile, JSON.stringify(state, null, 2) + '\n');
    this.current = next;
  }
}

/** temp + fsync + rename + directory fsync: readers see the old file or the new one. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  }
}
