/**
 * Large bodies through one Hyperway worker: a 1 GiB download and 1 GiB uploads streamed both ways,
 * with the worker's peak RSS sampled from /proc every 50 ms. The budget is 150 MiB per
 * worker; buffering a body instead of streaming it would show here at once.
 *
 *   npm run build && node dist/bench/large-bodies.js        BENCH_LARGE_MIB=1024 (default)
 *   BENCH_RECORD=1 …                                          also writes bench/results/<date>-<machine>-large-bodies.md
 *
 * uWS 20.30 closes connections whose Content-Length has 10 digits or more (≥ 1e9 bytes), so the
 * 1 GiB upload goes chunked and the Content-Length upload uses 900 MiB.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCpus } from './lib/cpu-plan';
import { freePort } from './lib/processes';
import { startHyperway } from './lib/target-hyperway';
import { describeMachine, machineTag } from './lib/machine';
import { numberEnv } from './lib/knobs';
import { REPO_ROOT } from './lib/target';

const MIB = 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 0x61);

/** Writes `bytes` bytes of CHUNK to `out`, waiting for 'drain' whenever it pushes back, then ends it. */
function writeRepeated(out: http.ServerResponse | http.ClientRequest, bytes: number): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes) {
      const n = Math.min(CHUNK.length, bytes - sent);
      sent += n;
      if (!out.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void out.once('drain', pump);
    }
    out.end();
  };
  pump();
}

function startUpstream(port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => { n += c.length; });
      req.on('end', () => res.end(String(n)));
      return;
    }
    const bytes = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes') ?? 0);
    if (bytes === 0) return void res.end('ok');
    res.writeHead(200, { 'content-length': String(bytes) });
    writeRepeated(res, bytes);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

interface Row { name: string; bytes: number; seconds: number; peakMiB: number }

async function measure(name: string, workers: () => number[], run: () => Promise<number>): Promise<Row> {
  let peak = 0;
  const timer = setInterval(() => { for (const p of workers()) peak = Math.max(peak, rssKiB(p)); }, 50);
  const t0 = process.hrtime.bigint();
  const bytes = await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  return { name, bytes, seconds, peakMiB: peak / 1024 };
}

function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function upload(url: string, bytes: number, chunked: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(bytes) };
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => (Number(body) === bytes ? resolve(bytes) : reject(new Error(`upstream counted ${body} of ${bytes} bytes`))));
    });
    req.on('error', reject);
    writeRepeated(req, bytes);
  });
}

async function main(): Promise<void> {
  const mib = numberEnv('BENCH_LARGE_MIB', 1024, 1);
  const upstreamPort = await freePort();
  const upstream = await startUpstream(upstreamPort);
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-large-'));
  const gw = await startHyperway({
    key: 'hyperway-1', name: 'hyperway 1 worker', upstreamPort, workers: 1, plan: planCpus('one'), scratchDir: scratch, expectBody: 'ok',
  });
  const workers = (): number[] => gw.pids().filter((p) => p !== gw.rootPid);
  const rows: Row[] = [];
  try {
    const total = mib * MIB;
    rows.push(await measure(`download ${mib} MiB (Content-Length)`, workers, () => download(`${gw.url}?bytes=${total}`)));
    rows.push(await measure(`upload ${mib} MiB (chunked)`, workers, () => upload(gw.url, total, true)));
    const withLength = Math.min(total, 900 * MIB);
    rows.push(await measure(`upload ${withLength / MIB} MiB (Content-Length)`, workers, () => upload(gw.url, withLength, false)));
  } finally {
    await gw.stop();
    upstream.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const table = [
    '| case | bytes | seconds | MiB/s | worker peak RSS MiB |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.bytes} | ${r.seconds.toFixed(2)} | ${(r.bytes / MIB / r.seconds).toFixed(0)} | ${r.peakMiB.toFixed(1)} |`),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  const over = rows.filter((r) => r.peakMiB >= 150);
  if (over.length > 0) process.stdout.write(`OVER BUDGET (150 MiB): ${over.map((r) => r.name).join(', ')}\n`);
  if (process.env.BENCH_RECORD === '1') {
    const m = describeMachine();
    const date = new Date().toISOString().slice(0, 10);
    const file = join(REPO_ROOT, 'bench', 'results', `${date}-${machineTag(m)}-large-bodies.md`);
    writeFileSync(file, `# Large bodies through one worker, ${date}\n\n\`node dist/bench/large-bodies.js\` on ${m.nproc} × ${m.cpuModel}, ` +
      `kernel ${m.kernel}, Node ${m.node}, ${m.uws}. Peak RSS is the worker's VmRSS, sampled every 50 ms.\n\n${table}\n`);
    process.stdout.write(`recorded ${file}\n`);
  }
  if (over.length > 0) process.exitCode = 1;
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
