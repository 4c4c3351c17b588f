/**
 * The config pipeline's two ends at scale, each in fresh processes (issue 21 goal 5): what the
 * primary spends on loadConfigText (parse → validate → compile, as at start) and what a worker
 * spends turning the config:apply message into a Runtime (decode → Runtime build). Cold
 * processes, as a start and a reload have them; GC pauses counted from --trace-gc.
 *
 * `node dist/bench/config-load.js` (BENCH_ROUTES 10,000, BENCH_CONSUMERS 100,000, BENCH_RUNS 3).
 * BENCH_DIST=<a dist/ folder> times another build of the same code (alternating before/after runs).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { numberEnv } from './lib/knobs';
import { scaleConfig } from './lib/scale-config';

interface Sample {
  [k: string]: number;
}

/** One measurement in this (fresh) process: `load <dist> <file> <out.bin>` or `worker <dist> <in.bin>`. */
function child(mode: string, dist: string, file: string, bin: string): void {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out: Sample = {};
  if (mode === 'load') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadConfigText } = require(join(dist, 'src/primary/config/load-config')) as typeof import('../src/primary/config/load-config');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { encodeApply } = require(join(dist, 'src/shared/protocol')) as typeof import('../src/shared/protocol');
    const text = readFileSync(file, 'utf8');
    const t1 = performance.now();
    const loaded = loadConfigText(text, file, {}, 1);
    out.loadMs = performance.now() - t1;
    // The config hash (computed on first read since the start defers it; inside load before).
    const th = performance.now();
    void loaded.snapshot.hash;
    out.hashMs = performance.now() - th;
    // The entity store's lists (made on first read since the start defers them; eager before).
    const te = performance.now();
    void loaded.entities.services;
    out.entitiesMs = performance.now() - te;
    const t2 = performance.now();
    writeFileSync(bin, encodeApply(loaded.snapshot));
    out.packMs = performance.now() - t2;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { decodeMessage } = require(join(dist, 'src/shared/protocol')) as typeof import('../src/shared/protocol');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Runtime } = require(join(dist, 'src/worker/runtime')) as typeof import('../src/worker/runtime');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { UpstreamPools } = require(join(dist, 'src/worker/proxy/upstream-pool')) as typeof import('../src/worker/proxy/upstream-pool');
    const buf = readFileSync(bin);
    const t1 = performance.now();
    const msg = decodeMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    out.decodeMs = performance.now() - t1;
    if (msg?.kind !== 'config:apply') throw new Error('the message did not decode');
    const t2 = performance.now();
    new Runtime(msg.snapshot, new UpstreamPools());
    out.runtimeMs = performance.now() - t2;
  }
  const cpu = process.cpuUsage(c0);
  out.cpuMs = (cpu.user + cpu.system) / 1000;
  out.wallMs = performance.now() - t0;
  out.heapMB = process.memoryUsage().heapUsed / 1e6;
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  process.exit(0);
}

/** Runs a child under --trace-gc; its result with the scavenge / mark-compact pause sums. */
function run(mode: string, dist: string, file: string, bin: string): Sample {
  const out = execFileSync(process.execPath, ['--trace-gc', __filename, mode, dist, file, bin], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`no result:\n${out.slice(-2000)}`);
  const s = JSON.parse(line.slice(7)) as Sample;
  s.scavengeMs = 0;
  s.markCompactMs = 0;
  for (const l of out.split('\n')) {
    const m = /(Scavenge|Mark-Compact)\b.*?, ([0-9.]+) \/ [0-9.]+ ms/.exec(l);
    if (m) s[m[1] === 'Scavenge' ? 'scavengeMs' : 'markCompactMs'] += Number(m[2]);
  }
  return s;
}

function main(): void {
  const routes = numberEnv('BENCH_ROUTES', 10_000, 20);
  const consumers = numberEnv('BENCH_CONSUMERS', 100_000, 10);
  const runs = numberEnv('BENCH_RUNS', 3, 1);
  const dist = resolve(process.env.BENCH_DIST ?? join(__dirname, '..'));
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-config-load-'));
  try {
    const file = join(scratch, 'kong.yml');
    writeFileSync(file, scaleConfig({ routes, consumers, upstreamPort: 9 }));
    const bin = join(scratch, 'apply.bin');
    console.log(`${routes} routes, ${consumers} consumers; code: ${dist}`);
    const fmt = (s: Sample): string => Object.entries(s).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
    for (let i = 0; i < runs; i++) console.log(`load:   ${fmt(run('load', dist, file, bin))}`);
    for (let i = 0; i < runs; i++) console.log(`worker: ${fmt(run('worker', dist, file, bin))}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'load' || process.argv[2] === 'worker') child(process.argv[2], process.argv[3], process.argv[4], process.argv[5]);
else main();
