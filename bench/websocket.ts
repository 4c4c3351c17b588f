/**
 * WebSocket echo throughput: messages per second through one Hyperway worker, and straight to
 * the upstream, in the same run; CPU per message of the gateway (primary + worker) and of the
 * upstream, from /proc. The upstream is a `ws` echo server in its own pinned process; the load
 * generator (this process) keeps BENCH_WS_WINDOW messages in flight on each connection.
 *
 *   npm run build && node dist/bench/websocket.js
 *   BENCH_WS_CONNECTIONS=16 BENCH_WS_WINDOW=8 BENCH_WS_BYTES=64 BENCH_WS_SECONDS=10 (defaults)
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

async function measure(name: string, url: string, target: () => number[], upstream: () => number[], knobs: { connections: number; window: number; bytes: number; seconds: number }): Promise<Row> {
  const t0 = sampleCpu(target());
  const u0 = sampleCpu(upstream());
  const r = await load(url, knobs.connections, knobs.window, knobs.bytes, knobs.seconds);
  const t1 = sampleCpu(target());
  const u1 = sampleCpu(upstream());
  return { name, messages: r.messages, seconds: r.seconds, targetCpuMs: cpuMsBetween(t0, t1), upstreamCpuMs: cpuMsBetween(u0, u1) };
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
  const rows: Row[] = [];
  try {
    const gw = await startHyperway({ key: 'hyperway-1', name: 'hyperway 1 worker', upstreamPort, workers: 1, plan, scratchDir: scratch, expectBody: 'ok' });
    try {
      const none = (): number[] => [];
      rows.push(await measure('direct to the upstream', `ws://127.0.0.1:${upstreamPort}/`, none, upstreamPids, knobs));
      rows.push(await measure('through hyperway (1 worker)', gw.url.replace('http:', 'ws:'), () => gw.pids(), upstreamPids, knobs));
    } finally {
      await gw.stop();
    }
  } finally {
    await stopProcess(up.child);
    rmSync(scratch, { recursive: true, force: true });
  }
  const m = describeMachine();
  const table = [
    `${knobs.connections} connections × ${knobs.window} in flight, ${knobs.bytes}-byte binary messages, ${knobs.seconds} s each; ` +
      `${m.nproc} × ${m.cpuModel}, Node ${m.node}, ${m.uws}; target cpu ${plan.target}, upstream cpu ${plan.upstream}` +
      (plan.overlaps.length > 0 ? ` (${plan.overlaps.join('; ')})` : ''),
    '',
    '| case | echoes/s | gateway CPU µs/echo | upstream CPU µs/echo |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.messages / r.seconds)} | ${r.targetCpuMs > 0 ? ((r.targetCpuMs * 1000) / r.messages).toFixed(1) : '–'} | ${((r.upstreamCpuMs * 1000) / r.messages).toFixed(1)} |`),
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
