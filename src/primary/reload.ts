/**
 * Hot reload (SIGHUP, as nginx does): load, validate and compile the config file again, then send
 * the new Snapshot to every worker, which swaps it in between two requests. A file that does not
 * validate changes nothing: the errors go to stderr and the running config stays in place.
 * Listen addresses and the worker count need a restart; a reload keeps the running ones.
 */
import type { Snapshot } from '../shared/snapshot';
import { formatAddress, type ListenAddress, type Settings } from '../shared/settings';
import { closeCompilePool, loadConfigText, type LoadedConfig } from './config';
import { loadSource, type Source } from './store/source';
import { rollOut } from './rollout';
import type { Supervisor } from './supervisor/supervisor';
import { configureLog, log } from '../lib/log';
import { formatProblems, type ConfigError } from '../lib/errors';
import { snapshotWith } from '../shared/snapshot-bulk';

/** Settings a reload cannot change, by the name the operator writes in the file. */
const RESTART_ONLY: ReadonlyArray<[keyof Settings, string]> = [
  ['proxyListens', 'proxy_listen'], ['proxySslListens', 'proxy_listen'], ['adminListens', 'admin_listen'], ['adminSslListens', 'admin_listen'], ['adminSslCert', 'admin_ssl_cert'], ['adminSslCertKey', 'admin_ssl_cert_key'], ['statusListen', 'status_listen'], ['workers', 'workers'],
  // uWS takes WebSocket limits, and the connection filter, when a worker creates its apps.
  ['websocketMaxMessageSize', 'websocket_max_message_size'], ['websocketIdleTimeout', 'websocket_idle_timeout'], ['websocketUpstreamBufferLimit', 'websocket_upstream_buffer_limit'],
  ['workerConnections', 'nginx_events_worker_connections'],
  // Sizes of the shared segment, fixed when it is created.
  ['targetSlots', 'target_slots'], ['metricsSeries', 'metrics_series'], ['rateLimitingTableSize', 'rate_limiting_table_size'],
];

function shown(value: Settings[keyof Settings]): unknown {
  if (Array.isArray(value) && value.every((a) => typeof a === 'object' && a !== null && 'port' in a)) return (value as ListenAddress[]).map(formatAddress).join(', ');
  if (typeof value === 'object' && value !== null && 'port' in value) return formatAddress(value);
  return value === 0 ? 'auto' : value;
}

export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected' | 'queued';

export class Reloader {
  readonly #file: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #supervisor: Supervisor;
  /** Fills in what the primary owns before workers see the snapshot (target-table slots). */
  readonly #prepare: (next: Snapshot) => Snapshot;
  #running: Promise<ReloadOutcome> | null = null;
  #again = false;
  /** Told what was loaded once every worker serves it (the entity store takes the new entities). */
  readonly #onApplied: ((loaded: LoadedConfig, source: Source) => void) | undefined;

  constructor(
    file: string,
    env: NodeJS.ProcessEnv,
    supervisor: Supervisor,
    prepare: (next: Snapshot) => Snapshot = (s) => s,
    onApplied?: (loaded: LoadedConfig, source: Source) => void,
  ) {
    this.#prepare = prepare;
    this.#file = file;
    this.#env = env;
    this.#supervisor = supervisor;
    this.#onApplied = onApplied;
  }

  /** One reload at a time; a request during a reload runs once more after it. */
  reload(): Promise<ReloadOutcome> {
    if (this.#running !== null) {
      this.#again = true;
      return Promise.resolve('queued');
    }
    this.#running = this.#reloadOnce().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#running;
  }

  async #reloadOnce(): Promise<ReloadOutcome> {
    const current = this.#supervisor.snapshot;
    let next: Snapshot;
    let loaded: LoadedConfig;
    let source: Source;
    let entitiesReady: Promise<void>;
    try {
      // kong.yml, or the Admin API's state file when there is one (store/source.ts says which wins).
      ({ loaded, source, entitiesReady } = await loadSource(this.#file, this.#env, current.version + 1));
      next = loaded.snapshot;
      for (const line of source.notices) process.stderr.write(line + '\n');
      if (loaded.warnings.length > 0) process.stderr.write(formatProblems(loaded.file, loaded.warnings, 'warning') + '\n');
    } catch (e) {
      await closeCompilePool();
      const err = e as ConfigError;
      process.stderr.write(`${err.message}\nhyperway: reload rejected; config version ${current.version} stays in place\n`);
      log('error', 'reload rejected', { code: err.code, version: current.version });
      return 'rejected';
    }
    // A large file's entity set is still being flattened and packed on the compile thread while the
    // workers take the snapshot (config/compile-pool.ts compileInPoolEarly); the store takes it after.
    const entitiesDone = entitiesReady.then(
      () => true,
      (e: unknown) => {
        log('error', 'reload: the entity set did not come back from the compile thread', { err: (e as Error).message });
        return false;
      },
    ).finally(() => closeCompilePool());
    // Without them (the thread failed after the snapshot came), the file is loaded again here.
    const withEntities = async (): Promise<LoadedConfig> => ((await entitiesDone) ? loaded : loadConfigText(source.text, source.file, this.#env, loaded.snapshot.version));
    if (next.hash === current.hash) {
      log('notice', 'reload: config unchanged', { version: current.version });
      this.#onApplied?.(await withEntities(), source);
      return 'unchanged';
    }
    const settings = { ...next.settings };
    for (const [key, name] of RESTART_ONLY) {
      if (JSON.stringify(settings[key]) !== JSON.stringify(current.settings[key])) {
        log('warn', `reload: ${name} changes only with a restart; keeping the running value`, { running: shown(current.settings[key]), requested: shown(settings[key]) });
        (settings as Record<string, unknown>)[key] = current.settings[key];
      }
    }
    settings.proxyListen = current.settings.proxyListen;
    settings.adminListen = current.settings.adminListen;
    next = this.#prepare(snapshotWith(next, { settings }));
    configureLog(settings.logLevel, 'primary');
    const r = await rollOut(this.#supervisor, next);
    if (!r.ok) {
      await entitiesDone;
      process.stderr.write(`hyperway: reload rolled back: ${r.reason}\n`);
      log('error', 'reload rolled back', { reason: r.reason });
      configureLog(current.settings.logLevel, 'primary');
      return 'rejected';
    }
    this.#onApplied?.(await withEntities(), source);
    log('notice', 'config reloaded', { version: next.version, hash: next.hash });
    return 'applied';
  }
}
