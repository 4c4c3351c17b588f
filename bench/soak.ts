/**
 * Soak: constant moderate load through the 2-worker gateway for a long time (30 minutes by
 * default), on a mixed workload, sampling each Hyperway process's RSS (/proc) and V8 heap
 * (bench/lib/heap-probe.ts) every few seconds. Reports each worker's least-squares RSS slope in
 * MiB per hour after a warm-up, and every failed request. Not part of CI.
 *
 *   npm run bench:soak                                      30 minutes at 200 req/s
 *   BENCH_SOAK_MINUTES=1 BENCH_SOAK_RATE=100 npm run bench:soak    a smoke run
 *   BENCH_RECORD=1 …   also writes bench/results/<date>-<machine>-soak.md and .json
 *
 * Mix (per 20 requests): 14 × GET 64 B, 2 × GET 64 KiB, 1 × POST 4 KiB, 1 × POST 64 KiB,
 * 2 × GET on a route with key-auth + acl + cors + correlation-id. Exit 1 on a failed request,
 * a worker restart or a worker slope above BENCH_SOAK_MAX_SLOPE.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCpus } from './lib/cpu-plan';
import { heapReport, rssBytes } from './lib/proc-memory';
import { numberEnv } from './lib/knobs';
import { describeMachine, machineTag } from './lib/machine';
import { BIG_BYTES, SMALL_BODY, startMixedUpstream } from './lib/mixed-upstream';
import { freePort, sleep } from './lib/processes';
import { percentile, RateLoad, reasonsText, type MixEntry } from './lib/rate-load';
import { markdownTable } from './lib/report';
import { memorySlope, type MemSample, type SlopeReport } from './lib/slope';
import { startHyperway } from './lib/target-hyperway';
import { REPO_ROOT } from './lib/target';

const MIB = 1024 * 1024;

function soakConfig(upstreamPort: number): string {
  return `_format_version: "3.0"
consumers:
  - username: soak
    keyauth_credentials: [{ key: soak-key }]
    acls: [{ group: soak }]
services:
  - name: soak
    url: http://127.0.0.1:${upstreamPort}
    routes:
      - name: soak-root
        paths: [/]
      - name: soak-plugins
        paths: [/plugin]
        plugins:
          - { name: key-auth }
          - { name: acl, config: { allow: [soak] } }
          - { name: cors, config: { origins: ["https://app.example.com"], credentials: true } }
          - { name: correlation-id, config: { echo_downstream: true } }
`;
}

function soakMix(): MixEntry[] {
  const small: MixEntry = { kind: 'GET 64 B', method: 'GET', path: '/small', expectBytes: SMALL_BODY.length };
  const big: MixEntry = { kind: 'GET 64 KiB', method: 'GET', path: '/big', expectBytes: BIG_BYTES };
  const post4: MixEntry = { kind: 'POST 4 KiB', method: 'POST', path: '/upload', body: Buffer.alloc(4096, 0x70), expectBytes: 4 };
  const post64: MixEntry = { kind: 'POST 64 KiB', method: 'POST', path: '/upload', body: Buffer.alloc(BIG_BYTES, 0x70), expectBytes: 5 };
  const plugin: MixEntry = {
    kind: 'GET plugin chain', method: 'GET', path: '/plugin/x', expectBytes: SMALL_BODY.length,
    headers: { apikey: 'soak-key', origin: 'https://app.example.com' },
  };
  // Interleaved so that every second of load carries each kind.
  return [small, small, big, small, plugin, small, post4, small, small, small, big, small, plugin, small, post64, small, small, small, small, small];
}

interface Series {
  pid: number;
  role: 'primary' | 'worker';
  samples: MemSample[];
}

export interface SoakKnobs {
  minutes: number;
  rate: number;
  connections: number;
  sampleS: number;
  warmupS: number;
  maxSlope: number;
  workers: number;
  record: boolean;
}

function knobs(): SoakKnobs {
  const minutes = numberEnv('BENCH_SOAK_MINUTES', 30, 0.1);
  return {
    minutes,
    rate: numberEnv('BENCH_SOAK_RATE', 200, 1),
    connections: Math.floor(numberEnv('BENCH_SOAK_CONNECTIONS', 16, 1)),
    sampleS: numberEnv('BENCH_SOAK_SAMPLE_S', 10, 0.5),
    warmupS: numberEnv('BENCH_SOAK_WARMUP_S', Math.min(300, minutes * 60 * 0.2), 0),
    maxSlope: numberEnv('BENCH_SOAK_MAX_SLOPE', 10, 0),
    workers: Math.floor(numberEnv('BENCH_SOAK_WORKERS', 2, 1)),
    record: process.env.BENCH_RECORD === '1',
  };
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

async function main(): Promise<number> {
  const k = knobs();
  const machine = describeMachine();
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-soak-'));
  const probeDir = join(scratch, 'heap');
  mkdirSync(probeDir);
  const upstreamPort = await freePort();
  const upstream = await startMixedUpstream(upstreamPort);
  const gw = await startHyperway({
    key: 'hyperway-soak', name: `hyperway ${k.workers} workers`, upstreamPort, workers: k.workers, plan: planCpus('all'),
    scratchDir: scratch, expectBody: SMALL_BODY, config: soakConfig(upstreamPort),
    nodeArgs: ['--require', join(__dirname, 'lib', 'heap-probe.js')],
    // heap-probe.ts reads these in every gateway process.
    env: { BENCH_HEAP_PROBE_DIR: probeDir, BENCH_HEAP_PROBE_MS: String(Math.max(500, Math.round((k.sampleS * 1000) / 2))) },
  });
  console.log(`soak: ${k.minutes} min at ${k.rate} req/s over ${k.connections} connections, ${gw.workers} workers, ` +
    `sample every ${k.sampleS} s, slope after ${k.warmupS} s; load average ${machine.loadAvg1.toFixed(2)}`);
  const series = new Map<number, Series>();
  const load = new RateLoad({ baseUrl: gw.url, rate: k.rate, connections: k.connections, mix: soakMix() }, true);
  const startedAt = new Date();
  const t0 = performance.now();
  const endAt = t0 + k.minutes * 60_000;
  let interrupted = false;
  const onSigint = (): void => { interrupted = true; };
  process.once('SIGINT', onSigint);
  const sampleAll = (): void => {
    const t = (performance.now() - t0) / 1000;
    const staleMs = k.sampleS * 2000 + 1000;
    for (const pid of gw.pids()) {
      const rss = rssBytes(pid);
      if (rss === null) continue;
      let s = series.get(pid);
      if (!s) series.set(pid, (s = { pid, role: pid === gw.rootPid ? 'primary' : 'worker', samples: [] }));
      const heap = heapReport(probeDir, pid);
      s.samples.push({ t, rssBytes: rss, heapUsedBytes: heap && Date.now() - heap.at < staleMs ? heap.heapUsed : null });
    }
  };
  let lastProgress = t0;
  try {
    load.start();
    sampleAll();
    while (performance.now() < endAt && !interrupted) {
      await sleep(Math.min(k.sampleS * 1000, Math.max(0, endAt - performance.now())));
      sampleAll();
      if (performance.now() - lastProgress >= 60_000 || performance.now() >= endAt) {
        lastProgress = performance.now();
        const c = load.counters;
        const rss = [...series.values()].filter((s) => s.role === 'worker')
          .map((s) => `${s.pid}: ${f1(s.samples[s.samples.length - 1].rssBytes / MIB)} MiB`).join(', ');
        console.log(`  ${((performance.now() - t0) / 60_000).toFixed(1)} min: ${c.ok} ok, ${c.failed} failed, ${c.skipped} skipped; worker RSS ${rss}`);
      }
    }
  } finally {
    await load.stop();
    process.removeListener('SIGINT', onSigint);
    await gw.stop();
    upstream.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const c = load.counters;
  const all = [...series.values()];
  const workers = all.filter((s) => s.role === 'worker');
  const slopes = new Map<number, SlopeReport>(all.map((s) => [s.pid, memorySlope(s.samples, k.warmupS)]));
  // A worker that appeared after the first sample replaced one that died.
  const restarts = workers.filter((s) => s.samples[0].t > k.sampleS).length;
  const memTable = markdownTable(
    ['process', 'pid', 'samples after warm-up', 'RSS first MiB', 'RSS last MiB', 'RSS max MiB', 'RSS slope MiB/h', 'R²', 'heap slope MiB/h'],
    all.map((s) => {
      const r = slopes.get(s.pid)!;
      return [s.role, String(s.pid), String(r.n), f1(r.rssFirstMiB), f1(r.rssLastMiB), f1(r.rssMaxMiB), f2(r.rssMiBPerHour), f2(r.rssR2), f2(r.heapMiBPerHour)];
    }),
  );
  const kinds = markdownTable(['request', 'ok'], [...c.byKind].map(([kind, n]) => [kind, String(n)]));
  const p = (q: number): string => f2(percentile(load.latenciesUs, q) / 1000);
  const loadTable = markdownTable(['', ''], [
    ['duration', `${(elapsedS / 60).toFixed(1)} min${interrupted ? ' (interrupted)' : ''}`],
    ['target rate', `${k.rate} req/s over ${k.connections} keep-alive connections`],
    ['achieved rate', `${(c.ok / elapsedS).toFixed(1)} req/s`],
    ['requests ok / failed / skipped', `${c.ok} / ${c.failed} / ${c.skipped}`],
    ['failure reasons', reasonsText(c)],
    ['latency p50 / p99 / max ms', `${p(50)} / ${p(99)} / ${p(100)}`],
    ['worker restarts', String(restarts)],
  ]);
  const steep = workers.filter((s) => !(Math.abs(slopes.get(s.pid)!.rssMiBPerHour) <= k.maxSlope));
  const verdict = [
    c.failed === 0 ? 'no failed request' : `${c.failed} failed requests`,
    restarts === 0 ? 'no worker restart' : `${restarts} worker restarts`,
    steep.length === 0 ? `every worker's RSS slope within ±${k.maxSlope} MiB/h` : `RSS slope beyond ±${k.maxSlope} MiB/h: ${steep.map((s) => s.pid).join(', ')}`,
  ].join('; ');
  const text = ['## Load', '', loadTable, '', kinds, '', '## Memory', '', memTable, '', `Verdict: ${verdict}.`, ''].join('\n');
  console.log(`\n${text}`);
  if (k.record) {
    const day = startedAt.toISOString().slice(0, 10);
    const base = join(REPO_ROOT, 'bench', 'results', `${day}-${machineTag(machine)}-soak`);
    const header = [
      `# Soak, ${day}, ${machine.nproc}-core ${machine.cpuModel}`,
      '',
      `Recorded by \`BENCH_RECORD=1 npm run bench:soak\` (bench/soak.ts), started ${startedAt.toISOString()}: ` +
      `${gw.workers} workers, ${k.minutes} min, ${k.rate} req/s target, RSS (/proc VmRSS) and V8 heapUsed sampled every ${k.sampleS} s, ` +
      `slopes by least squares over the samples after the first ${k.warmupS} s. Kernel ${machine.kernel}, Node ${machine.node}, ${machine.uws}; ` +
      `load average ${machine.loadAvg1.toFixed(2)} at start (a shared machine: the rate is kept low on purpose; the slope is the figure).`,
      '',
      'Mix per 20 requests: 14 × GET 64 B, 2 × GET 64 KiB, 1 × POST 4 KiB, 1 × POST 64 KiB, 2 × GET through key-auth + acl + cors + correlation-id.',
      '',
    ].join('\n');
    writeFileSync(`${base}.md`, `${header}\n${text}`);
    writeFileSync(`${base}.json`, JSON.stringify({
      startedAt: startedAt.toISOString(), machine, knobs: k, elapsedS, interrupted,
      load: { ...c, reasons: Object.fromEntries(c.reasons), byKind: Object.fromEntries(c.byKind) },
      latencyMs: { p50: percentile(load.latenciesUs, 50) / 1000, p99: percentile(load.latenciesUs, 99) / 1000, max: percentile(load.latenciesUs, 100) / 1000 },
      processes: all.map((s) => ({ pid: s.pid, role: s.role, slope: slopes.get(s.pid), samples: s.samples })),
    }, null, 1));
    console.log(`recorded ${base}.md and .json`);
  }
  return c.failed === 0 && restarts === 0 && steep.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => (process.exitCode = code), (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
