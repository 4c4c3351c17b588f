/**
 * Runs compile-task.ts on a piscina thread. Only large files go there (LARGE_CONFIG_BYTES): for
 * small ones a thread costs more than the compile itself.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type Piscina from 'piscina';
import { piscina } from '../../lib/optional-packages';
import { ConfigError } from '../../lib/errors';
import { unpackLoaded, type CompileResult, type CompileTask } from './compile-task';
import { loadConfigText, type LoadedConfig } from './load-config';

export const LARGE_CONFIG_BYTES = 256 * 1024;

let pool: Piscina<CompileTask, CompileResult> | null = null;

function getPool(): Piscina<CompileTask, CompileResult> {
  // The compiled .js sits next to this file in dist/.
  pool ??= new (piscina().Piscina)({ filename: path.join(__dirname, 'compile-task.js'), minThreads: 0, maxThreads: 1, idleTimeout: 30_000 });
  return pool;
}

/** Compiles on the pool thread; resolves like loadConfigText, rejects with ConfigError. */
export async function compileInPool(text: string, file: string, env: NodeJS.ProcessEnv, version: number): Promise<LoadedConfig> {
  const r = await getPool().run({ text, file, env: { ...env }, version });
  if (!(r instanceof Uint8Array)) throw new ConfigError(file, r.problems, r.code);
  const loaded = unpackLoaded(r);
  return loaded;
}

/**
 * compileInPool for a reload: resolves once the thread has the snapshot packed; the entity set
 * (flattening and packing it took the thread 0.3–0.5 s at 100,000 consumers) follows while the
 * workers take the snapshot. `entitiesReady` settles when the task is over: `loaded.entities`
 * may be read only after it resolved, and the pool closed only after it settled.
 */
export async function compileInPoolEarly(text: string, file: string, env: NodeJS.ProcessEnv, version: number): Promise<{ loaded: LoadedConfig; entitiesReady: Promise<void> }> {
  const { port1, port2 } = new MessageChannel();
  const task = getPool().run({ text, file, env: { ...env }, version, early: port2 }, { transferList: [port2] });
  // The head comes on the port before the task's result (which is then the entities), unless the
  // config has problems (the result says which) or the thread failed.
  const head = await new Promise<Uint8Array | null>((resolve, reject) => {
    port1.once('message', (m: Uint8Array) => resolve(m));
    task.then((r) => {
      if (!(r instanceof Uint8Array)) resolve(null);
    }, reject);
  }).catch((e: unknown) => {
    port1.close();
    throw e;
  });
  if (head === null) {
    port1.close();
    const r = (await task) as Exclude<CompileResult, Uint8Array>;
    throw new ConfigError(file, r.problems, r.code);
  }
  let entities: Uint8Array | null = null;
  const entitiesReady = task.then(
    (r) => {
      entities = r as Uint8Array;
    },
  ).finally(() => port1.close());
  const loaded = unpackLoaded(head, () => {
    if (entities === null) throw new Error('the entity set of this config is not there yet (await entitiesReady)');
    return entities;
  });
  return { loaded, entitiesReady };
}

/** loadConfigFile for the primary: inline for small files, on the pool above LARGE_CONFIG_BYTES. */
export async function loadConfigFileAsync(file: string, env: NodeJS.ProcessEnv, version: number): Promise<LoadedConfig> {
  let text: string;
  let size: number;
  try {
    size = statSync(file).size;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConfigError(file, [{ path: '', message: `cannot read config file: ${reason}` }], 'HW_ERR_CONFIG_READ');
  }
  return size > LARGE_CONFIG_BYTES ? compileInPool(text, file, env, version) : loadConfigText(text, file, env, version);
}

export async function closeCompilePool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.destroy();
}
