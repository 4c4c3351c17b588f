/**
 * Added latency (issue 21, goal 3): p50 / p99 / p99.9 that one Hyperway worker adds over the
 * direct upstream at 25, 50 and 75% of its peak, at a constant arrival rate (bench/lib/rate-gen.ts,
 * wrk2's model), for the bare route and for the plugin chain key-auth + acl + cors +
 * correlation-id (configured as in bench/plugins.ts), with nginx (1 worker) at the same rates.
 * Layout as the stack bench: proxy on cpu 0, upstream and generator on the last cpu.
 * Peaks come from a short wrk run per route unless given (BENCH_PEAK_BARE, BENCH_PEAK_CHAIN).
 * Knobs: BENCH_DURATION (s per run, 10), BENCH_WARMUP (s at the same rate first, 1),
 * BENCH_PEAK_DURATION (5), BENCH_LOADS (0.25,0.5,0.75), BENCH_CONNECTIONS (50), BENCH_RECORD=1
 * (bench/results/<date>-<machine>-latency.{md,json}).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTool } from './lib/apt-tool';
import { stackVersions } from './lib/bench-versions';
import { writeStackRecord } from './lib/stack-record';
import { CHAIN_HEADERS, chainConfig } from './lib/chain-config';
import { cpuCount, hasTaskset, planCpus, upstreamCpu } from './lib/cpu-plan';
import { numberEnv } from './lib/knobs';
import { added, ratesFor, summarize, type LatencySummary } from './lib/latency-stats';
import { describeMachine } from './lib/machine';
import { startPayloadUpstream } from './lib/payload-upstream';
import { cpuMsBetween, sampleCpu } from './lib/proc-stat';
import { runMain, sleep } from './lib/processes';
import { runRatePinned, type RateOutcome } from './lib/rate-gen';
import { markdownTable } from './lib/report';
import type { Target } from './lib/target';
import { hyperwayEntry, startHyperway } from './lib/target-hyperway';
import { nginxPath, startNginx } from './lib/target-nginx';
import { measureStackRow } from './lib/stack-row';
import { BODY } from './upstream';

interface Route { key: 'bare' | 'chain'; path: string; headers: Readonly<Record<string, string>> }
const ROUTES: Route[] = [
  { key: 'bare', path: '/', headers: {} },
  { key: 'chain', path: '/chain', headers: CHAIN_HEADERS },
];

interface Run extends LatencySummary {
  route: string;
  load: number;
  target: string;
  /** The proxy's process tree, share of one core (NaN for direct). */
  proxyShare: number;
  raw: Omit<RateOutcome, 'service' | 'corrected' | 'lag'>;
}

const f = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const trio = (a: { p50: number; p99: number; p999: number }): string => `${f(a.p50, 3)} / ${f(a.p99, 3)} / ${f(a.p999, 3)}`;

async function main(): Promise<number> {
  const wrk = ensureTool('wrk', 'wrk');
  if ('missing' in wrk) {
    console.error(wrk.missing);
    return 1;
  }
  if (!hyperwayEntry()) {
    console.error('Hyperway is not built (npm run build)');
    return 1;
  }
  const durationS = numberEnv('BENCH_DURATION', 10, 1);
  const warmupS = numberEnv('BENCH_WARMUP', 1, 0);
  const peakS = numberEnv('BENCH_PEAK_DURATION', 5, 1);
  const connections = Math.floor(numberEnv('BENCH_CONNECTIONS', 50, 1));
  const loads = (process.env.BENCH_LOADS ?? '0.25,0.5,0.75').split(',').map(Number);
  if (loads.some((l) => !(l > 0))) throw new Error('BENCH_LOADS: fractions of the peak, e.g. 0.25,0.5,0.75');
  const machine = describeMachine();
  const plan = planCpus('one', cpuCount());
  const upCpu = String(upstreamCpu());
  const scratchDir = mkdtempSync(join(tmpdir(), 'hyperway-latency-'));
  console.log(`machine: ${machine.nproc} cpu ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAvg1.toFixed(2)}${machine.loadAvg1 > 0.5 ? ' (busy machine: figures will be noisy)' : ''}`);
  console.log(`proxy on cpu ${plan.target}; upstream on cpu ${upCpu}, generator on cpu ${plan.loadgen}${hasTaskset() ? '' : ' (taskset missing: not pinned)'}; ${durationS}s per run after ${warmupS}s, ${connections} connections`);
  const upstream = await startPayloadUpstream(upCpu);
  const targets: Target[] = [];
  const runs: Run[] = [];
  const peaks: Record<string, number> = {};
  const skipped: string[] = [];
  try {
    const hyperway = await startHyperway({ key: 'hyperway', name: 'Hyperway 1 worker', upstreamPort: upstream.port, workers: 1, plan, scratchDir, expectBody: BODY, config: chainConfig(upstream.port) });
    targets.push(hyperway);
    let nginx: Target | null = null;
    if (nginxPath()) {
      nginx = await startNginx({ key: 'nginx', name: 'nginx 1 worker', upstreamPort: upstream.port, workers: '1', plan, scratchDir, expectBody: BODY, keepaliveRequests: 1_000_000 });
      targets.push(nginx);
    } else skipped.push('nginx: not installed (apt-get install nginx-light)');
    for (const route of ROUTES) {
      const given = Number(process.env[`BENCH_PEAK_${route.key.toUpperCase()}`] ?? '');
      let peak = given;
      if (!(given > 0)) {
        const url = new URL(route.path, hyperway.url).toString();
        const r = await measureStackRow(
          { key: `peak:${route.key}`, row: 'hyperway', payload: 'small', round: 0, wrk: { url, connections, durationS: peakS, headers: route.headers }, warmupS: 2, proxyCpus: plan.target, loadCpus: plan.loadgen, threshold: 0.9 },
          hyperway,
          upstream.pids,
        );
        if (r.errors + r.non2xx > 0) throw new Error(`${route.key} peak run: ${r.errors} errors, ${r.non2xx} non-2xx`);
        peak = r.rps;
        console.log(`${route.key}: peak ${f(peak, 0)} req/s (wrk ${peakS}s, proxy ${f((r.proxyShare ?? NaN) * 100, 0)}% of a core)${r.flag ? ` [${r.flag}: the peak may be the load core's]` : ''}`);
      } else console.log(`${route.key}: peak ${peak} req/s (BENCH_PEAK_${route.key.toUpperCase()})`);
      peaks[route.key] = peak;
      const rates = ratesFor(peak, loads);
      for (let i = 0; i < rates.length; i++) {
        const direct = async (): Promise<Run> => measure('direct', null, upstream.port, '/', {});
        const measure = async (name: string, target: Target | null, port: number, path: string, headers: Readonly<Record<string, string>>): Promise<Run> => {
          const before = target ? sampleCpu(target.pids()) : null;
          const o = await runRatePinned({ host: '127.0.0.1', port, path, headers, rate: rates[i], durationS, warmupS, connections }, plan.loadgen);
          const proxyShare = target && before ? cpuMsBetween(before, sampleCpu(target.pids())) / o.wallMs : NaN;
          const { service: _s, corrected: _c, lag: _l, ...raw } = o;
          const run: Run = { ...summarize(o), route: route.key, load: loads[i], target: name, proxyShare, raw };
          runs.push(run);
          console.log(
            `${route.key.padEnd(5)} ${f(loads[i] * 100, 0).padStart(3)}% ${String(rates[i]).padStart(6)}/s ${name.padEnd(8)} p50/p99/p99.9 ${trio(run)} ms  ` +
              `achieved ${f(run.achievedRate, 0)}/s, lag p99 ${f(run.lagP99, 2)} ms, generator ${f(run.genShare * 100, 0)}% cpu${run.queuedShare > 0 ? `, ${f(run.queuedShare * 100, 1)}% waited for a connection` : ''}${run.reconnects > 0 ? `, ${run.reconnects} reconnects` : ''}${Number.isFinite(proxyShare) ? `, proxy ${f(proxyShare * 100, 0)}%` : ''}` +
              `${run.kept ? '' : '  [rate NOT kept]'}${run.errors ? `  ERRORS ${run.errors}` : ''}`,
          );
          await sleep(200);
          return run;
        };
        const port = (t: Target): number => Number(new URL(t.url).port);
        await direct();
        if (nginx) await measure('nginx', nginx, port(nginx), '/', {});
        await measure('hyperway', hyperway, port(hyperway), route.path, route.headers);
      }
    }
  } finally {
    for (const t of targets) await t.stop();
    await upstream.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }

  const find = (route: string, load: number, target: string): Run | undefined => runs.find((r) => r.route === route && r.load === load && r.target === target);
  const body: string[][] = [];
  for (const route of ROUTES) {
    for (const load of loads) {
      const d = find(route.key, load, 'direct');
      const h = find(route.key, load, 'hyperway');
      const n = find(route.key, load, 'nginx');
      if (!d || !h) continue;
      const kept = [d, h, n].every((r) => !r || r.kept);
      body.push([
        route.key,
        `${f(load * 100, 0)}%`,
        String(h.rate),
        trio(d),
        trio(added(h, d)),
        n ? trio(added(n, d)) : 'n/a',
        f(h.correctedP99 - d.correctedP99, 3),
        `${f(h.genShare * 100, 0)}%`,
        kept ? 'yes' : 'NO',
        `${f(h.queuedShare * 100, 1)}%`,
        String(d.errors + h.errors + (n?.errors ?? 0)),
      ]);
    }
  }
  const table = markdownTable(
    ['route', 'load', 'rate /s', 'direct p50 / p99 / p99.9 ms', 'Hyperway added p50 / p99 / p99.9 ms', 'nginx added p50 / p99 / p99.9 ms', 'Hyperway added p99 from due time', 'generator CPU', 'rate kept', 'Hyperway: waited for a connection', 'errors'],
    body,
  );
  console.log(`\n${table}\n`);
  if (skipped.length) console.log(`skipped: ${skipped.join('; ')}`);
  if (process.env.BENCH_RECORD === '1') {
    const knobs = { durationS, warmupS, peakS, connections, loads };
    const raw = markdownTable(
      ['route', 'load', 'target', 'rate', 'achieved', 'p50', 'p99', 'p99.9', 'p99 from due', 'lag p99', 'waited %', 'generator CPU', 'proxy CPU', 'errors'],
      runs.map((r) => [r.route, f(r.load, 2), r.target, String(r.rate), f(r.achievedRate, 0), f(r.p50, 3), f(r.p99, 3), f(r.p999, 3), f(r.correctedP99, 3), f(r.lagP99, 3), f(r.queuedShare * 100, 1), `${f(r.genShare * 100, 0)}%`, Number.isFinite(r.proxyShare) ? `${f(r.proxyShare * 100, 0)}%` : '-', String(r.errors)]),
    );
    writeStackRecord({
      bench: 'latency',
      title: 'Added latency',
      date: new Date(),
      machine,
      machineLine: `${machine.nproc} cpu ${machine.cpuModel}, kernel ${machine.kernel}, load average ${machine.loadAvg1.toFixed(2)} at start.`,
      versions: stackVersions(wrk.path, nginxPath(), null),
      json: { knobs, layout: { proxy: plan.target, upstream: upCpu, generator: plan.loadgen }, upstream: upstream.impl, peaks, skipped, runs },
      body: [
        `One Hyperway worker and nginx (1 worker) pinned to cpu ${plan.target}; upstream (${upstream.impl}) and the constant-rate generator (bench/lib/rate-gen.ts, ${connections} keep-alive connections) on cpu ${plan.loadgen}. ` +
          `Peaks (wrk, ${peakS} s): ${Object.entries(peaks).map(([k, v]) => `${k} ${f(v, 0)} req/s`).join(', ')}. Each run: ${warmupS} s at the rate, then ${durationS} s measured. ` +
          'Latency is from the request write to the last response byte; "from due time" adds the wait for the scheduled send (wrk2\'s corrected latency, which includes the generator\'s 1 ms timer batching). ' +
          '"Rate kept": ≥ 99% of the due requests completed and the generator\'s own send lag (requests that found an idle connection) stayed under 5 ms at p99; "waited" counts requests that found all connections busy (the target fell behind). ' +
          'Added = the hop\'s percentile − the direct upstream\'s at the same rate.',
        '',
        table,
        '',
      ],
      raw,
    });
  }
  return runs.some((r) => r.errors > 0) ? 1 : 0;
}

if (require.main === module) runMain(main);
