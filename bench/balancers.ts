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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTaskset, planCpus, upstreamCpu, cpuCount } from './lib/cpu-plan';
import { numberEnv } from './lib/knobs';
import { wrkPath } from './lib/load-wrk';
import { describeMachine, machineTag, toolVersions } from './lib/machine';
import { runMain, sleep } from './lib/processes';
import { markdownTable } from './lib/report';
import { median, measureRow, sameRoundRatio, type WrkSample } from './lib/rounds';
import { REPO_ROOT, type Target } from './lib/target';
import { startHyperway } from './lib/target-hyperway';
import { nginxPath } from './lib/target-nginx';
import { BODY } from './upstream';
import { startUpstream } from './lib/upstream-process';

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

interface Case { key: string; target: 'current' | 'base'; path: string; headers: Record<string, string> }
type Sample = WrkSample;

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
  const wrk = wrkPath();
  if (!wrk) {
    console.error('wrk is required (apt-get install wrk)');
    return 1;
  }
  const durationS = numberEnv('BENCH_DURATION', 10, 1);
  const connections = numberEnv('BENCH_CONNECTIONS', 64, 1);
  const rounds = numberEnv('BENCH_ROUNDS', 3, 1);
  const workers = numberEnv('BENCH_WORKERS', 1, 1);
  const baseEntry = process.env.BENCH_BASE_ENTRY ?? null;
  const machine = describeMachine();
  const n = cpuCount();
  const plan = planCpus(workers > 1 ? 'all' : 'one', n);
  const scratchDir = mkdtempSync(join(tmpdir(), 'hyperway-bench-'));
  console.log(`machine: ${machine.nproc} cpu ${machine.cpuModel}, node ${machine.node}, uWS ${machine.uws}, load ${machine.loadAvg1.toFixed(2)}`);
  console.log(`hyperway (${workers} worker${workers > 1 ? 's' : ''}) on cpu ${plan.target}, 2 upstreams and wrk on cpu ${plan.loadgen}${hasTaskset() ? '' : ' (taskset missing: not pinned)'}; ${rounds} rounds of ${durationS}s, ${connections} connections`);
  for (const o of plan.overlaps) console.log(`note: ${o}`);
  const up1 = await startUpstream(String(upstreamCpu(n)));
  const up2 = await startUpstream(String(upstreamCpu(n)));
  const targets = new Map<string, Target>();
  const samples: Sample[] = [];
  try {
    const common = { upstreamPort: up1.port, scratchDir, expectBody: BODY, workers, plan, config: config(up1.port, up2.port) };
    targets.set('current', await startHyperway({ ...common, key: 'current', name: 'hyperway (this build)' }));
    if (baseEntry) targets.set('base', await startHyperway({ ...common, key: 'base', name: 'hyperway (base build)', entry: baseEntry }));
    else console.log('base rows skipped: set BENCH_BASE_ENTRY to a build of another commit');
    for (let round = 1; round <= rounds; round++) {
      for (const c of CASES) {
        const target = targets.get(c.target);
        if (!target) continue;
        const s = await measureRow({ key: c.key, round, url: new URL(c.path, target.url).toString(), headers: c.headers, connections, durationS, warmupS: Math.min(2, durationS) }, target, plan.loadgen, scratchDir);
        samples.push(s);
        await sleep(200);
      }
    }
  } finally {
    for (const t of targets.values()) await t.stop();
    await up1.stop();
    await up2.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
  const keys = CASES.map((c) => c.key).filter((k) => samples.some((s) => s.key === k));
  const ratio = (a: string, b: string, f: (s: Sample) => number): number => sameRoundRatio(samples, rounds, a, b, f);
  const results = markdownTable(
    ['route', 'median RPS', 'p50 ms', 'p99 ms', 'CPU-µs/req', 'RPS × single', 'CPU × single', 'non-2xx'],
    keys.map((k) => {
      const mine = samples.filter((s) => s.key === k);
      const against = k.startsWith('base-') ? 'base-single' : 'single';
      return [
        k,
        median(mine.map((s) => s.rps)).toFixed(0),
        median(mine.map((s) => s.p50Ms)).toFixed(2),
        median(mine.map((s) => s.p99Ms)).toFixed(2),
        median(mine.map((s) => s.cpuUsPerReq)).toFixed(1),
        ratio(k, against, (s) => s.rps).toFixed(3),
        ratio(k, against, (s) => s.cpuUsPerReq).toFixed(3),
        String(mine.reduce((a, s) => a + s.non2xx + s.errors, 0)),
      ];
    }),
  );
  const goals = [
    `round-robin, no checks, RPS ≥ 0.95 × single: ${ratio('rr', 'single', (s) => s.rps).toFixed(3)}`,
    `round-robin, active + passive checks, RPS ≥ 0.95 × single: ${ratio('rrhc', 'single', (s) => s.rps).toFixed(3)}`,
    `least-connections RPS ≥ 0.95 × single: ${ratio('lc', 'single', (s) => s.rps).toFixed(3)}`,
    `consistent-hashing RPS (recorded): ${ratio('ch', 'single', (s) => s.rps).toFixed(3)} × single`,
    `latency RPS (recorded): ${ratio('lat', 'single', (s) => s.rps).toFixed(3)} × single`,
    baseEntry ? `rr CPU/request against the base build's rr: ${ratio('rr', 'base-rr', (s) => s.cpuUsPerReq).toFixed(3)}×` : 'base: not measured',
  ];
  console.log(`\n${results}\n\n${goals.join('\n')}`);
  if (process.env.BENCH_RECORD === '1') {
    const day = new Date().toISOString().slice(0, 10);
    const dir = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${day}-${machineTag(machine)}-balancers.md`);
    const tools = toolVersions(wrk, nginxPath(), hasTaskset());
    const raw = markdownTable(['round', 'route', 'RPS', 'p50 ms', 'p99 ms', 'CPU-µs/req', 'non-2xx', 'errors'],
      samples.map((s) => [String(s.round), s.key, s.rps.toFixed(0), s.p50Ms.toFixed(2), s.p99Ms.toFixed(2), s.cpuUsPerReq.toFixed(1), String(s.non2xx), String(s.errors)]));
    writeFileSync(file, `# Balancer bench, ${new Date().toISOString()}\n\n` +
      `Machine: ${machine.nproc} cpu ${machine.cpuModel}, ${machine.memoryGiB} GiB, kernel ${machine.kernel}, node ${machine.node}, uWS ${machine.uws}; wrk ${tools.wrk ?? 'n/a'}.\n` +
      `Hyperway (${workers} worker${workers > 1 ? 's' : ''}) pinned to cpu ${plan.target}; two upstreams (${up1.impl}) and wrk (1 thread, ${connections} connections) on cpu ${plan.loadgen}. ` +
      `${rounds} interleaved rounds of ${durationS}s after 2s of warm-up each; ratios are medians of same-round ratios. \`npm run bench:balancers\`.\n\n` +
      `${results}\n\n${goals.map((g) => `- ${g}`).join('\n')}\n\n## Every run\n\n${raw}\n`);
    console.log(`\nrecorded ${file}`);
  }
  return 0;
}

if (require.main === module) runMain(main);
