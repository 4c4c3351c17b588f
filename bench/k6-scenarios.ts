/**
 * Replays k6/load.ts's stages (50 → 100 → 200 VUs) with autocannon, one stage per run with that
 * many connections, and checks the script's thresholds over all stages together, as k6 does.
 * autocannon holds connections fixed per stage where k6 ramps VUs linearly: a close, not exact,
 * stand-in for machines without k6.
 * Env: BASE_URL (a running gateway; without it an upstream and Hyperway are started here),
 * K6S_STAGE_SECONDS (5), K6S_SCALE (VU multiplier, 1), K6S_WORKERS (Hyperway workers, nproc).
 * Exit code 1 when a threshold fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuCount, planCpus, upstreamCpu } from './lib/cpu-plan';
import { evaluate, readK6Profile } from './lib/k6-profile';
import { numberEnv } from './lib/knobs';
import { mergeSparse, percentileMs } from './lib/latency-histogram';
import { runLoadWorker, type LoadOutcome } from './lib/load-autocannon';
import { markdownTable } from './lib/report';
import { runMain } from './lib/processes';
import type { Target } from './lib/target';
import { startHyperway } from './lib/target-hyperway';
import { startUpstream, type UpstreamProcess } from './lib/upstream-process';
import { BODY } from './upstream';

async function main(): Promise<number> {
  const profile = readK6Profile();
  const stageS = numberEnv('K6S_STAGE_SECONDS', 5, 1);
  const scale = numberEnv('K6S_SCALE', 1, 0.001);
  const n = cpuCount();
  let url = process.env.BASE_URL;
  let loadCpu = `0-${n - 1}`;
  let upstream: UpstreamProcess | undefined;
  let gateway: Target | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-k6s-'));
  try {
    if (!url) {
      upstream = await startUpstream(String(upstreamCpu(n)));
      const workers = Math.floor(numberEnv('K6S_WORKERS', n, 1));
      const plan = planCpus(workers === 1 ? 'one' : 'all', n);
      gateway = await startHyperway({ key: 'k6s', name: 'hyperway', upstreamPort: upstream.port, workers, plan, scratchDir: scratch, expectBody: BODY });
      url = gateway.url;
      loadCpu = plan.loadgen;
      console.log(`started upstream (${upstream.impl}) and Hyperway with ${workers} worker(s) at ${url}`);
    }
    const stages: Array<{ vus: number; out: LoadOutcome }> = [];
    for (const target of profile.stageTargets) {
      const vus = Math.max(1, Math.round(target * scale));
      const out = await runLoadWorker({ url, connections: vus, durationS: stageS, pipelining: 1 }, loadCpu);
      stages.push({ vus, out });
      console.log(`stage ${vus} VUs × ${stageS}s: ${out.requests} responses, ${out.errors} errors, ${out.failedStatus} failed statuses`);
    }
    const hist = mergeSparse(stages.map((s) => s.out.latency));
    const requests = stages.reduce((a, s) => a + s.out.requests + s.out.errors, 0);
    const failed = stages.reduce((a, s) => a + s.out.failedStatus + s.out.errors, 0);
    const observed = { percentileMs: (p: number) => percentileMs(hist, p), failedRate: requests ? failed / requests : 1 };
    const results = profile.thresholds.map((t) => ({ t, ...evaluate(t, observed) }));
    console.log(
      '\n' +
        markdownTable(
          ['stage VUs', 'RPS', 'p50 ms', 'p95 ms', 'p99 ms', 'failed'],
          stages.map(({ vus, out }) => [
            String(vus),
            (out.requests / out.durationS).toFixed(0),
            percentileMs(out.latency, 50).toFixed(3),
            percentileMs(out.latency, 95).toFixed(3),
            percentileMs(out.latency, 99).toFixed(3),
            String(out.failedStatus + out.errors),
          ]),
        ) +
        '\n\n' +
        markdownTable(
          ['threshold', 'observed', 'result'],
          results.map(({ t, value, pass }) => [`${t.metric}: ${t.expr}`, value.toFixed(t.metric === 'http_req_failed' ? 4 : 3), pass ? 'PASS' : 'FAIL']),
        ),
    );
    const ok = results.every((r) => r.pass);
    console.log(ok ? '\nthresholds: PASS' : '\nthresholds: FAIL');
    return ok ? 0 : 1;
  } finally {
    await gateway?.stop();
    await upstream?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) runMain(main);
