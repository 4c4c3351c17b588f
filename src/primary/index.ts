/**
 * startPrimary(): wires the control plane — config, shared memory, the worker supervisor, the
 * Admin API — and owns the shutdown order: stop the Admin API, drain the workers (they close their
 * listen sockets first), remove the shared segment, exit 0. It never serves proxy traffic.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { closeCompilePool, type LoadedConfig } from './config';
import type { DbMode } from './db/mode';
import { stageSource, type Source } from './store/source';
import { FileStore } from './store/file-store';
import { ConfigWriter } from './store/writer';
import { Supervisor } from './supervisor/supervisor';
import { startAdminServer } from './admin/server';
import { Reloader } from './reload';
import { createSegment, destroySegment, stampAlive, SHM_PREFIX, type Segment } from '../shared/shm';
import { abortStart, StartGuard } from './start-guard';
import { regionWords } from './shm-plan';
import { initMetricsRegion } from '../shared/metrics-table';
import { MetricsCollector, metricsLayout } from './metrics/collect';
import { LabelNames } from './metrics/registry';
import type { AdminContext } from './admin/context';
import { STATUS_ROUTES } from './admin/server';
import { adminTlsMaterial, type AdminTls } from './admin/tls';
import { HealthChecks } from './health';
import { Discovery } from './dns/discovery';
import { prepareTls } from './tls/files';
import type { Snapshot } from '../shared/snapshot';
import { formatAddress, type Settings } from '../shared/settings';
import { configureLog, log } from '../lib/log';
import { formatProblems } from '../lib/errors';

export interface PrimaryOptions {
  configFile: string;
  env: NodeJS.ProcessEnv;
  /** Called once every worker listens (the CLI prints the URLs). */
  onReady?: (info: { proxy: string; admin: string | null; workers: number }) => void;
  /** Called after shutdown, before exit (the CLI stops the demo upstreams). */
  onShutdown?: () => Promise<void> | void;
}

export async function startPrimary(opts: PrimaryOptions): Promise<void> {
  // SIGHUP's default action ends the process: the handler is installed before the first load,
  // and one that arrives before reloads can run is remembered and reloads once they can. (One
  // handler for good: removing the last listener would drop a signal not yet dispatched.)
  let reloadNow: (() => void) | null = null;
  let hupWhileLoading = false;
  process.on('SIGHUP', () => {
    if (reloadNow !== null) reloadNow();
    else hupWhileLoading = true;
  });
  // SIGTERM, SIGINT and SIGQUIT likewise: one that arrives while the first config loads stops the
  // workers already forked and removes the segment (start-guard.ts).
  const guard = new StartGuard(() => opts.onShutdown?.());
  const { fromFile, db, source, workers, health, discovery, prepare } = await loadFirst(opts, guard);
  const loaded = db?.loaded ?? fromFile;
  const { snapshot } = loaded;
  const file = opts.configFile;
  const settings = snapshot.settings;
  const { segment, supervisor, collector, count } = workers;
  const store = new FileStore(loaded.entities, fromFile.settingsBlock, file, source.configSha);
  const writer = new ConfigWriter(db?.store ?? store, supervisor, opts.env, prepare);
  discovery.attach(supervisor, (fn) => writer.serial(fn));
  db?.start(writer, supervisor, prepare);
  const admin: Server[] = [];
  let status: Server | null = null;
  let stopping = false;

  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (stopping) {
      // A second signal while draining: the operator wants out now.
      log('warn', 'second signal while draining: killing workers', { reason });
      supervisor.kill();
      destroySegment(segment);
      process.exit(1);
    }
    stopping = true;
    discovery.stop();
    health.stop();
    // The running value: a reload may have changed drain_timeout since the start.
    const { drainTimeout } = supervisor.snapshot.settings;
    log('notice', 'shutting down', { reason, drainTimeoutMs: drainTimeout });
    for (const a of admin) {
      a.close();
      a.closeAllConnections();
    }
    status?.close();
    status?.closeAllConnections();
    await supervisor.shutdown(drainTimeout);
    await db?.close();
    destroySegment(segment);
    await opts.onShutdown?.();
    log('notice', 'stopped');
    process.exit(code);
  };
  // SIGTERM (systemd), SIGINT (Ctrl-C, pm2) and SIGQUIT (Kong's `kong quit`, its Docker
  // STOPSIGNAL) all drain gracefully from here on (before, start-guard.ts aborts). SIGHUP reloads
  // the config file and SIGUSR1 reopens log files (logrotate's postrotate), as they do for nginx.
  guard.loaded((signal) => void shutdown(signal, 0));
  const reloader = new Reloader(file, opts.env, supervisor, prepare, (next, src) => store.replace(next.entities, next.settingsBlock, src.configSha));
  const reload = (): void => {
    // Through the writer queue: a reload never interleaves with an Admin API change.
    if (stopping) return;
    if (db) db.resync();
    else void writer.serial(() => reloader.reload());
  };
  reloadNow = reload;
  process.on('SIGUSR1', () => supervisor.reopenLogs());
  process.on('exit', () => destroySegment(segment));
  setInterval(() => stampAlive(segment), 1000).unref();

  const onFatal = (err: { message: string }): void => {
    if (stopping) return; // every worker reports the same cause: say it once
    process.stderr.write(`hyperway: ${err.message}\n`);
    void shutdown('a worker could not start', 1);
  };
  supervisor.off('fatal', workers.keepFatal);
  supervisor.on('fatal', onFatal);
  if (workers.fatal !== null) return onFatal(workers.fatal);
  supervisor.on('ready', () => {
    opts.onReady?.({ proxy: `http://${formatAddress(settings.proxyListen)}`, admin: settings.adminListens.length > 0 ? `http://${formatAddress(settings.adminListen)}` : settings.adminSslListens.length > 0 ? `https://${formatAddress(settings.adminListen)}` : null, workers: count });
  });

  const ctx: AdminContext = {
    // The running settings (a reload changes them), never the start-time copy.
    get settings() {
      return supervisor.snapshot.settings;
    },
    segment, supervisor, nodeId: randomUUID(), startedAt: Date.now(), configFile: file,
    metrics: {
      collector, names: new LabelNames(),
      get kong2() {
        return supervisor.snapshot.settings.prometheusKong2Metrics;
      },
    },
    writer, env: opts.env,
  };
  // admin_listen: off leaves both lists empty: no Admin API at all. `ssl` entries are served with
  // admin_ssl_cert (or a generated certificate), read once, before the first of them listens.
  let adminCert: AdminTls | null = null;
  const adminEntries = [...settings.adminListens.map((at) => ({ at, tls: false })), ...settings.adminSslListens.map((at) => ({ at, tls: true }))];
  for (const { at, tls } of adminEntries) {
    try {
      if (tls) adminCert ??= adminTlsMaterial(settings);
      admin.push(await startAdminServer(ctx, undefined, at, tls ? adminCert : null));
    } catch (e) {
      for (const a of admin) a.close();
      await abortStart(supervisor, segment);
      process.stderr.write(`hyperway: cannot listen on admin_listen ${formatAddress(at)}: ${(e as Error).message}\n`);
      process.exit(1);
    }
  }
  if (settings.statusListen !== null) {
    try {
      status = await startAdminServer(ctx, STATUS_ROUTES, settings.statusListen);
    } catch (e) {
      for (const a of admin) a.close();
      await abortStart(supervisor, segment);
      process.stderr.write(`hyperway: cannot listen on status_listen ${formatAddress(settings.statusListen)}: ${(e as Error).message}\n`);
      process.exit(1);
    }
  }
  supervisor.start();
  // A loaded file's entity lists are made from its validated model when first read
  // (config/flatten.ts lazyEntitySet): here once every worker serves, unless the Admin API read
  // them first. Until then the primary's core goes to sending the workers their snapshot.
  supervisor.once('ready', () => setImmediate(() => void loaded.entities.services));
  log('info', 'primary started', { workers: count, config: file, version: snapshot.version });
  if (hupWhileLoading) {
    log('notice', 'SIGHUP arrived while the config was loading: reloading it');
    reload();
  }
}

interface FirstLoad {
  fromFile: LoadedConfig;
  db: DbMode | null;
  source: Source;
  workers: Workers;
  health: HealthChecks;
  discovery: Discovery;
  prepare: (next: Snapshot) => Snapshot;
}

/**
 * The first config, up to the supervisor holding its prepared snapshot. A large file's settings
 * are resolved before the rest: the segment is created and the workers forked from them, and they
 * boot (Node, uWS, the segment: about a second) while it validates and compiles. Whatever fails
 * after that kills them and removes the segment before the error goes up to be reported.
 */
async function loadFirst(opts: PrimaryOptions, guard: StartGuard): Promise<FirstLoad> {
  // kong.yml, or the Admin API's state file next to it (store/source.ts says which wins), parsed.
  // Compiled on this thread: before the first load there is no Admin API whose turn it would
  // delay, and a large file's trip through the compile thread cost seconds.
  const { staged, source } = stageSource(opts.configFile, opts.env);
  let workers = staged.settings === null ? null : bootWorkers(staged.settings, true, guard);
  try {
    const fromFile = staged.finish(1);
    // The compile ran on this thread: a stop signal sent meanwhile is dispatched now.
    await guard.yieldToSignals();
    // database = postgres: entities from Postgres (or its local cache while it is down), settings from kong.yml.
    const db = fromFile.snapshot.settings.database === 'postgres' ? await (await import('./db/mode')).openDatabase(fromFile, fromFile.settingsBlock, opts.env) : null;
    await guard.checkpoint();
    const { snapshot, warnings, file } = db?.loaded ?? fromFile;
    await closeCompilePool();
    await guard.checkpoint();
    configureLog(snapshot.settings.logLevel, 'primary');
    for (const line of db?.notices ?? source.notices) process.stderr.write(line + '\n');
    if (warnings.length > 0) process.stderr.write(formatProblems(file, warnings, 'warning') + '\n');
    // A small file: the workers are forked by supervisor.start(), as they always were.
    workers ??= bootWorkers(snapshot.settings, false, guard);
    const health = new HealthChecks(workers.segment);
    // Hostname targets become their DNS addresses before health slots are assigned (primary/dns/);
    // certificates become files the workers' uWS can load (primary/tls/).
    const discovery = new Discovery(health);
    await discovery.resolveFirst(snapshot);
    await guard.checkpoint();
    const prepare = (next: Snapshot): Snapshot => prepareTls(discovery.prepare(next));
    workers.supervisor.apply(prepare(snapshot));
    return { fromFile, db, source, workers, health, discovery, prepare };
  } catch (e) {
    // After a stop signal its handler aborts (and exits 0), not this.
    await guard.checkpoint();
    if (workers !== null) await abortStart(workers.supervisor, workers.segment);
    throw e;
  }
}

interface Workers {
  segment: Segment;
  supervisor: Supervisor;
  collector: MetricsCollector;
  count: number;
  /**
   * A worker forked before the config compiled can fail (no uWS binary, other code on disk)
   * before startPrimary installs its 'fatal' handler: keepFatal keeps the first report for it.
   */
  fatal: { message: string } | null;
  keepFatal: (err: { message: string }) => void;
}

/**
 * What the settings alone decide: the shared segment (its sizes, the worker count) and the
 * supervisor; with `fork`, its workers are forked now, to get their config from start().
 */
function bootWorkers(settings: Settings, fork: boolean, guard: StartGuard): Workers {
  const count = settings.workers > 0 ? settings.workers : os.availableParallelism();
  const segment = createSegment(process.pid, count, SHM_PREFIX, regionWords(settings));
  initMetricsRegion(segment, metricsLayout(settings));
  const supervisor = new Supervisor(segment, settings, count);
  const collector = new MetricsCollector(segment, count);
  supervisor.on('spawning', (id: number) => collector.retire(id));
  const w: Workers = { segment, supervisor, collector, count, fatal: null, keepFatal: (err) => void (w.fatal ??= err) };
  supervisor.on('fatal', w.keepFatal);
  guard.hold(supervisor, segment);
  if (fork) supervisor.fork();
  return w;
}
