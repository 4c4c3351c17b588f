/**
 * TLS vs plain through one Hyperway worker, with nginx (1 worker, TLS) as the baseline in the same
 * run: requests/s and CPU ms per request of the target's processes, in interleaved rounds (every
 * row once per round), with ratios taken within a round (bench/lib/rounds.ts). A smoke-sized
 * bench: the load loop runs in this process (keep-alive agents).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/tls.js
 *   BENCH_DURATION=5 (seconds per row and round) BENCH_CONNECTIONS=16 BENCH_ROUNDS=3 (defaults);
 *   one warm-up pass per row before round 1. Wall time ≈ (ROUNDS + 1) × 4 rows × DURATION + ~5 s.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { cpuMsBetween, processTree, sampleCpu } from './lib/proc-stat';
import { nginxPath } from './lib/target-nginx';
import { median, sameRoundRatio, type RoundSample } from './lib/rounds';
import { freePort } from '../test/helpers/ports';
import { REPO_ROOT } from './lib/target';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

interface Sample extends RoundSample {
  rps: number;
  cpuMsPerRequest: number;
}

interface RowTarget {
  key: string;
  name: string;
  url: string;
  root: number;
}

async function load(url: string): Promise<number> {
  const tls = url.startsWith('https');
  const agent = tls ? new https.Agent({ keepAlive: true, maxSockets: CONNECTIONS, rejectUnauthorized: false }) : new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const get = tls ? https.get : http.get;
  const end = Date.now() + DURATION * 1000;
  let n = 0;
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject);
  });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < end) {
      await one();
      n++;
    }
  }));
  agent.destroy();
  return n;
}

async function measure(t: RowTarget, round: number): Promise<Sample> {
  const before = sampleCpu(processTree(t.root));
  const t0 = Date.now();
  const n = await load(t.url);
  const s = (Date.now() - t0) / 1000;
  const cpu = cpuMsBetween(before, sampleCpu(processTree(t.root)));
  return { key: t.key, round, rps: n / s, cpuMsPerRequest: cpu / n };
}

function report(targets: RowTarget[], samples: Sample[]): string {
  const rows = targets.map((t) => {
    const mine = samples.filter((x) => x.key === t.key);
    return `| ${t.name} | ${Math.round(median(mine.map((x) => x.rps)))} | ${median(mine.map((x) => x.cpuMsPerRequest)).toFixed(3)} |`;
  });
  const ratio = (a: string, b: string, f: (x: Sample) => number): string => {
    const r = sameRoundRatio(samples, ROUNDS, a, b, f);
    return Number.isFinite(r) ? r.toFixed(2) : '–';
  };
  const rps = (x: Sample): number => x.rps;
  const cpu = (x: Sample): number => x.cpuMsPerRequest;
  return [
    `${CONNECTIONS} keep-alive connections, ${DURATION} s per row, ${ROUNDS} interleaved round(s), medians (load generator in-process)`,
    '',
    '| target | req/s | CPU ms/request |',
    '|---|---|---|',
    ...rows,
    '',
    'Same-round ratios (median over rounds):',
    '',
    '| ratio | req/s | CPU ms/request |',
    '|---|---|---|',
    `| hyperway / nginx, TLS | ${ratio('hw-tls', 'ng-tls', rps)} | ${ratio('hw-tls', 'ng-tls', cpu)} |`,
    `| hyperway / nginx, plain | ${ratio('hw-plain', 'ng-plain', rps)} | ${ratio('hw-plain', 'ng-plain', cpu)} |`,
    `| hyperway TLS / plain | ${ratio('hw-tls', 'hw-plain', rps)} | ${ratio('hw-tls', 'hw-plain', cpu)} |`,
    `| nginx TLS / plain | ${ratio('ng-tls', 'ng-plain', rps)} | ${ratio('ng-tls', 'ng-plain', cpu)} |`,
  ].join('\n');
}

async function waitOk(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const req = (url.startsWith('https') ? https : http).get(url, { rejectUnauthorized: false } as never, (res) => { res.resume(); r(res.statusCode === 200); });
      req.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered 200`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-bench-tls-'));
  const procs: ChildProcess[] = [];
  const upstream = http.createServer((_req, res) => res.end('hello')).listen(0, '127.0.0.1');
  await new Promise((r) => upstream.once('listening', r));
  const upPort = (upstream.address() as AddressInfo).port;
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'pipe' });
    const [plain, tls, admin] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(join(dir, 'kong.yml'), `_format_version: "3.0"\nservices:\n  - name: up\n    url: http://127.0.0.1:${upPort}\n    routes:\n      - paths: [/]\n`);
    const gw = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'main.js'), 'start', '--config', join(dir, 'kong.yml')], {
      env: { PATH: process.env.PATH, HYPERWAY_WORKERS: '1', HYPERWAY_LOG_LEVEL: 'error', HYPERWAY_PROXY_LISTEN: `127.0.0.1:${plain}, 127.0.0.1:${tls} ssl`,
        HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${admin}`, HYPERWAY_SSL_CERT: join(dir, 'c.pem'), HYPERWAY_SSL_CERT_KEY: join(dir, 'k.pem') },
      stdio: 'ignore',
    });
    procs.push(gw);
    await waitOk(`http://127.0.0.1:${plain}/`);
    await waitOk(`https://127.0.0.1:${tls}/`);
    const targets: RowTarget[] = [
      { key: 'hw-plain', name: 'hyperway 1 worker, plain', url: `http://127.0.0.1:${plain}/`, root: gw.pid! },
      { key: 'hw-tls', name: 'hyperway 1 worker, TLS', url: `https://127.0.0.1:${tls}/`, root: gw.pid! },
    ];
    const bin = nginxPath();
    if (bin !== null) {
      const nd = join(dir, 'nginx');
      mkdirSync(nd);
      const [np, nt] = [await freePort(), await freePort()];
      writeFileSync(join(nd, 'nginx.conf'), `worker_processes 1;\ndaemon off;\npid ${nd}/nginx.pid;\nerror_log ${nd}/error.log warn;\nevents { worker_connections 4096; }\n` +
        `http { access_log off; client_body_temp_path ${nd}/cb; proxy_temp_path ${nd}/p; upstream u { server 127.0.0.1:${upPort}; keepalive 64; }\n` +
        `server { listen 127.0.0.1:${np}; listen 127.0.0.1:${nt} ssl; ssl_certificate ${dir}/c.pem; ssl_certificate_key ${dir}/k.pem;\n` +
        `location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`);
      const ng = spawn(bin, ['-p', nd, '-c', join(nd, 'nginx.conf'), '-e', join(nd, 'error.log')], { stdio: 'ignore' });
      procs.push(ng);
      await waitOk(`http://127.0.0.1:${np}/`);
      await waitOk(`https://127.0.0.1:${nt}/`);
      targets.push(
        { key: 'ng-plain', name: 'nginx 1 worker, plain', url: `http://127.0.0.1:${np}/`, root: ng.pid! },
        { key: 'ng-tls', name: 'nginx 1 worker, TLS', url: `https://127.0.0.1:${nt}/`, root: ng.pid! },
      );
    } else {
      process.stderr.write('nginx not installed: Hyperway rows only\n');
    }
    // Warm-up pass per row (TLS sessions, JIT, pools), then the rounds.
    for (const t of targets) await load(t.url);
    const samples: Sample[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of targets) samples.push(await measure(t, round));
    }
    process.stdout.write(`${report(targets, samples)}\n`);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    upstream.close();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: Error) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
