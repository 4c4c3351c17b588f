/**
 * WebSocket echo throughput: messages per second through one Hyperway worker, through one nginx
 * worker (a WebSocket proxy: proxy_http_version 1.1, Upgrade/Connection headers) and straight to
 * the upstream, in interleaved rounds of the same run, with ratios taken within a round; CPU per
 * message of the gateway (its whole process tree) and of the upstream, from /proc. The upstream
 * is a `ws` echo server in its own pinned process; the load generator (this process) keeps
 * BENCH_WS_WINDOW messages in flight on each connection.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/websocket.js
 *   BENCH_WS_CONNECTIONS=16 BENCH_WS_WINDOW=8 BENCH_WS_BYTES=64 BENCH_WS_SECONDS=10 BENCH_WS_ROUNDS=3 (defaults)
 *   Wall time ≈ ROUNDS × 3 rows × SECONDS + ~5 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { planCpus, pinned } from './lib/cpu-plan';
import { freePort, spawnCaptured, stopProcess, waitFor, httpGet } from './lib/processes';
import { processTree, sampleCpu, cpuMsBetween } from './lib/proc-stat';
import { startHyperway } from './lib/target-hyperway';
import { nginxPath, startNginx } from './lib/target-nginx';
import { median, sameRoundRatio } from './lib/rounds';
import { describeMachine } from './lib/machine';
import { numberEnv } from './lib/knobs';

/** `node dist/bench/websocket.js upstream <port>`: the echo upstream (also answers GET / with `ok`). */
function runUpstream(port: number): void {
  const server = createServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (ws) => ws.on('message', (data: Buffer, isBinary) => ws.send(data, { binary: isBinary })));
  server.listen(port, '127.0.0.1', () => process.stdout.write(`{"port":${port}}\n`));
}

interface Row {
  key: string;
  round: number;
  name: string;
  messages: number;
  seconds: number;
  targetCpuMs: number;
  upstreamCpuMs: number;
}

/** Echo load on `url` for `seconds`: every connection keeps `window` messages in flight. */
async function load(url: string, connections: number, window: number, bytes: number, seconds: number): Promise<{ messages: number; seconds: number }> {
  const payload = Buffer.alloc(bytes, 0x61);
  const sockets = await Promise.all(Array.from({ length: connections }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  let messages = 0;
  let running = true;
  const t0 = process.hrtime.bigint();
  for (const ws of sockets) {
    ws.on('message', () => {
      messages++;
      if (running) ws.send(payload);
    });
    for (let i = 0; i < window; i++) ws.send(payload);
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const counted = messages;
  await Promise.all(sockets.map((ws) => new Promise<void>((r) => {
    ws.once('close', () => r());
    ws.close(1000);
  })));
  return { messages: counted, seconds: elapsed };
}

async function measure(key: string, round: number, name: string, url: string, target: () => number[], upstream: () => number[], knobs: { connections: number; window: number; bytes: number; seconds: number }): Promise<Row> {
  const t0 = sampleCpu(target());
  const u0 = sampleCpu(upstream());
  const r = await load(url, knobs.connections, knobs.window, knobs.bytes, knobs.seconds);
  const t1 = sampleCpu(target());
  const u1 = sampleCpu(upstream());
  return { key, round, name, messages: r.messages, seconds: r.seconds, targetCpuMs: cpuMsBetween(t0, t1), upstreamCpuMs: cpuMsBetween(u0, u1) };
}

async function main(): Promise<void> {
  const knobs = {
    connections: numberEnv('BENCH_WS_CONNECTIONS', 16, 1),
    window: numberEnv('BENCH_WS_WINDOW', 8, 1),
    bytes: numberEnv('BENCH_WS_BYTES', 64, 1),
    seconds: numberEnv('BENCH_WS_SECONDS', 10, 1),
  };
  const plan = planCpus('one');
  const upstreamPort = await freePort();
  const [cmd, args] = pinned(plan.upstream, process.execPath, [__filename, 'upstream', String(upstreamPort)]);
  const up = spawnCaptured(cmd, args);
  await waitFor('ws upstream', up, async () => ((await httpGet(`http://127.0.0.1:${upstreamPort}/`)).status === 200 ? true : undefined), 10000);
  const upstreamPids = (): number[] => processTree(up.child.pid!);
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-ws-bench-'));
  const rounds = numberEnv('BENCH_WS_ROUNDS', 3, 1);
  const rows: Row[] = [];
  const none = (): number[] => [];
  const cases: Array<{ key: string; name: string; url: string; pids: () => number[] }> = [
    { key: 'direct', name: 'direct to the upstream', url: `ws://127.0.0.1:${upstreamPort}/`, pids: none },
  ];
  const stops: Array<() => Promise<void>> = [];
  try {
    const gw = await startHyperway({ key: 'hyperway-1', name: 'hyperway 1 worker', upstreamPort, workers: 1, plan, scratchDir: scratch, expectBody: 'ok' });
    stops.push(() => gw.stop());
    cases.push({ key: 'hyperway', name: 'through hyperway (1 worker)', url: gw.url.replace('http:', 'ws:'), pids: () => gw.pids() });
    if (nginxPath() !== null) {
      const ng = await startNginx({ key: 'nginx-1', name: 'nginx 1 worker', upstreamPort, workers: '1', plan, scratchDir: scratch, expectBody: 'ok', websocket: true });
      stops.push(() => ng.stop());
      cases.push({ key: 'nginx', name: 'through nginx (1 worker)', url: ng.url.replace('http:', 'ws:'), pids: () => ng.pids() });
    } else {
      process.stderr.write('nginx not installed: no nginx row\n');
    }
    for (let round = 1; round <= rounds; round++) {
      for (const c of cases) rows.push(await measure(c.key, round, c.name, c.url, c.pids, upstreamPids, knobs));
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
    await stopProcess(up.child);
    rmSync(scratch, { recursive: true, force: true });
  }
  const m = describeMachine();
  const perEcho = (cpuMs: number, messages: number): number => (cpuMs * 1000) / messages;
  const lines = cases.map((c) => {
    const mine = rows.filter((r) => r.key === c.key);
    const rate = median(mine.map((r) => r.messages / r.seconds));
    const gwCpu = c.key === 'direct' ? '–' : median(mine.map((r) => perEcho(r.targetCpuMs, r.messages))).toFixed(1);
    return `| ${c.name} | ${Math.round(rate)} | ${gwCpu} | ${median(mine.map((r) => perEcho(r.upstreamCpuMs, r.messages))).toFixed(1)} |`;
  });
  const ratio = (a: string, b: string, f: (r: Row) => number): string => {
    const x = sameRoundRatio(rows, rounds, a, b, f);
    return Number.isFinite(x) ? x.toFixed(2) : '–';
  };
  const rate = (r: Row): number => r.messages / r.seconds;
  const table = [
    `${knobs.connections} connections × ${knobs.window} in flight, ${knobs.bytes}-byte binary messages, ${knobs.seconds} s per row, ${rounds} interleaved round(s), medians; ` +
      `${m.nproc} × ${m.cpuModel}, Node ${m.node}, ${m.uws}; target cpu ${plan.target}, upstream cpu ${plan.upstream}` +
      (plan.overlaps.length > 0 ? ` (${plan.overlaps.join('; ')})` : ''),
    '',
    '| case | echoes/s | gateway CPU µs/echo | upstream CPU µs/echo |',
    '|---|---|---|---|',
    ...lines,
    '',
    'Same-round ratios (median over rounds):',
    '',
    '| ratio | value |',
    '|---|---|',
    `| hyperway / nginx echoes/s | ${ratio('hyperway', 'nginx', rate)} |`,
    `| hyperway / nginx gateway CPU per echo | ${ratio('hyperway', 'nginx', (r) => r.targetCpuMs / r.messages)} |`,
    `| hyperway / direct echoes/s | ${ratio('hyperway', 'direct', rate)} |`,
    `| nginx / direct echoes/s | ${ratio('nginx', 'direct', rate)} |`,
  ].join('\n');
  process.stdout.write(`${table}\n`);
}

if (process.argv[2] === 'upstream') {
  runUpstream(Number(process.argv[3]));
} else {
  main().catch((e: Error) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });
}
