/**
 * Plugin pipeline bench (issue 14): one Hyperway worker pinned to cpu 0 serves four routes to the
 * same upstream, measured with wrk in interleaved rounds so every ratio compares numbers taken
 * minutes apart on the same machine state:
 *   bare    a route without plugins
 *   chain   key-auth + acl + cors + correlation-id (a valid key, an allowed group, an Origin)
 *   jwt     jwt with one HS256 token (after the first request, the verified-token cache answers)
 *   rl      rate-limiting, policy local, a limit never reached (issue 16: ≥ 0.95× bare)
 *   rla     rate-limiting-advanced, sliding window, local (issue 16: ≥ 0.95× bare)
 *   rlrb    rate-limiting, policy redis, sync_rate 1 (batched; issue 16: ≥ 0.8× bare)
 *   rlrs    rate-limiting, policy redis, synchronous (recorded)
 *           (the redis rows need `redis-server`; the bench starts its own on a free port)
 *   prom    prometheus with every seed-3 option on (issue 18: ≥ 0.95× bare)
 *   flog    file-log to a file in the scratch folder, truncated after each row (issue 18: ≥ 0.9× bare)
 *   otel1   opentelemetry, sampling_rate 1.0, to an OTLP/HTTP sink the bench runs (issue 18: recorded)
 *   otel01  opentelemetry, sampling_rate 0.01 (issue 18: ≥ 0.97× bare)
 *   h1      bare, on a second gateway with `upstream_client: hyperway` (issue 21: the own upstream
 *           client becomes the default only at ≤ 0.85× bare's CPU per request)
 *   h1chain chain, on that gateway
 *   base    a route without plugins on a build of the commit before the pipeline
 *           (BENCH_BASE_ENTRY=<that checkout>/dist/src/main.js; the row is skipped without it)
 * Prints RPS, p50/p99 and the worker tree's CPU per request, and the ratios the issue sets:
 * chain ≥ 0.85× bare, jwt ≥ 0.9× bare, bare's CPU/request within 2% of base's.
 * Knobs: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (64), BENCH_ROUNDS (3), BENCH_RECORD=1,
 * BENCH_ROWS (comma-separated row keys to run, e.g. `bare,prom,flog,otel1,otel01`; default all).
 */
import { createHmac } from 'node:crypto';
import { rmSync, truncateSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { CHAIN_HEADERS, chainConfig } from './lib/chain-config';
import { hasTaskset, pinned, planCpus, upstreamCpu, cpuCount, which } from './lib/cpu-plan';
import { freePort, runMain, spawnCaptured, stopProcess, waitFor } from './lib/processes';
import { sameRoundRatio, type WrkSample } from './lib/rounds';
import type { Target } from './lib/target';
import { startHyperway } from './lib/target-hyperway';
import { BODY } from './upstream';
import { startUpstream } from './lib/upstream-process';
import { measureCases, reportWrkRows, startWrkRows, wrkRowsTable, type WrkCase } from './lib/wrk-rows';

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const JWT_SECRET = 'bench-secret-bench-secret-bench!';
const TOKEN = (() => {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = b64url(JSON.stringify({ iss: 'bench-key', exp: Math.floor(Date.now() / 1000) + 86400 }));
  return `${head}.${claims}.${b64url(createHmac('sha256', JWT_SECRET).update(`${head}.${claims}`).digest())}`;
})();

function config(upstreamPort: number, redisPort: number | null, accessLog: string, otlpPort: number): string {
  const redis = redisPort === null ? '' : `
      - name: rlrb
        paths: [/rlrb]
        strip_path: true
        plugins:
          - { name: rate-limiting, config: { second: 10000000, policy: redis, sync_rate: 1, limit_by: ip, redis: { host: 127.0.0.1, port: ${redisPort} } } }
      - name: rlrs
        paths: [/rlrs]
        strip_path: true
        plugins:
          - { name: rate-limiting, config: { second: 10000000, policy: redis, limit_by: ip, redis: { host: 127.0.0.1, port: ${redisPort} } } }`;
  return chainConfig(upstreamPort, {
    consumer: [`jwt_secrets: [{ key: bench-key, secret: "${JWT_SECRET}" }]`],
    routes: `      - name: jwt
        paths: [/jwt]
        strip_path: true
        plugins:
          - { name: jwt }
      - name: rl
        paths: [/rl]
        strip_path: true
        plugins:
          - { name: rate-limiting, config: { second: 10000000, policy: local, limit_by: ip } }
      - name: prom
        paths: [/prom]
        strip_path: true
        plugins:
          - name: prometheus
            config: { per_consumer: true, status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true }
      - name: rla
        paths: [/rla]
        strip_path: true
        plugins:
          - { name: rate-limiting-advanced, config: { limit: [10000000], window_size: [60], window_type: sliding, identifier: ip, strategy: local } }
      - name: flog
        paths: [/flog]
        strip_path: true
        plugins:
          - { name: file-log, config: { path: ${JSON.stringify(accessLog)} } }
      - name: otel1
        paths: [/otel1]
        strip_path: true
        plugins:
          - { name: opentelemetry, config: { traces_endpoint: "http://127.0.0.1:${otlpPort}/v1/traces", sampling_rate: 1.0 } }
      - name: otel01
        paths: [/otel01]
        strip_path: true
        plugins:
          - { name: opentelemetry, config: { traces_endpoint: "http://127.0.0.1:${otlpPort}/v1/traces", sampling_rate: 0.01 } }${redis}
`,
  });
}

type Case = WrkCase<'current' | 'base' | 'h1'>;

const CASES: Case[] = [
  { key: 'base', target: 'base', path: '/', headers: {} },
  { key: 'bare', target: 'current', path: '/', headers: {} },
  { key: 'h1', target: 'h1', path: '/', headers: {} },
  { key: 'chain', target: 'current', path: '/chain', headers: CHAIN_HEADERS },
  { key: 'h1chain', target: 'h1', path: '/chain', headers: CHAIN_HEADERS },
  { key: 'jwt', target: 'current', path: '/jwt', headers: { Authorization: `Bearer ${TOKEN}` } },
  { key: 'rl', target: 'current', path: '/rl', headers: {} },
  { key: 'prom', target: 'current', path: '/prom', headers: {} },
  { key: 'rla', target: 'current', path: '/rla', headers: {} },
  { key: 'flog', target: 'current', path: '/flog', headers: {} },
  { key: 'otel1', target: 'current', path: '/otel1', headers: {} },
  { key: 'otel01', target: 'current', path: '/otel01', headers: {} },
  { key: 'rlrb', target: 'current', path: '/rlrb', headers: {} },
  { key: 'rlrs', target: 'current', path: '/rlrs', headers: {} },
];

/** A private redis-server on a free loopback port (pinned with the upstream), or null without one. */
async function startRedis(cpu: string): Promise<{ port: number; stop(): Promise<void> } | null> {
  if (which('redis-server') === null) return null;
  const port = await freePort();
  const [cmd, args] = pinned(cpu, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const proc = spawnCaptured(cmd, args);
  await waitFor('redis-server', proc, async () => (proc.output().includes('Ready to accept connections') ? true : undefined));
  return { port, stop: () => stopProcess(proc.child) };
}

/**
 * An OTLP/HTTP trace sink: reads each export and answers 200, counting bodies. It runs in the
 * bench process, which idles while wrk runs; decoding is the tests' job, not the bench's.
 */
async function startOtlpSink(): Promise<{ port: number; exports: () => number; bytes: () => number; stop(): Promise<void> }> {
  let exports = 0;
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
    });
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
  return {
    port,
    exports: () => exports,
    bytes: () => bytes,
    stop: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function main(): Promise<number> {
  const run = startWrkRows();
  if (!run) return 1;
  const { durationS, connections, rounds, scratchDir } = run;
  const baseEntry = process.env.BENCH_BASE_ENTRY ?? null;
  const only = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',').map((r) => r.trim())) : null;
  const n = cpuCount();
  const plan = planCpus('one', n);
  console.log(`hyperway on cpu ${plan.target}, upstream and wrk on cpu ${plan.loadgen}${hasTaskset() ? '' : ' (taskset missing: not pinned)'}; ${rounds} rounds of ${durationS}s, ${connections} connections`);
  const upstream = await startUpstream(String(upstreamCpu(n)));
  const redis = await startRedis(String(upstreamCpu(n)));
  if (redis === null) console.log('redis rows skipped: redis-server not installed');
  const otlp = await startOtlpSink();
  const accessLog = join(scratchDir, 'access.log');
  const targets = new Map<string, Target>();
  let samples: WrkSample[] = [];
  try {
    const common = { upstreamPort: upstream.port, scratchDir, expectBody: BODY, workers: 1, plan, config: config(upstream.port, redis?.port ?? null, accessLog, otlp.port) };
    targets.set('current', await startHyperway({ ...common, key: 'current', name: 'hyperway (this build)' }));
    if (only === null || only.has('h1') || only.has('h1chain')) {
      targets.set('h1', await startHyperway({ ...common, key: 'h1', name: 'hyperway, upstream_client: hyperway', env: { HYPERWAY_UPSTREAM_CLIENT: 'hyperway' } }));
    }
    if (baseEntry) targets.set('base', await startHyperway({ ...common, key: 'base', name: 'hyperway (before the pipeline)', entry: baseEntry, config: undefined }));
    else console.log('base row skipped: set BENCH_BASE_ENTRY to a build of the commit before the pipeline');
    samples = await measureCases(run, CASES, targets, {
      warmupS: 2,
      loadCpu: plan.loadgen,
      skip: (c) => (only !== null && !only.has(c.key)) || (c.key.startsWith('rlr') && redis === null),
      // The access log would grow by gigabytes over a run: each row starts from an empty file.
      after: (c) => {
        if (c.key === 'flog') truncateSync(accessLog);
      },
    });
  } finally {
    for (const t of targets.values()) await t.stop();
    await upstream.stop();
    await redis?.stop();
    console.log(`otlp sink: ${otlp.exports()} exports, ${(otlp.bytes() / 1e6).toFixed(1)} MB`);
    await otlp.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
  const ratio = (a: string, b: string, f: (s: WrkSample) => number): number => sameRoundRatio(samples, rounds, a, b, f);
  const table = wrkRowsTable(run, CASES, samples, 'bare', () => 'bare');
  const goals = [
    `chain RPS ≥ 0.85 × bare: ${ratio('chain', 'bare', (s) => s.rps).toFixed(3)}`,
    `jwt RPS ≥ 0.90 × bare: ${ratio('jwt', 'bare', (s) => s.rps).toFixed(3)}`,
    `rate-limiting local RPS ≥ 0.95 × bare: ${ratio('rl', 'bare', (s) => s.rps).toFixed(3)}`,
    `prometheus RPS ≥ 0.95 × bare: ${ratio('prom', 'bare', (s) => s.rps).toFixed(3)}`,
    `rate-limiting-advanced sliding local RPS ≥ 0.95 × bare: ${ratio('rla', 'bare', (s) => s.rps).toFixed(3)}`,
    `file-log to a file RPS ≥ 0.90 × bare: ${ratio('flog', 'bare', (s) => s.rps).toFixed(3)}`,
    `opentelemetry sampling 1.0 RPS (recorded): ${ratio('otel1', 'bare', (s) => s.rps).toFixed(3)} × bare`,
    `opentelemetry sampling 0.01 RPS ≥ 0.97 × bare: ${ratio('otel01', 'bare', (s) => s.rps).toFixed(3)}`,
    `rate-limiting redis batched (sync_rate 1) RPS ≥ 0.8 × bare: ${ratio('rlrb', 'bare', (s) => s.rps).toFixed(3)}`,
    `rate-limiting redis synchronous RPS (recorded): ${ratio('rlrs', 'bare', (s) => s.rps).toFixed(3)} × bare`,
    `own upstream client (upstream_client: hyperway) CPU/request ≤ 0.85 × bare (issue 21): ${ratio('h1', 'bare', (s) => s.cpuUsPerReq).toFixed(3)}; RPS ${ratio('h1', 'bare', (s) => s.rps).toFixed(3)} × bare; chain ${ratio('h1chain', 'chain', (s) => s.cpuUsPerReq).toFixed(3)} × chain's CPU/request`,
    baseEntry ? `bare CPU/request within 2% of the build before the pipeline: ${ratio('bare', 'base', (s) => s.cpuUsPerReq).toFixed(3)}× base` : 'base: not measured',
  ];
  reportWrkRows(run, {
    bench: 'plugins',
    title: 'Plugin pipeline bench',
    layout: `One Hyperway worker pinned to cpu ${plan.target}; upstream (${upstream.impl}) and wrk (1 thread, ${connections} connections) on cpu ${plan.loadgen}.`,
    table,
    goals,
    samples,
  });
  return 0;
}

if (require.main === module) runMain(main);
