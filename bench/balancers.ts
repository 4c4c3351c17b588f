/**
 * Balancer bench (issue 15): Hyperway pinned to cpu 0 (BENCH_WORKERS workers, 1 by default)
 * serves one route per balancer, in front of two upstream processes pinned with wrk to the last
 * cpu, measured with wrk in interleaved rounds so every ratio compares numbers taken minutes
 * apart on the same machine state:
 *   single  a service straight to one upstream (no upstream entity: the baseline)
 *   rr      round-robin over the 2 targets, no health checks (the shared cursor: one Atomics.add per pick)
 *   rrhc    round-robin with active (http, 1 s) and passive checks on (a passive report per try)
 *   lc      least-connections (shared in-flight words written per try)
 *   ch      consistent-hashing on a header (every request hashes its key; the continuum walk)
 *   lat     latency (EWMA per try, two random choices per pick)
 *   base-*  single and rr on another build (BENCH_BASE_ENTRY=<checkout>/dist/src/main.js; skipped without it)
 * Prints RPS, p50/p99, the Hyperway process tree's CPU per request, and the ratios the issue sets:
 * rr, rrhc and lc each ≥ 0.95 × single.
 * Knobs: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (64), BENCH_ROUNDS (3), BENCH_WORKERS (1), BENCH_RECORD=1.
 */
import { rmSync } from 'node:fs';
import { hasTaskset, planCpus, upstreamCpu, cpuCount } from './lib/cpu-plan';
import { numberEnv } from './lib/knobs';
import { runMain } from './lib/processes';
import { sameRoundRatio, type WrkSample } from './lib/rounds';
import type { Target } from './lib/target';
import { startHyperway } from './lib/target-hyperway';
import { BODY } from './upstream';
import { startUpstream } from './lib/upstream-process';
import { measureCases, reportWrkRows, startWrkRows, wrkRowsTable, type WrkCase } from './lib/wrk-rows';

function config(p1: number, p2: number): string {
  const targets = `[{ target: "127.0.0.1:${p1}" }, { target: "127.0.0.1:${p2}" }]`;
  const checks = `{ active: { http_path: /, healthy: { interval: 1, successes: 1 }, unhealthy: { interval: 1, tcp_failures: 1 } }, passive: { unhealthy: { http_failures: 5, tcp_failures: 2 } } }`;
  const svc = (name: string, host: string): string => `  - { name: ${name}, host: ${host}, port: 80, routes: [{ name: ${name}, paths: [/${name}], strip_path: true }] }`;
  return `_format_version: "3.0"
services:
  - { name: single, url: "http://127.0.0.1:${p1}", routes: [{ name: single, paths: [/] }] }
${svc('rr', 'rr-up')}
${svc('rrhc', 'rrhc-up')}
${svc('lc', 'lc-up')}
${svc('ch', 'ch-up')}
${svc('lat', 'lat-up')}
upstreams:
  - { name: rr-up, targets: ${targets} }
  - { name: rrhc-up, healthchecks: ${checks}, targets: ${targets} }
  - { name: lc-up, algorithm: least-connections, targets: ${targets} }
  - { name: ch-up, algorithm: consistent-hashing, hash_on: header, hash_on_header: x-user, targets: ${targets} }
  - { name: lat-up, algorithm: latency, targets: ${targets} }
`;
}

type Case = WrkCase<'current' | 'base'>;

const CASES: Case[] = [
  { key: 'single', target: 'current', path: '/', headers: {} },
  { key: 'rr', target: 'current', path: '/rr', headers: {} },
  { key: 'rrhc', target: 'current', path: '/rrhc', headers: {} },
  { key: 'lc', target: 'current', path: '/lc', headers: {} },
  { key: 'ch', target: 'current', path: '/ch', headers: { 'x-user': 'user-4711' } },
  { key: 'lat', target: 'current', path: '/lat', headers: {} },
  { key: 'base-single', target: 'base', path: '/', headers: {} },
  { key: 'base-rr', target: 'base', path: '/rr', headers: {} },
];

async function main(): Promise<number> {
  const run = startWrkRows();
  if (!run) return 1;
  const { durationS, connections, rounds, scratchDir } = run;
  const workers = numberEnv('BENCH_WORKERS', 1, 1);
  const baseEntry = process.env.BENCH_BASE_ENTRY ?? null;
  const n = cpuCount();
  const plan = planCpus(workers > 1 ? 'all' : 'one', n);
  console.log(`hyperway (${workers} worker${workers > 1 ? 's' : ''}) on cpu ${plan.target}, 2 upstreams and wrk on cpu ${plan.loadgen}${hasTaskset() ? '' : ' (taskset missing: not pinned)'}; ${rounds} rounds of ${durationS}s, ${connections} connections`);
  for (const o of plan.overlaps) console.log(`note: ${o}`);
  const up1 = await startUpstream(String(upstreamCpu(n)));
  const up2 = await startUpstream(String(upstreamCpu(n)));
  const targets = new Map<string, Target>();
  let samples: WrkSample[] = [];
  try {
    const common = { upstreamPort: up1.port, scratchDir, expectBody: BODY, workers, plan, config: config(up1.port, up2.port) };
    targets.set('current', await startHyperway({ ...common, key: 'current', name: 'hyperway (this build)' }));
    if (baseEntry) targets.set('base', await startHyperway({ ...common, key: 'base', name: 'hyperway (base build)', entry: baseEntry }));
    else console.log('base rows skipped: set BENCH_BASE_ENTRY to a build of another commit');
    samples = await measureCases(run, CASES, targets, { warmupS: Math.min(2, durationS), loadCpu: plan.loadgen });
  } finally {
    for (const t of targets.values()) await t.stop();
    await up1.stop();
    await up2.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
  const ratio = (a: string, b: string, f: (s: WrkSample) => number): number => sameRoundRatio(samples, rounds, a, b, f);
  const table = wrkRowsTable(run, CASES, samples, 'single', (k) => (k.startsWith('base-') ? 'base-single' : 'single'));
  const goals = [
    `round-robin, no checks, RPS ≥ 0.95 × single: ${ratio('rr', 'single', (s) => s.rps).toFixed(3)}`,
    `round-robin, active + passive checks, RPS ≥ 0.95 × single: ${ratio('rrhc', 'single', (s) => s.rps).toFixed(3)}`,
    `least-connections RPS ≥ 0.95 × single: ${ratio('lc', 'single', (s) => s.rps).toFixed(3)}`,
    `consistent-hashing RPS (recorded): ${ratio('ch', 'single', (s) => s.rps).toFixed(3)} × single`,
    `latency RPS (recorded): ${ratio('lat', 'single', (s) => s.rps).toFixed(3)} × single`,
    baseEntry ? `rr CPU/request against the base build's rr: ${ratio('rr', 'base-rr', (s) => s.cpuUsPerReq).toFixed(3)}×` : 'base: not measured',
  ];
  reportWrkRows(run, {
    bench: 'balancers',
    title: 'Balancer bench',
    layout: `Hyperway (${workers} worker${workers > 1 ? 's' : ''}) pinned to cpu ${plan.target}; two upstreams (${up1.impl}) and wrk (1 thread, ${connections} connections) on cpu ${plan.loadgen}.`,
    table,
    goals,
    samples,
  });
  return 0;
}

if (require.main === module) runMain(main);
