/**
 * Owns the worker processes: forks one per slot, sends each the current Snapshot, tracks which
 * version each serves, replaces any that exits, is killed or stops its heartbeat (with backoff),
 * and drains them all on shutdown. The primary survives every worker fault.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Segment } from '../../shared/shm';
import { clearSlot, readSlot } from '../../shared/counter-slab';
import type { Snapshot } from '../../shared/snapshot';
import type { Settings } from '../../shared/settings';
import { encodeApply, encodeMessage, decodeMessage, type WorkerMessage, type PrimaryMessage } from '../../shared/protocol';
import { forkWorker } from './spawn';
import { ConfigFiles } from './config-files';
import { nextBackoff, HeartbeatWatch } from './restart';
import { log } from '../../lib/log';
import { codeId } from '../../shared/build-id';

export interface WorkerHandle {
  id: number;
  child: ChildProcess | null;
  pid: number;
  startedAt: number;
  restarts: number;
  listening: boolean;
  ackedVersion: number;
  /** The newest version it acknowledged or rejected (0 since its fork): older config files are done with. */
  handledVersion: number;
  backoffMs: number;
  heartbeat: HeartbeatWatch;
  restartTimer: NodeJS.Timeout | null;
  /** Exits before the gateway was ever ready (a crash loop at start is fatal). */
  startFailures: number;
}

export const MAX_START_FAILURES = 3;
/** A worker that has not listened yet is booting Node and loading modules: give it this long. */
export const STARTUP_HEARTBEAT_MS = 30_000;

export class Supervisor extends EventEmitter {
  readonly workers: WorkerHandle[] = [];
  /** The uWS build the workers loaded (reported when they listen). */
  uws: { source: string; version: string } | null = null;
  readonly #seg: Segment;
  /** null until the first apply(). */
  #snapshot: Snapshot | null = null;
  /** The settings workers are forked with before there is a snapshot (log level, header limit). */
  readonly #bootSettings: Settings;
  #forked = false;
  /** Workers get config:apply only from start() on (the primary installs its 'ready' handler first). */
  #started = false;
  /**
   * #snapshot's `config:apply` message, packed once and sent as is to every worker (and to every
   * worker that starts while it is current): packing 100,000 consumers once per worker cost the
   * primary a quarter of a second each.
   */
  #applyMessage: Buffer | null = null;
  /** Large #applyMessage payloads, as files the workers read (config-files.ts). */
  readonly #files: ConfigFiles;
  #stopping = false;
  #watch: NodeJS.Timeout | null = null;
  #everReady = false;

  /** The build this primary started from (build-id.ts): a worker forked from other code refuses to serve. */
  readonly #codeId = codeId();

  constructor(seg: Segment, settings: Settings, count: number) {
    super();
    this.#seg = seg;
    this.#files = new ConfigFiles(seg);
    this.#bootSettings = settings;
    for (let id = 0; id < count; id++) {
      this.workers.push({
        id, child: null, pid: 0, startedAt: 0, restarts: 0, listening: false, ackedVersion: 0, handledVersion: 0,
        backoffMs: 0, heartbeat: new HeartbeatWatch(), restartTimer: null, startFailures: 0,
      });
    }
  }

  get snapshot(): Snapshot {
    if (this.#snapshot === null) throw new Error('the supervisor has no snapshot before its first apply()');
    return this.#snapshot;
  }

  get #settings(): Settings {
    return this.#snapshot?.settings ?? this.#bootSettings;
  }

  /**
   * Forks every worker (once), before there may be a snapshot: they boot (Node, uWS, the segment)
   * while the primary compiles the config, and wait for the config:apply that start() sends.
   */
  fork(): void {
    if (this.#forked) return;
    this.#forked = true;
    for (const w of this.workers) this.#fork(w);
    this.#watch = setInterval(() => this.#checkHeartbeats(), 250);
  }

  /** Every worker gets the snapshot of the first apply() (forked now unless fork() came first). */
  start(): void {
    if (this.#snapshot === null) throw new Error('Supervisor.start() before any apply()');
    // Every process first, then the config: the workers boot while the snapshot is packed.
    this.fork();
    this.#started = true;
    for (const w of this.workers) this.#sendConfig(w);
  }

  allListening(): boolean {
    return this.workers.every((w) => w.listening && w.child !== null);
  }

  /** SIGUSR1: every live worker reopens its log files (file-log), as nginx's workers do. */
  reopenLogs(): void {
    for (const w of this.workers) if (w.child !== null) this.#send(w, { kind: 'logs:reopen' });
  }

  /** Hot apply: every live worker gets the new snapshot (once started); new workers start with it. */
  apply(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#applyMessage = null;
    for (const w of this.workers) this.#sendConfig(w);
    this.#sweepFiles();
  }

  #spawn(w: WorkerHandle): void {
    this.#fork(w);
    this.#sendConfig(w);
  }

  /**
   * The current snapshot to one worker, from the message packed once for all of them: as a file
   * it reads when it is large, else (or when `direct`: the worker could not read the file) itself.
   */
  #sendConfig(w: WorkerHandle, direct = false): void {
    if (!this.#started || w.child === null || !w.child.connected || this.#snapshot === null) return;
    this.#applyMessage ??= encodeApply(this.#snapshot);
    const { version } = this.#snapshot;
    const path = direct ? null : this.#files.pathFor(version, this.#applyMessage);
    this.#sendPacked(w, path === null ? this.#applyMessage : encodeMessage({ kind: 'config:file', version, path }));
  }

  /** Whether every worker has listened once since the start (the first config reached them all). */
  get everReady(): boolean {
    return this.#everReady;
  }

  #fork(w: WorkerHandle): void {
    w.restartTimer = null;
    // Listeners read what the old worker left in its slot (metrics fold it into a retired base).
    this.emit('spawning', w.id);
    clearSlot(this.#seg, w.id);
    w.startedAt = Date.now();
    w.listening = false;
    w.ackedVersion = 0;
    w.handledVersion = 0;
    let child: ChildProcess;
    try {
      child = forkWorker(w.id, this.#seg.name, this.#settings, this.#codeId);
    } catch (e) {
      // Some spawn errors throw (inside the restart timer): the primary must survive them.
      this.#forkFailed(w, (e as Error).message);
      return;
    }
    w.child = child;
    w.pid = child.pid ?? 0;
    w.heartbeat.reset(Date.now());
    child.on('message', (raw) => this.#onMessage(w, child, raw));
    child.on('exit', (code, signal) => this.#onExit(w, child, code, signal));
    child.on('error', (err) => {
      // A fork that failed (EAGAIN under a pids limit, EMFILE) emits 'error' and never 'exit':
      // without this the slot would wait for that exit forever.
      if (child.pid === undefined && w.child === child) {
        w.child = null;
        this.#forkFailed(w, err.message);
      } else log('error', 'worker process error', { worker: w.id, err: err.message });
    });
  }

  /** A fork that produced no process: try again later, with the same backoff as an exit. */
  #forkFailed(w: WorkerHandle, reason: string): void {
    if (this.#stopping) return;
    if (!this.#everReady && ++w.startFailures >= MAX_START_FAILURES) {
      this.emit('fatal', { message: `cannot start worker ${w.id}: ${reason}` });
      return;
    }
    w.backoffMs = nextBackoff(w.backoffMs, 0);
    w.restarts++;
    log('error', 'cannot start a worker process; trying again', { worker: w.id, err: reason, restartInMs: w.backoffMs });
    w.restartTimer = setTimeout(() => this.#spawn(w), w.backoffMs);
  }

  #send(w: WorkerHandle, msg: PrimaryMessage): void {
    if (w.child === null || !w.child.connected) return;
    this.#sendPacked(w, encodeMessage(msg));
  }

  #sendPacked(w: WorkerHandle, packed: Buffer): void {
    const c = w.child;
    if (c === null || !c.connected) return;
    c.send(packed, (err) => {
      if (err) log('warn', 'IPC send failed', { worker: w.id, err: err.message });
    });
  }

  #onMessage(w: WorkerHandle, child: ChildProcess, raw: unknown): void {
    if (w.child !== child) return;
    const msg = decodeMessage<WorkerMessage>(raw);
    if (msg === null) return;
    switch (msg.kind) {
      case 'worker:listening':
        w.listening = true;
        this.uws = msg.uws;
        log('info', 'worker listening', { worker: w.id, workerPid: w.pid, port: msg.port });
        if (!this.#everReady && this.allListening()) {
          this.#everReady = true;
          this.emit('ready');
        }
        break;
      case 'config:ack':
        w.ackedVersion = msg.version;
        this.#handled(w, msg.version);
        this.emit('ack', w.id, msg.version);
        break;
      case 'config:resend':
        log('warn', 'worker could not read its config file; sending the config over IPC', { worker: w.id, version: msg.version });
        // Not offered again; and whatever version it was, the current config is what it needs now.
        this.#files.forget(msg.version);
        this.#sendConfig(w, true);
        break;
      case 'config:rejected':
        this.#handled(w, msg.version);
        log('error', 'worker rejected config', { worker: w.id, version: msg.version, err: msg.error.message });
        this.emit('rejected', w.id, msg.version, msg.error.message);
        if (!this.#everReady) this.emit('fatal', { message: `worker ${w.id} rejected the config: ${msg.error.message}` });
        break;
      case 'listen:failed':
        log('error', 'worker cannot serve', { worker: w.id, err: msg.error.message });
        if (!this.#everReady) this.emit('fatal', msg.error);
        break;
    }
  }

  #handled(w: WorkerHandle, version: number): void {
    if (version <= w.handledVersion) return;
    w.handledVersion = version;
    this.#sweepFiles();
  }

  #sweepFiles(): void {
    if (this.#snapshot === null) return;
    this.#files.sweep(this.#snapshot.version, this.workers.filter((w) => w.child !== null).map((w) => w.handledVersion));
  }

  #onExit(w: WorkerHandle, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (w.child !== child) return;
    w.child = null;
    w.listening = false;
    this.#sweepFiles();
    if (this.#stopping) {
      this.emit('exit', w.id);
      return;
    }
    if (!this.#everReady && ++w.startFailures >= MAX_START_FAILURES) {
      // Never served: restarting forever would hide the cause from systemd and the operator.
      this.emit('fatal', { message: `worker ${w.id} exited ${w.startFailures} times before serving (last: ${signal ?? `code ${code}`})` });
      return;
    }
    const uptime = Date.now() - w.startedAt;
    w.backoffMs = nextBackoff(w.backoffMs, uptime);
    w.restarts++;
    log('warn', 'worker exited; replacing it', { worker: w.id, workerPid: w.pid, code, signal, restartInMs: w.backoffMs });
    w.restartTimer = setTimeout(() => this.#spawn(w), w.backoffMs);
  }

  #checkHeartbeats(): void {
    const now = Date.now();
    const timeout = this.#settings.workerHeartbeatTimeout;
    for (const w of this.workers) {
      if (w.child === null || this.#stopping) continue;
      const slot = readSlot(this.#seg, w.id);
      const limit = w.listening ? timeout : Math.max(timeout, STARTUP_HEARTBEAT_MS);
      if (w.heartbeat.stale(slot.heartbeat, now, limit)) {
        log('error', 'worker heartbeat stopped; killing it', { worker: w.id, workerPid: w.pid, timeoutMs: limit });
        w.heartbeat.reset(now);
        w.child.kill('SIGKILL');
      }
    }
  }

  /** Drain every worker; resolves once all have exited (stragglers are killed at the deadline). */
  async shutdown(drainTimeoutMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#watch !== null) clearInterval(this.#watch);
    for (const w of this.workers) {
      if (w.restartTimer !== null) clearTimeout(w.restartTimer);
      w.restartTimer = null;
    }
    const live = this.workers.filter((w) => w.child !== null);
    await Promise.all(live.map((w) => new Promise<void>((resolve) => {
      const child = w.child as ChildProcess;
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), Math.min(drainTimeoutMs + 2000, 2 ** 31 - 1));
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      // A stopped (SIGSTOP) worker cannot drain; SIGCONT is harmless for the others.
      child.kill('SIGCONT');
      this.#send(w, { kind: 'shutdown', drainTimeout: drainTimeoutMs });
    })));
  }

  /**
   * A start that failed after fork() (the config did not compile): every worker is killed and
   * resolves once all have exited, so none outlives the primary.
   */
  async abort(): Promise<void> {
    const live = this.workers.map((w) => w.child).filter((c): c is ChildProcess => c !== null && c.pid !== undefined && c.exitCode === null && c.signalCode === null);
    const exited = Promise.all(live.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve()))));
    this.kill();
    if (this.#watch !== null) clearInterval(this.#watch);
    await exited;
  }

  /** Second signal: no more draining. */
  kill(): void {
    this.#stopping = true;
    for (const w of this.workers) {
      if (w.restartTimer !== null) clearTimeout(w.restartTimer);
      w.child?.kill('SIGKILL');
    }
  }
}
