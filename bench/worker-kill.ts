/**
 * Worker kill under load: 2 workers under constant load, one worker SIGKILLed N times (the
 * supervisor, or nginx's master, replaces it), failed requests counted per kill. Targets: Hyperway
 * with net.ipv4.tcp_migrate_req as found, Hyperway with it set to 1 (when this process may write
 * it; the old value is restored, also on SIGINT/SIGTERM), and nginx with 2 workers (kill -9 of a
 * worker, nginx's default shared listen socket). Each target under two loads:
 *   keep-alive                  BENCH_KILL_CONNECTIONS (50) connections, closed loop like wrk -c50
 *                               (BENCH_KILL_RATE > 0 makes it open loop): what dies with a worker
 *                               is the requests in flight on the connections it held;
 *   new connection per request  `Connection: close` at BENCH_KILL_CLOSE_RATE (400 req/s): what
 *                               dies is the worker's accept queue, which tcp_migrate_req moves.
 *
 *   npm run bench:worker-kill        10 kills per row, each 3 s after the last replacement listens
 *   BENCH_KILL_COUNT=3 BENCH_KILL_INTERVAL_S=1.5 npm run bench:worker-kill      a smoke run
 *   BENCH_RECORD=1 …   also writes bench/results/<date>-<machine>-worker-kill.md
 *
 * A failure is any request that got no complete 200 (reset, refused, hang-up). Per kill: the
 * client connections the victim held (/proc/net/tcp), the failures until the next kill, the time
 * to the new process and to it holding a listening socket on the proxy port.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionsByPid } from '../src/primary/admin/connections';
import { planCpus } from './lib/cpu-plan';
import { numberEnv } from './lib/knobs';
import { pidsListeningOn } from './lib/listeners';
import { describeMachine, machineTag } from './lib/machine';
import { sleep } from './lib/processes';
import { RateLoad, reasonsText } from './lib/rate-load';
import { median } from './lib/rounds';
import { markdownTable } from './lib/report';
import { REPO_ROOT, type Target } from './lib/target';
import { nginxPath, startNginx } from './lib/target-nginx';
import { startHyperway } from './lib/target-hyperway';
import { startUpstream } from './lib/upstream-process';
import { BODY } from './upstream';

const MIGRATE = '/proc/sys/net/ipv4/tcp_migrate_req';
/** How long a replacement may take to listen before the bench gives up waiting (and says so). */
const REPLACE_TIMEOUT_MS = 30_000;

interface Knobs {
  kills: number;
  intervalS: number;
  connections: number;
  rate: number;
  /** Open-loop rate of the new-connection-per-request rows. */
  closeRate: number;
  /** nginx's keepalive_requests; 0 leaves its default (1000), which recycles client connections. */
  nginxKeepaliveRequests: number;
  workers: number;
  record: boolean;
}

function knobs(): Knobs {
  return {
    kills: Math.floor(numberEnv('BENCH_KILL_COUNT', 10, 1)),
    intervalS: numberEnv('BENCH_KILL_INTERVAL_S', 3, 0.5),
    connections: Math.floor(numberEnv('BENCH_KILL_CONNECTIONS', 50, 1)),
    rate: numberEnv('BENCH_KILL_RATE', 0, 0),
    closeRate: numberEnv('BENCH_KILL_CLOSE_RATE', 400, 1),
    nginxKeepaliveRequests: Math.floor(numberEnv('BENCH_KILL_NGINX_KEEPALIVE_REQUESTS', 0, 0)),
    workers: Math.floor(numberEnv('BENCH_KILL_WORKERS', 2, 2)),
    record: process.env.BENCH_RECORD === '1',
  };
}

interface Kill {
  /** Established client connections the killed worker held just before. */
  victimConnections: number;
  failed: number;
  reasons: string;
  /** ms from the kill to a new worker process; NaN if none appeared before the next kill. */
  forkMs: number;
  /** ms from the kill to the new worker listening on the proxy port. */
  listenMs: number;
}

interface RowResult {
  row: string;
  mode: string;
  migrateReq: string;
  requests: number;
  baselineFailed: number;
  kills: Kill[];
  failed: number;
  reasons: string;
}

function workersOf(t: Target): number[] {
  return t.pids().filter((p) => p !== t.rootPid);
}

/** Kills one worker, waits for its replacement to listen (at most `timeoutMs`), returns the timings. */
async function killOne(t: Target, victim: number, port: number, timeoutMs: number): Promise<{ forkMs: number; listenMs: number }> {
  const before = new Set(workersOf(t));
  const t0 = performance.now();
  process.kill(victim, 'SIGKILL');
  let forkMs = NaN;
  let listenMs = NaN;
  while (performance.now() - t0 < timeoutMs) {
    const fresh = workersOf(t).filter((p) => !before.has(p));
    if (fresh.length > 0) {
      if (Number.isNaN(forkMs)) forkMs = performance.now() - t0;
      if (pidsListeningOn(fresh, port).length > 0) {
        listenMs = performance.now() - t0;
        break;
      }
    }
    await sleep(5);
  }
  return { forkMs, listenMs };
}

type Mode = 'keep-alive' | 'new connection per request';
const MODES: Mode[] = ['keep-alive', 'new connection per request'];

async function runRow(row: string, mode: Mode, migrateReq: string, t: Target, k: Knobs): Promise<RowResult> {
  const port = Number(new URL(t.url).port);
  const keepAlive = mode === 'keep-alive';
  const load = new RateLoad({
    baseUrl: t.url, rate: keepAlive ? k.rate : k.closeRate, connections: k.connections, keepAlive,
    mix: [{ kind: 'GET', method: 'GET', path: '/', expectBytes: BODY.length }],
  });
  const windowMs = k.intervalS * 1000;
  load.start();
  // Warm-up, then one interval without a kill: failures there are the baseline, not the kills'.
  await sleep(windowMs);
  const baseStart = load.counters.failed;
  await sleep(windowMs);
  const baselineFailed = load.counters.failed - baseStart;
  const kills: Kill[] = [];
  for (let i = 0; i < k.kills; i++) {
    const workers = workersOf(t).sort((a, b) => a - b);
    if (workers.length === 0) throw new Error(`${row}: no worker to kill`);
    const victim = workers[i % workers.length];
    const failedBefore = load.counters.failed;
    const reasonsBefore = new Map(load.counters.reasons);
    const victimConnections = (await connectionsByPid([victim], port)).get(victim) ?? -1;
    // The next kill waits for the replacement to listen, then one interval: each kill meets
    // every worker up, as a single crash would.
    const { forkMs, listenMs } = await killOne(t, victim, port, REPLACE_TIMEOUT_MS);
    await sleep(windowMs);
    const reasons = [...load.counters.reasons].map(([r, n]) => [r, n - (reasonsBefore.get(r) ?? 0)] as const).filter(([, n]) => n > 0);
    const kill: Kill = { victimConnections, failed: load.counters.failed - failedBefore, reasons: reasons.map(([r, n]) => `${r} ×${n}`).join(', ') || 'none', forkMs, listenMs };
    kills.push(kill);
    console.log(`  ${row}, ${mode}: kill ${i + 1}/${k.kills} (pid ${victim}, ${victimConnections} connections): ${kill.failed} failed (${kill.reasons}); new worker after ${kill.forkMs.toFixed(0)} ms, listening after ${kill.listenMs.toFixed(0)} ms`);
  }
  await load.stop();
  return { row, mode, migrateReq, requests: load.counters.sent, baselineFailed, kills, failed: load.counters.failed, reasons: reasonsText(load.counters) };
}

function readMigrate(): string | null {
  try {
    return readFileSync(MIGRATE, 'utf8').trim();
  } catch {
    return null;
  }
}

function writeMigrate(value: string): string | null {
  try {
    writeFileSync(MIGRATE, value);
    return readMigrate() === value ? null : 'the value did not stick';
  } catch (e) {
    return (e as Error).message;
  }
}

const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');

async function main(): Promise<number> {
  const k = knobs();
  const machine = describeMachine();
  const plan = planCpus('all');
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-kill-'));
  const upstream = await startUpstream(plan.upstream);
  const results: RowResult[] = [];
  const notes: string[] = [];
  const found = readMigrate();
  console.log(`worker kill: ${k.kills} kills per row, ${k.intervalS} s after each replacement listens; keep-alive rows ${k.connections} connections ` +
    `${k.rate > 0 ? `at ${k.rate} req/s` : 'closed loop'}, new-connection rows ${k.closeRate} req/s; tcp_migrate_req = ${found ?? 'absent (kernel < 5.14)'}; load average ${machine.loadAvg1.toFixed(2)}`);
  const hyperway = async (row: string, migrate: string): Promise<void> => {
    const gw = await startHyperway({ key: 'hyperway', name: row, upstreamPort: upstream.port, workers: k.workers, plan, scratchDir: scratch, expectBody: BODY });
    try {
      for (const mode of MODES) results.push(await runRow(row, mode, migrate, gw, k));
    } finally {
      await gw.stop();
    }
  };
  let restore: string | null = null;
  const onSignal = (): void => {
    if (restore !== null) writeMigrate(restore);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await hyperway(`hyperway ${k.workers} workers`, found ?? 'absent');
    if (found === null) notes.push('net.ipv4.tcp_migrate_req absent (kernel < 5.14): no migrate row');
    else if (found === '1') notes.push('net.ipv4.tcp_migrate_req was already 1: the first row has it on; no separate row');
    else {
      const err = writeMigrate('1');
      if (err !== null) notes.push(`net.ipv4.tcp_migrate_req cannot be set here (${err}): no migrate row`);
      else {
        restore = found;
        try {
          await hyperway(`hyperway ${k.workers} workers, tcp_migrate_req=1`, '1');
        } finally {
          const back = writeMigrate(found);
          restore = null;
          if (back !== null) notes.push(`could not restore tcp_migrate_req to ${found}: ${back}`);
        }
      }
    }
    if (nginxPath()) {
      const ngx = await startNginx({
        key: 'nginx', name: `nginx ${k.workers} workers`, upstreamPort: upstream.port, plan, scratchDir: scratch, expectBody: BODY,
        workers: k.workers, workerConnections: 4096, keepaliveTimeoutS: 75, reuseport: false, keepaliveRequests: k.nginxKeepaliveRequests || undefined,
      });
      try {
        for (const mode of MODES) results.push(await runRow(`nginx ${k.workers} workers${k.nginxKeepaliveRequests ? `, keepalive_requests ${k.nginxKeepaliveRequests}` : ''}`, mode, found ?? 'absent', ngx, k));
      } finally {
        await ngx.stop();
      }
    } else notes.push('nginx not installed: no nginx row');
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await upstream.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const table = markdownTable(
    ['row', 'load', 'tcp_migrate_req', 'requests', 'failed without a kill', 'kills', 'failed per kill (median / max)', 'failed per kill (mean)', 'new process ms (median / max)', 'listening ms (median / max)', 'failure reasons'],
    results.map((r) => {
      const per = r.kills.map((x) => x.failed);
      const fork = r.kills.map((x) => x.forkMs).filter(Number.isFinite);
      const listen = r.kills.map((x) => x.listenMs).filter(Number.isFinite);
      return [
        r.row, r.mode, r.migrateReq, String(r.requests), String(r.baselineFailed), String(r.kills.length),
        `${median(per)} / ${Math.max(...per)}`, (per.reduce((a, b) => a + b, 0) / per.length).toFixed(1),
        `${f0(median(fork))} / ${f0(Math.max(...fork))}`, `${f0(median(listen))} / ${f0(Math.max(...listen))}`, r.reasons,
      ];
    }),
  );
  const perKill = markdownTable(
    ['row', 'load', ...Array.from({ length: k.kills }, (_, i) => `kill ${i + 1}`)],
    results.map((r) => [r.row, r.mode, ...r.kills.map((x) => `${x.failed} / ${x.victimConnections} (${f0(x.listenMs)} ms)`)]),
  );
  const text = [table, '', 'Per kill: failed requests / client connections the killed worker held (time to a listening replacement):', '', perKill, '', ...notes.map((n) => `- ${n}`), ''].join('\n');
  console.log(`\n${text}`);
  if (k.record) {
    const day = new Date().toISOString().slice(0, 10);
    const file = join(REPO_ROOT, 'bench', 'results', `${day}-${machineTag(machine)}-worker-kill.md`);
    writeFileSync(file, [
      `# Worker kill under load, ${day}, ${machine.nproc}-core ${machine.cpuModel}`,
      '',
      `Recorded by \`BENCH_RECORD=1 npm run bench:worker-kill\` (bench/worker-kill.ts): ${k.workers} workers; keep-alive rows: ${k.connections} connections ` +
      `(${k.rate > 0 ? `${k.rate} req/s` : 'closed loop'}); new-connection rows: ${k.closeRate} req/s, \`Connection: close\`, at most ${k.connections} at once; one Node client; ${k.kills} SIGKILLs alternating between the workers, each ${k.intervalS} s after the previous replacement listened; a kill's failures are those from it to the next kill. ` +
      `Kernel ${machine.kernel}, Node ${machine.node}, ${machine.uws}; load average ${machine.loadAvg1.toFixed(2)} at start.`,
      '',
      text,
    ].join('\n'));
    console.log(`recorded ${file}`);
  }
  return 0;
}

if (require.main === module) {
  main().then((code) => (process.exitCode = code), (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
