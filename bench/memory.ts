/**
 * Memory per worker: RSS (/proc VmRSS) of each Hyperway worker at idle after start, with 10,000
 * idle keep-alive client connections held open (each made one request; spread over 2 workers by
 * the kernel's SO_REUSEPORT hash), and after they close; nginx with 2 workers beside it under the
 * same connections when installed.
 *
 *   npm run bench:memory                       BENCH_MEM_CONNECTIONS=10000, 2 workers
 *   BENCH_MEM_CONNECTIONS=2000 BENCH_MEM_HOLD_S=5 npm run bench:memory      a smoke run
 *   BENCH_RECORD=1 …   also writes bench/results/<date>-<machine>-memory.md
 *
 * uWS cuts a connection after ~10 s without a byte either way, so while held every connection
 * sends one more request every BENCH_MEM_REFRESH_S (7 s; 0 = never, and hold less than 10 s).
 * Needs about connections + 1,000 file descriptors in this process (`ulimit -n`; Node raises the
 * soft limit to the hard one) and the gateway's workers inherit the same limit.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionsByPid } from '../src/primary/admin/connections';
import { planCpus } from './lib/cpu-plan';
import { IdleConnections } from './lib/idle-connections';
import { numberEnv } from './lib/knobs';
import { describeMachine, machineTag } from './lib/machine';
import { fdLimit, heapReport, rssBytes } from './lib/proc-memory';
import { sleep } from './lib/processes';
import { markdownTable } from './lib/report';
import { REPO_ROOT, type Target } from './lib/target';
import { nginxPath, startNginx } from './lib/target-nginx';
import { startHyperway } from './lib/target-hyperway';
import { startUpstream } from './lib/upstream-process';
import { BODY } from './upstream';

const MIB = 1024 * 1024;

interface Knobs {
  connections: number;
  workers: number;
  holdS: number;
  refreshS: number;
  settleS: number;
  record: boolean;
}

function knobs(): Knobs {
  return {
    connections: Math.floor(numberEnv('BENCH_MEM_CONNECTIONS', 10_000, 1)),
    workers: Math.floor(numberEnv('BENCH_MEM_WORKERS', 2, 1)),
    holdS: numberEnv('BENCH_MEM_HOLD_S', 15, 1),
    refreshS: numberEnv('BENCH_MEM_REFRESH_S', 7, 0),
    settleS: numberEnv('BENCH_MEM_SETTLE_S', 3, 0),
    record: process.env.BENCH_RECORD === '1',
  };
}

interface ProcRow {
  target: string;
  phase: string;
  role: string;
  pid: number;
  connections: number;
  rssMiB: number;
  heapMiB: number | null;
}

async function sample(target: Target, phase: string, probeDir: string | null): Promise<ProcRow[]> {
  const pids = target.pids();
  const port = Number(new URL(target.url).port);
  const conns = await connectionsByPid(pids, port);
  return pids.map((pid) => {
    const heap = probeDir ? heapReport(probeDir, pid) : null;
    return {
      target: target.name, phase, role: pid === target.rootPid ? 'primary' : 'worker', pid,
      connections: conns.get(pid) ?? 0, rssMiB: (rssBytes(pid) ?? NaN) / MIB, heapMiB: heap ? heap.heapUsed / MIB : null,
    };
  });
}

async function settledConnections(target: Target, want: (n: number) => boolean, timeoutMs: number): Promise<number> {
  const port = Number(new URL(target.url).port);
  const deadline = Date.now() + timeoutMs;
  let n = -1;
  while (Date.now() < deadline) {
    n = [...(await connectionsByPid(target.pids(), port)).values()].reduce((a, b) => a + Math.max(b, 0), 0);
    if (want(n)) return n;
    await sleep(250);
  }
  return n;
}

async function measure(target: Target, k: Knobs, probeDir: string | null): Promise<{ rows: ProcRow[]; notes: string[] }> {
  const notes: string[] = [];
  const rows: ProcRow[] = [];
  const roleName = target.key.startsWith('nginx') ? (r: ProcRow): ProcRow => ({ ...r, role: r.role === 'primary' ? 'master' : 'worker' }) : (r: ProcRow): ProcRow => r;
  await sleep(k.settleS * 1000 + (probeDir ? 1000 : 0));
  rows.push(...(await sample(target, 'idle after start', probeDir)).map(roleName));
  const url = new URL(target.url);
  const idle = new IdleConnections(url.hostname, Number(url.port));
  const t0 = performance.now();
  await idle.openMany(k.connections, 256);
  const openS = (performance.now() - t0) / 1000;
  console.log(`  ${target.name}: ${k.connections} connections open in ${openS.toFixed(1)} s`);
  notes.push(`${target.name}: ${k.connections} connections (one request each, 256 at a time) opened in ${openS.toFixed(1)} s`);
  if (k.refreshS > 0) idle.refresh(k.refreshS * 1000);
  await sleep(k.holdS * 1000);
  const held = (await sample(target, `${k.connections} connections held`, probeDir)).map(roleName);
  rows.push(...held);
  const serverSide = held.reduce((a, r) => a + r.connections, 0);
  if (idle.open < k.connections || serverSide < k.connections) {
    notes.push(`${target.name}: ${idle.open} client connections open, ${serverSide} established at the server, ` +
      `${idle.closedByPeer} closed by the server, ${idle.failedRequests} refresh requests failed while held`);
  }
  idle.closeAll();
  const left = await settledConnections(target, (n) => n === 0, 15_000);
  if (left !== 0) notes.push(`${target.name}: ${left} connections still established 15 s after the client closed`);
  await sleep(k.settleS * 1000 + (probeDir ? 1000 : 0));
  rows.push(...(await sample(target, 'after they closed', probeDir)).map(roleName));
  return { rows, notes };
}

function perConnection(rows: ProcRow[], target: string): string[][] {
  const out: string[][] = [];
  const idle = rows.filter((r) => r.target === target && r.phase === 'idle after start' && r.role === 'worker');
  const held = rows.filter((r) => r.target === target && r.phase.endsWith('held') && r.role === 'worker');
  for (const h of held) {
    const i = idle.find((r) => r.pid === h.pid);
    if (!i || h.connections <= 0) continue;
    out.push([target, String(h.pid), String(h.connections), ((h.rssMiB - i.rssMiB) * 1024 / h.connections).toFixed(1)]);
  }
  return out;
}

async function main(): Promise<number> {
  const k = knobs();
  const machine = describeMachine();
  const own = fdLimit('self') ?? Infinity;
  if (own < k.connections + 1024) {
    console.error(`memory bench: this process may open ${own} files, ${k.connections} connections need ≥ ${k.connections + 1024}: raise \`ulimit -n\` (hard limit) and run again`);
    return 1;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-memory-'));
  const probeDir = join(scratch, 'heap');
  mkdirSync(probeDir);
  const plan = planCpus('all');
  const upstream = await startUpstream(plan.upstream);
  const rows: ProcRow[] = [];
  const notes: string[] = [];
  console.log(`memory: ${k.connections} connections over ${k.workers} workers, held ${k.holdS} s (a request per connection every ${k.refreshS || '∞'} s); ` +
    `file limit ${own}; load average ${machine.loadAvg1.toFixed(2)}`);
  try {
    const gw = await startHyperway({
      key: 'hyperway', name: `hyperway ${k.workers} workers`, upstreamPort: upstream.port, workers: k.workers, plan, scratchDir: scratch,
      expectBody: BODY, nodeArgs: ['--expose-gc', '--require', join(__dirname, 'lib', 'heap-probe.js')],
      // heap-probe.ts reads these in every gateway process; live heap, not live + garbage an idle process has no reason to collect.
      env: { BENCH_HEAP_PROBE_DIR: probeDir, BENCH_HEAP_PROBE_MS: '1000', BENCH_HEAP_PROBE_GC: '1' },
    });
    try {
      const workerLimit = Math.min(...gw.pids().filter((p) => p !== gw.rootPid).map((p) => fdLimit(p) ?? Infinity));
      if (workerLimit < k.connections / k.workers + 1024) notes.push(`hyperway workers may open ${workerLimit} files: fewer than the connections they get`);
      const r = await measure(gw, k, probeDir);
      rows.push(...r.rows);
      notes.push(...r.notes);
    } finally {
      await gw.stop();
    }
    if (nginxPath()) {
      const ngx = await startNginx({
        key: 'nginx', name: `nginx ${k.workers} workers`, upstreamPort: upstream.port, plan, scratchDir: scratch, expectBody: BODY,
        workers: k.workers, workerConnections: k.connections + 1024, keepaliveTimeoutS: 300, reuseport: true, keepaliveRequests: 1_000_000,
      });
      try {
        const r = await measure(ngx, k, null);
        rows.push(...r.rows);
        notes.push(...r.notes);
      } finally {
        await ngx.stop();
      }
    } else notes.push('nginx not installed: no nginx rows (Debian: apt-get install -y nginx-light)');
  } finally {
    await upstream.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const table = markdownTable(
    ['target', 'phase', 'process', 'pid', 'connections', 'RSS MiB', 'V8 heap used MiB'],
    rows.map((r) => [r.target, r.phase, r.role, String(r.pid), String(r.connections), r.rssMiB.toFixed(1), r.heapMiB === null ? '-' : r.heapMiB.toFixed(1)]),
  );
  const targets = [...new Set(rows.map((r) => r.target))];
  const per = markdownTable(['target', 'worker pid', 'connections held', 'RSS KiB per connection (held − idle)'], targets.flatMap((t) => perConnection(rows, t)));
  const text = [table, '', per, '', ...notes.map((n) => `- ${n}`), ''].join('\n');
  console.log(`\n${text}`);
  if (k.record) {
    const day = new Date().toISOString().slice(0, 10);
    const file = join(REPO_ROOT, 'bench', 'results', `${day}-${machineTag(machine)}-memory.md`);
    writeFileSync(file, [
      `# Memory per worker, ${day}, ${machine.nproc}-core ${machine.cpuModel}`,
      '',
      `Recorded by \`BENCH_RECORD=1 npm run bench:memory\` (bench/memory.ts): RSS is /proc VmRSS, the heap is V8's heapUsed ` +
      `after a full GC (Hyperway only, from bench/lib/heap-probe.ts with \`--expose-gc\`, once a second). ${k.connections} keep-alive connections, one request each, held ${k.holdS} s with ` +
      `one request per connection every ${k.refreshS || '∞'} s (uWS's ~10 s idle cut); connections per process from /proc/net/tcp. ` +
      `nginx: ${k.workers} workers, \`reuseport\`, upstream keepalive. Kernel ${machine.kernel}, Node ${machine.node}, ${machine.uws}; ` +
      `load average ${machine.loadAvg1.toFixed(2)} at start.`,
      '',
      text,
    ].join('\n'));
    console.log(`recorded ${file}`);
  }
  return notes.some((n) => n.includes('closed by the server') || n.includes('still established')) ? 1 : 0;
}

if (require.main === module) {
  main().then((code) => (process.exitCode = code), (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
