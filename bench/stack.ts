/**
 * The stack bench (issue 21, goal 1): the proxies a user would pick instead of Hyperway, the bare
 * uWS + undici prototype (bench/bare/server.ts) and Hyperway itself, in one run, interleaved
 * rounds, each proxy pinned to cpu 0 with the upstream and wrk on the last cpu:
 *   nginx       proxy_pass, upstream keepalive 64, 1 worker
 *   haproxy     1 thread, http-reuse always (installed through apt when missing; else skipped)
 *   bare        the bare prototype
 *   hyperway    Hyperway, 1 worker
 *   hyperway-*  one row per BENCH_HYPERWAY_ENV_<NAME>="K=V …": Hyperway with those variables too
 *   base        Hyperway from BENCH_BASE_ENTRY=<other checkout>/dist/src/main.js
 * Payloads (BENCH_PAYLOADS): small (64 B GET), 1k, 64k (responses), upload (64 KiB POST).
 * Prints each run as it lands, then per payload the medians over rounds and the same-round ratios
 * against nginx and against bare. BENCH_RECORD=1 writes bench/results/<date>-<machine>-stack.{md,json}.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuCount, hasTaskset, planCpus, upstreamCpu } from './lib/cpu-plan';
import { ensureTool } from './lib/apt-tool';
import { numberEnv } from './lib/knobs';
import { describeMachine } from './lib/machine';
import { stackVersions } from './lib/bench-versions';
import { writeStackRecord } from './lib/stack-record';
import { runMain, sleep } from './lib/processes';
import { markdownTable } from './lib/report';
import { median, sameRoundRatio } from './lib/rounds';
import { extraHyperwayRows, measureStackRow, type StackSample } from './lib/stack-row';
import type { Target } from './lib/target';
import { startBare } from './lib/target-bare';
import { startHaproxy } from './lib/target-haproxy';
import { hyperwayEntry, startHyperway } from './lib/target-hyperway';
import { nginxPath, startNginx } from './lib/target-nginx';
import { startPayloadUpstream } from './lib/payload-upstream';
import { uploadScript } from './lib/load-wrk';
import { BODY } from './upstream';

interface Payload { key: string; path: string; bytes: number; upload: boolean }
const PAYLOADS: Payload[] = [
  { key: 'small', path: '/', bytes: BODY.length, upload: false },
  { key: '1k', path: '/1k', bytes: 1024, upload: false },
  { key: '64k', path: '/64k', bytes: 64 * 1024, upload: false },
  { key: 'upload', path: '/upload', bytes: 64, upload: true },
];
const UPLOAD_BYTES = 64 * 1024;

/** GET (or a 64 KiB POST) through the target: the body must be the payload's size, so no row measures a 404. */
function check(url: string, p: Payload): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: p.upload ? 'POST' : 'GET', agent: false, timeout: 5000 }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 && n === p.bytes ? resolve() : reject(new Error(`${url}: ${res.statusCode}, ${n} bytes, expected ${p.bytes}`))));
    });
    req.on('error', reject);
    req.end(p.upload ? Buffer.alloc(UPLOAD_BYTES, 'u') : undefined);
  });
}

const f = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function main(): Promise<number> {
  const wrk = ensureTool('wrk', 'wrk');
  if ('missing' in wrk) {
    console.error(wrk.missing);
    return 1;
  }
  const durationS = numberEnv('BENCH_DURATION', 10, 1);
  const warmupS = numberEnv('BENCH_WARMUP', 2, 0);
  const connections = Math.floor(numberEnv('BENCH_CONNECTIONS', 50, 1));
  const rounds = Math.floor(numberEnv('BENCH_ROUNDS', 3, 1));
  const threshold = numberEnv('BENCH_SATURATED', 0.9, 0);
  const payloads = process.env.BENCH_PAYLOADS ? PAYLOADS.filter((p) => process.env.BENCH_PAYLOADS!.split(',').includes(p.key)) : PAYLOADS;
  const only = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',').map((r) => r.trim())) : null;
  const want = (key: string): boolean => only === null || only.has(key);
  const extras = extraHyperwayRows(process.env);
  const baseEntry = process.env.BENCH_BASE_ENTRY ?? null;
  const machine = describeMachine();
  const plan = planCpus('one', cpuCount());
  const upCpu = String(upstreamCpu());
  const skipped: string[] = [];
  const scratchDir = mkdtempSync(join(tmpdir(), 'hyperway-stack-'));
  // nginx started as root runs its workers as nobody: they must reach client_body_temp_path (64 KiB uploads spill there).
  chmodSync(scratchDir, 0o755);
  console.log(`machine: ${machine.nproc} cpu ${machine.cpuModel}, node ${machine.node}, uWS ${machine.uws}, load ${machine.loadAvg1.toFixed(2)}${machine.loadAvg1 > 0.5 ? ' (busy machine: figures will be noisy)' : ''}`);
  console.log(`proxy on cpu ${plan.target}; upstream on cpu ${upCpu}, wrk on cpu ${plan.loadgen}${hasTaskset() ? '' : ' (taskset missing: not pinned)'}; ${rounds} rounds × ${payloads.length} payloads, ${warmupS}+${durationS}s per run, ${connections} connections`);
  const haproxy = want('haproxy') ? ensureTool('haproxy', 'haproxy') : { missing: 'not in BENCH_ROWS' };
  if ('missing' in haproxy) skipped.push(`haproxy: ${haproxy.missing}`);
  if (!nginxPath() && want('nginx')) skipped.push('nginx: not installed (apt-get install nginx-light)');
  if (!hyperwayEntry()) {
    console.error('Hyperway is not built (npm run build)');
    return 1;
  }
  if (!baseEntry && want('base')) skipped.push('base: BENCH_BASE_ENTRY not set');

  const upstream = await startPayloadUpstream(upCpu);
  const targets: Target[] = [];
  const samples: StackSample[] = [];
  const common = { upstreamPort: upstream.port, plan, scratchDir, expectBody: BODY };
  try {
    const start = async (key: string, fn: () => Promise<Target>): Promise<void> => {
      if (!want(key)) return;
      try {
        targets.push(await fn());
      } catch (err) {
        skipped.push(`${key}: failed to start: ${String(err).split('\n')[0]}`);
      }
    };
    const bodyBuffer = process.env.BENCH_NGINX_BODY_BUFFER ?? '128k';
    const nginxName = `nginx 1 worker, client_body_buffer_size ${bodyBuffer || 'default (16k: uploads through a temp file)'}`;
    if (nginxPath()) await start('nginx', () => startNginx({ ...common, key: 'nginx', name: nginxName, workers: '1', bodyBuffer }));
    if ('path' in haproxy) await start('haproxy', () => startHaproxy({ ...common, key: 'haproxy', name: 'HAProxy 1 thread' }));
    await start('bare', () => startBare({ ...common, key: 'bare', name: 'bare uWS + undici' }));
    await start('hyperway', () => startHyperway({ ...common, key: 'hyperway', name: 'Hyperway 1 worker', workers: 1 }));
    for (const x of extras) {
      await start(x.key, () => startHyperway({ ...common, key: x.key, name: `Hyperway 1 worker, ${Object.entries(x.env).map(([k, v]) => `${k}=${v}`).join(' ')}`, workers: 1, env: x.env }));
    }
    if (baseEntry) await start('base', () => startHyperway({ ...common, key: 'base', name: `Hyperway 1 worker (${baseEntry})`, workers: 1, entry: baseEntry }));
    for (const t of targets) {
      for (const p of payloads) await check(new URL(p.path, t.url).toString(), p).catch((err: Error) => {
        throw new Error(`${t.key} ${p.key}: ${err.message}`);
      });
    }
    console.log(`rows: ${targets.map((t) => t.key).join(', ')}${skipped.length ? `\nskipped: ${skipped.join('; ')}` : ''}`);
    const script = uploadScript(scratchDir, UPLOAD_BYTES);
    const total = rounds * payloads.length * targets.length;
    let done = 0;
    for (let round = 1; round <= rounds; round++) {
      for (const p of payloads) {
        for (const t of targets) {
          const s = await measureStackRow(
            {
              key: `${p.key}:${t.key}`,
              row: t.key,
              payload: p.key,
              round,
              wrk: { url: new URL(p.path, t.url).toString(), connections, durationS, script: p.upload ? script : undefined },
              warmupS,
              proxyCpus: plan.target,
              loadCpus: plan.loadgen,
              threshold,
            },
            t,
            upstream.pids,
          );
          samples.push(s);
          done++;
          console.log(
            `[${String(done).padStart(String(total).length)}/${total}] round ${round} ${p.key.padEnd(6)} ${t.key.padEnd(12)} ${f(s.rps, 0).padStart(7)} req/s  p50 ${f(s.p50Ms, 2)} p99 ${f(s.p99Ms, 2)} ms  ` +
              `proxy ${f(s.cpuUsPerReq, 1)} µs/req (${f((s.proxyShare ?? NaN) * 100, 0)}% of a core)  wrk ${f(s.loadCpuUsPerReq, 1)}  upstream ${f(s.upstreamCpuUsPerReq, 1)}  ` +
              `cores ${f(s.proxyCoreBusy * 100, 0)}%/${f(s.loadCoreBusy * 100, 0)}%${s.errors + s.non2xx ? `  ERRORS ${s.errors}+${s.non2xx}` : ''}${s.flag ? `  [${s.flag}]` : ''}`,
          );
          await sleep(200);
        }
      }
    }
  } finally {
    for (const t of targets) await t.stop();
    await upstream.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }

  const rowKeys = targets.map((t) => t.key);
  const tables: string[] = [];
  for (const p of payloads) {
    const ratio = (a: string, b: string, g: (s: StackSample) => number): number => sameRoundRatio(samples, rounds, `${p.key}:${a}`, `${p.key}:${b}`, g);
    const body = rowKeys.map((k) => {
      const mine = samples.filter((s) => s.payload === p.key && s.row === k);
      const m = (g: (s: StackSample) => number): number => median(mine.map(g));
      const flagged = mine.filter((s) => s.flag).length;
      return [
        k,
        f(m((s) => s.rps), 0),
        f(m((s) => s.p50Ms), 2),
        f(m((s) => s.p99Ms), 2),
        f(m((s) => s.cpuUsPerReq), 1),
        f(ratio(k, 'nginx', (s) => s.rps), 2),
        f(ratio(k, 'nginx', (s) => s.cpuUsPerReq), 2),
        f(ratio(k, 'bare', (s) => s.rps), 2),
        f(ratio(k, 'bare', (s) => s.cpuUsPerReq), 2),
        f(m((s) => s.loadCpuUsPerReq), 1),
        f(m((s) => s.upstreamCpuUsPerReq), 1),
        `${f(m((s) => s.proxyCoreBusy * 100), 0)}/${f(m((s) => s.loadCoreBusy * 100), 0)}`,
        String(mine.reduce((a, s) => a + s.errors + s.non2xx, 0)),
        flagged ? `${flagged}/${mine.length}` : '',
      ];
    });
    tables.push(`### ${p.key}${p.upload ? ` (${UPLOAD_BYTES / 1024} KiB POST, 64 B answer)` : ` (${p.bytes} B response)`}\n\n` + markdownTable(
      ['row', 'RPS', 'p50 ms', 'p99 ms', 'proxy CPU µs/req', 'RPS × nginx', 'CPU × nginx', 'RPS × bare', 'CPU × bare', 'wrk CPU µs/req', 'upstream CPU µs/req', 'core % proxy/load', 'errors', 'flagged'],
      body,
    ));
  }
  const flags = samples.filter((s) => s.flag).map((s) => `- round ${s.round} ${s.payload} ${s.row}: ${s.flag}`);
  const summary = tables.join('\n\n');
  console.log(`\n${summary}\n`);
  if (flags.length) console.log(`flagged runs (RPS bounded by the generator or upstream core; CPU µs/req still holds):\n${flags.join('\n')}\n`);
  if (skipped.length) console.log(`skipped: ${skipped.join('; ')}`);

  if (process.env.BENCH_RECORD === '1') {
    const knobs = { durationS, warmupS, connections, rounds, threshold, payloads: payloads.map((p) => p.key) };
    const layout = { proxy: plan.target, upstream: upCpu, wrk: plan.loadgen, taskset: hasTaskset() };
    const raw = markdownTable(
      ['round', 'payload', 'row', 'RPS', 'p50 ms', 'p99 ms', 'proxy µs/req', 'wrk µs/req', 'upstream µs/req', 'proxy core %', 'load core %', 'errors', 'flag'],
      samples.map((s) => [String(s.round), s.payload, s.row, f(s.rps, 0), f(s.p50Ms, 2), f(s.p99Ms, 2), f(s.cpuUsPerReq, 1), f(s.loadCpuUsPerReq, 1), f(s.upstreamCpuUsPerReq, 1), f(s.proxyCoreBusy * 100, 0), f(s.loadCoreBusy * 100, 0), String(s.errors + s.non2xx), s.flag]),
    );
    writeStackRecord({
      bench: 'stack',
      title: 'Stack bench',
      date: new Date(),
      machine,
      machineLine: `${machine.nproc} cpu ${machine.cpuModel}, ${machine.memoryGiB} GiB, kernel ${machine.kernel}, load average ${machine.loadAvg1.toFixed(2)} at start.`,
      versions: stackVersions(wrk.path, nginxPath(), 'path' in haproxy ? haproxy.path : null),
      json: { knobs, layout, upstream: upstream.impl, rows: targets.map((t) => ({ key: t.key, name: t.name })), skipped, samples },
      body: [
        `Each proxy pinned to cpu ${plan.target}; upstream (${upstream.impl}) on cpu ${upCpu}, wrk (1 thread, ${connections} connections) on cpu ${plan.loadgen}. ` +
          `${rounds} interleaved rounds of ${durationS} s after ${warmupS} s of warm-up per run; ratios are medians of same-round ratios; proxy CPU is the whole process tree's. ` +
          `A run is flagged when wrk, the upstream or the load core was ≥ ${threshold * 100}% busy: its RPS is then a lower bound for the proxy.`,
        '',
        '## Rows',
        '',
        ...targets.map((t) => `- \`${t.key}\`: ${t.name}`),
        ...skipped.map((s) => `- skipped: ${s}`),
        '',
        '## Medians',
        '',
        summary,
        '',
        ...(flags.length ? ['## Flagged runs', '', ...flags, ''] : []),
      ],
      raw,
    });
  }
  return samples.some((s) => s.errors + s.non2xx > 0) ? 1 : 0;
}

if (require.main === module) runMain(main);
