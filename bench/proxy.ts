/**
 * Proxy throughput bench: one run measures the upstream directly, Hyperway with 1 worker and with
 * one worker per core, and nginx (1 worker, auto) in front of the same upstream, with autocannon
 * and (when installed) wrk, each load generator in its own pinned process.
 * Knobs: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (64), BENCH_PIPELINING (1), BENCH_WARMUP (s, 3),
 * BENCH_UPSTREAM (uws|http), BENCH_ONLY (comma list of row keys), BENCH_RECORD=1 to write
 * bench/results/<date>-<machine>.md. See bench/README.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuCount, hasTaskset, planCpus, upstreamCpu, type CpuPlan, type TargetSpan } from './lib/cpu-plan';
import { proxyKnobs, type ProxyKnobs } from './lib/knobs';
import { runAutocannon, runLoadWorker } from './lib/load-autocannon';
import { runWrk, wrkPath } from './lib/load-wrk';
import { describeMachine, toolVersions } from './lib/machine';
import { cpuMsBetween, sampleCpu } from './lib/proc-stat';
import { runMain, sleep } from './lib/processes';
import { writeRecord, type RunSummary } from './lib/record';
import { ratiosTable, resultsTable, type Row } from './lib/report';
import type { Target } from './lib/target';
import { hyperwayBuilt, startHyperway } from './lib/target-hyperway';
import { nginxPath, startNginx } from './lib/target-nginx';
import { BODY } from './upstream';
import { startUpstream, type UpstreamProcess } from './lib/upstream-process';

interface Case {
  key: string;
  name: string;
  span: TargetSpan;
  /** Why the row cannot run here, or null. */
  unavailable: string | null;
  start(plan: CpuPlan): Promise<Target>;
}

function cases(upstream: UpstreamProcess, n: number, scratchDir: string): Case[] {
  const noHyperway = hyperwayBuilt() ? null : 'Hyperway not built: no dist/src/main.js (run `npm run build`)';
  const noNginx = nginxPath() ? null : 'nginx not installed (apt-get install nginx-light)';
  const common = { upstreamPort: upstream.port, scratchDir, expectBody: BODY };
  return [
    {
      key: 'direct',
      name: 'direct upstream',
      span: 'upstream',
      unavailable: null,
      start: async (plan) => ({ key: 'direct', name: 'direct upstream', url: upstream.url, plan, workers: 1, rootPid: upstream.pid, pids: upstream.pids, stop: async () => {} }),
    },
    { key: 'hyperway-1', name: 'hyperway 1 worker', span: 'one', unavailable: noHyperway, start: (plan) => startHyperway({ ...common, key: 'hyperway-1', name: 'hyperway 1 worker', workers: 1, plan }) },
    { key: 'hyperway-all', name: `hyperway ${n} workers`, span: 'all', unavailable: noHyperway, start: (plan) => startHyperway({ ...common, key: 'hyperway-all', name: `hyperway ${n} workers`, workers: n, plan }) },
    { key: 'nginx-1', name: 'nginx 1 worker', span: 'one', unavailable: noNginx, start: (plan) => startNginx({ ...common, key: 'nginx-1', name: 'nginx 1 worker', workers: '1', plan }) },
    { key: 'nginx-auto', name: 'nginx auto workers', span: 'all', unavailable: noNginx, start: (plan) => startNginx({ ...common, key: 'nginx-auto', name: 'nginx auto workers', workers: 'auto', plan }) },
  ];
}

async function measure(target: Target, upstream: UpstreamProcess, tool: Row['tool'], knobs: ProxyKnobs, scratchDir: string): Promise<Row> {
  const spec = { url: target.url, connections: knobs.connections, durationS: knobs.durationS, pipelining: knobs.pipelining };
  const isDirect = target.key === 'direct';
  const upPids = upstream.pids();
  const before = sampleCpu(target.pids());
  const upBefore = sampleCpu(upPids);
  const load = tool === 'wrk' ? await runWrk(spec, target.plan.loadgen, scratchDir) : await runAutocannon(spec, target.plan.loadgen);
  // Re-read the tree: a worker that restarted mid-run still gets charged.
  const after = sampleCpu(target.pids());
  const upAfter = sampleCpu(upPids);
  const requests = Math.max(load.requests, 1);
  const targetMs = cpuMsBetween(before, after);
  const rootMs = cpuMsBetween(before, after, [target.rootPid]);
  return {
    key: target.key,
    target: target.name,
    tool,
    workers: target.workers,
    cpus: target.plan.target,
    rps: load.requests / load.durationS,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    requests: load.requests,
    errors: load.errors,
    non2xx: load.non2xx,
    cpuMsPerReq: targetMs / requests,
    rootCpuShare: isDirect || targetMs === 0 ? null : rootMs / targetMs,
    upstreamCpuMsPerReq: isDirect ? null : cpuMsBetween(upBefore, upAfter) / requests,
  };
}

async function main(): Promise<number> {
  const knobs = proxyKnobs();
  const n = cpuCount();
  const wrk = wrkPath();
  const machine = describeMachine();
  const tools = toolVersions(wrk, nginxPath(), hasTaskset());
  const scratchDir = mkdtempSync(join(tmpdir(), 'hyperway-bench-'));
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const skipped: string[] = [];
  const failures: string[] = [];
  const rows: Row[] = [];
  const plans: Array<{ name: string; plan: CpuPlan }> = [];
  if (!tools.taskset) skipped.push('taskset not found: nothing is pinned, all processes float over all cores');
  if (!wrk) skipped.push('wrk rows: wrk not installed (apt-get install wrk)');

  console.log(`machine: ${machine.nproc} cpu ${machine.cpuModel}, kernel ${machine.kernel}, node ${machine.node}, uWS ${machine.uws}, load average ${machine.loadAvg1.toFixed(2)}`);
  if (machine.loadAvg1 > 0.5) console.log('warning: the machine is already busy; numbers will be noisy');
  console.log(`knobs: duration ${knobs.durationS}s, connections ${knobs.connections}, pipelining ${knobs.pipelining}, warmup ${knobs.warmupS}s`);
  const upstream = await startUpstream(String(upstreamCpu(n)));
  console.log(`upstream: ${upstream.impl} on cpu ${upstreamCpu(n)} at ${upstream.url}`);
  try {
    for (const c of cases(upstream, n, scratchDir)) {
      if (only && !only.includes(c.key)) continue;
      if (c.unavailable) {
        skipped.push(`${c.name}: ${c.unavailable}`);
        continue;
      }
      const plan = planCpus(c.span, n);
      plans.push({ name: c.name, plan });
      let target: Target | undefined;
      try {
        target = await c.start(plan);
        const overlap = plan.overlaps.length ? ` (${plan.overlaps.join('; ')})` : '';
        console.log(`\n${c.name}: target cpus ${plan.target}, load generator cpu ${plan.loadgen}${overlap}`);
        if (knobs.warmupS > 0) {
          await runLoadWorker({ url: target.url, connections: knobs.connections, durationS: knobs.warmupS, pipelining: knobs.pipelining }, plan.loadgen);
        }
        for (const tool of wrk ? (['autocannon', 'wrk'] as const) : (['autocannon'] as const)) {
          const row = await measure(target, upstream, tool, knobs, scratchDir);
          rows.push(row);
          console.log(`  ${tool}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50Ms.toFixed(3)} ms, p99 ${row.p99Ms.toFixed(3)} ms, ${row.cpuMsPerReq.toFixed(4)} CPU-ms/req`);
          if (row.rootCpuShare !== null) console.log(`    primary/master share of target CPU: ${(row.rootCpuShare * 100).toFixed(1)} %`);
        }
      } catch (err) {
        const msg = `${c.name}: ${err instanceof Error ? err.message : String(err)}`;
        failures.push(msg);
        console.error(`\nFAILED ${msg}`);
      } finally {
        await target?.stop();
        await sleep(300);
      }
    }
  } finally {
    await upstream.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }

  const summary: RunSummary = { date: new Date(), machine, tools, knobs, upstreamImpl: upstream.impl, rows, plans, skipped, failures };
  console.log(`\n${resultsTable(rows)}\n\n${ratiosTable(rows)}`);
  for (const s of skipped) console.log(`skipped: ${s}`);
  for (const f of failures) console.log(`failed: ${f.split('\n')[0]}`);
  if (knobs.record) console.log(`\nrecorded ${writeRecord(summary)}`);
  return failures.length === 0 ? 0 : 1;
}

if (require.main === module) runMain(main);
