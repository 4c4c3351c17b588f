/**
 * A worker process: maps the shared segment, waits for its first Snapshot, listens on the proxy
 * port (uWS sets SO_REUSEPORT, so the kernel spreads connections over all workers), and serves.
 * It imports nothing from primary/: everything it knows arrives over IPC or shared memory.
 */
import { loadUws, type ListenSocket, type TemplatedApp, type UwsModule } from './server/uws';
import { createProxyApp, type ProxyState } from './server/app';
import { closeWebSockets } from './server/websocket';
import { TlsListeners } from './server/tls-listeners';
import type { ListenAddress } from '../shared/settings';
import { Runtime } from './runtime';
import { UpstreamPools } from './proxy/upstream-pool';
import { attachSegment, readSideFile, region, REGION } from '../shared/shm';
import { attachRateLimitTable } from '../shared/rate-limit-table';
import { attachBreakerTable } from '../shared/breaker-table';
import { attachTargetTable } from './balancer/health';
import { WorkerSlot, WORKER_STATE } from '../shared/counter-slab';
import { encodeMessage, decodeMessage, type PrimaryMessage, type WorkerMessage } from '../shared/protocol';
import { configureLog, log } from '../lib/log';
import { codeId } from '../shared/build-id';
import type { WorkerSnapshot } from '../shared/snapshot';
import { flushFileLogs, reopenFileLogs } from '../plugins/file-log/writer';
import { bindPrometheus } from '../plugins/prometheus/handler';
import { setSendTimeout } from './proxy/send-deadline';
import { setWebSocketLimits } from './proxy/websocket-tunnel';
import { startProcessMetrics } from './process-metrics';

const HEARTBEAT_MS = 250;

export function startWorker(): void {
  const workerId = Number(process.env.HYPERWAY_WORKER_ID);
  configureLog((process.env.HYPERWAY_LOG_LEVEL as never) ?? 'notice', `worker-${workerId}`);
  // Forked from the code on disk: after an in-place upgrade it may not be the primary's.
  const ours = codeId();
  const primary = process.env.HYPERWAY_CODE_ID ?? 'none (a primary older than this check)';
  if (ours !== primary) {
    const message = `worker ${workerId} runs other code than its primary (worker ${ours}, primary ${primary}): ` +
      'the files under the running gateway changed (an upgrade in place?); restart the gateway to run the new code';
    log('error', 'code version mismatch: refusing to serve', { worker: workerId, worker_code: ours, primary_code: primary });
    send({ kind: 'listen:failed', error: { code: 'HW_ERR_VERSION_MISMATCH', message } });
    setTimeout(() => process.exit(1), 50);
    return;
  }
  const segment = attachSegment(String(process.env.HYPERWAY_SHM));
  attachTargetTable(segment, workerId);
  const slot = new WorkerSlot(segment, workerId);
  slot.reset(process.pid);
  bindPrometheus(segment, workerId);
  attachRateLimitTable(region(segment, REGION.RATE_LIMITS));
  attachBreakerTable(region(segment, REGION.BREAKERS));
  // The heartbeat is the proof that this event loop turns: a stuck loop stops bumping it.
  setInterval(() => slot.beat(), HEARTBEAT_MS);
  startProcessMetrics(slot);

  let uws: UwsModule;
  let build = { source: '', version: '' };
  try {
    const loaded = loadUws();
    uws = loaded.uws;
    build = { source: loaded.source, version: loaded.version };
    log(workerId === 0 ? 'notice' : 'info', 'uWebSockets.js loaded', { source: loaded.source, version: loaded.version });
  } catch (e) {
    send({ kind: 'listen:failed', error: { code: 'HW_ERR_UWS_UNAVAILABLE', message: (e as Error).message } });
    setTimeout(() => process.exit(1), 50);
    return;
  }

  const pools = new UpstreamPools();
  const state: ProxyState = { runtime: null, slot };
  let app: TemplatedApp | null = null;
  let listenSockets: ListenSocket[] = [];
  const tls = new TlsListeners(uws);
  // The ssl addresses bound at start: a reload does not move listeners.
  let sslAddresses: ListenAddress[] = [];
  let draining = false;

  function apply(snapshot: WorkerSnapshot): void {
    let rt: Runtime;
    try {
      rt = new Runtime(snapshot, pools);
    } catch (e) {
      log('error', 'snapshot rejected', { version: snapshot.version, err: (e as Error).stack });
      send({ kind: 'config:rejected', version: snapshot.version, error: { code: 'HW_ERR_CONFIG_INVALID', message: (e as Error).message } });
      return;
    }
    state.runtime = rt;
    setSendTimeout(snapshot.settings.sendTimeout);
    setWebSocketLimits(snapshot.settings);
    configureLog(snapshot.settings.logLevel, `worker-${workerId}`);
    if (app === null) {
      app = createProxyApp(uws, state);
      // Every plain proxy_listen entry (a snapshot from an older primary has only proxyListen).
      const addresses = snapshot.settings.proxyListens ?? [snapshot.settings.proxyListen];
      for (const { host, port } of addresses) {
        let sock: ListenSocket | false = false;
        app.listen(host, port, (s) => (sock = s));
        if (sock === false) {
          send({ kind: 'listen:failed', error: { code: 'HW_ERR_LISTEN_FAILED', message: `cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}` } });
          setTimeout(() => process.exit(1), 50);
          return;
        }
        listenSockets.push(sock);
      }
      sslAddresses = snapshot.settings.proxySslListens ?? [];
      const failed = tls.apply(snapshot, sslAddresses);
      if (failed !== null) {
        send({ kind: 'listen:failed', error: { code: 'HW_ERR_LISTEN_FAILED', message: failed } });
        setTimeout(() => process.exit(1), 50);
        return;
      }
      slot.setState(WORKER_STATE.LISTENING);
      slot.setConfigVersion(snapshot.version);
      send({ kind: 'worker:listening', port: uws.us_socket_local_port(listenSockets[0]), uws: build });
      send({ kind: 'config:ack', version: snapshot.version });
      return;
    }
    // New certificates: a new TLS generation (the old one keeps its connections). A failure keeps
    // the running certificates; the snapshot itself applies.
    const failed = draining ? null : tls.apply(snapshot, sslAddresses);
    if (failed !== null) log('error', 'TLS listeners kept on their previous certificates', { reason: failed });
    slot.setConfigVersion(snapshot.version);
    send({ kind: 'config:ack', version: snapshot.version });
  }

  /** Stop accepting, let requests in flight finish (up to the drain timeout), close, exit 0. */
  function drain(timeoutMs: number): void {
    if (draining) return;
    draining = true;
    slot.setState(WORKER_STATE.DRAINING);
    for (const sock of listenSockets) uws.us_listen_socket_close(sock);
    listenSockets = [];
    tls.closeListeners();
    // Open WebSockets would hold the drain to its deadline: they get 1001 now and end soon.
    closeWebSockets();
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => {
      if (slot.active() > 0 && Date.now() < deadline) return;
      clearInterval(poll);
      slot.setState(WORKER_STATE.EXITED);
      // uWS MUST close its app before the process exits, or open sockets abort the process.
      app?.close?.();
      tls.closeAll();
      // Log lines still buffered by file-log go out before the process does.
      void Promise.all([pools.closeAll(), flushFileLogs()]).finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    }, 20);
  }

  /** A large config:apply the primary wrote to a file (primary/supervisor/config-files.ts). */
  function applyFile(version: number, path: string): void {
    let msg: PrimaryMessage | null = null;
    try {
      msg = decodeMessage<PrimaryMessage>(readSideFile(path));
    } catch (e) {
      log('warn', 'cannot read the config file; asking for it over IPC', { version, path, err: (e as Error).message });
    }
    if (msg?.kind === 'config:apply') apply(msg.snapshot);
    else send({ kind: 'config:resend', version });
  }

  process.on('message', (raw) => {
    const msg = decodeMessage<PrimaryMessage>(raw);
    if (msg === null) return;
    if (msg.kind === 'config:apply') apply(msg.snapshot);
    else if (msg.kind === 'config:file') applyFile(msg.version, msg.path);
    else if (msg.kind === 'shutdown') drain(msg.drainTimeout);
    else if (msg.kind === 'logs:reopen') reopenFileLogs();
  });
  // The primary owns our lifetime: if its channel goes, so do we (after draining).
  process.on('disconnect', () => drain(state.runtime?.settings.drainTimeout ?? 1000));
  // Signals go to the whole process group on Ctrl-C; the primary coordinates shutdown.
  process.on('SIGINT', () => undefined);
  // logrotate may signal the whole group: reopen here too (and never start Node's inspector).
  process.on('SIGUSR1', reopenFileLogs);
  process.on('SIGTERM', () => drain(state.runtime?.settings.drainTimeout ?? 1000));
}

function send(msg: WorkerMessage): void {
  if (process.connected) process.send?.(encodeMessage(msg));
}
