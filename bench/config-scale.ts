/**
 * Config at scale (issue 21 goal 5): a generated kong.yml of BENCH_ROUTES routes (10,000) over a
 * tenth as many services and BENCH_CONSUMERS consumers (100,000) with key-auth credentials (a tenth
 * in acl groups); see bench/lib/scale-config.ts for the mix of hosts, methods, regexes, wildcards.
 *
 * 1. Each phase timed in this process on the gateway's own code (bench/lib/config-phases.ts):
 *    parse, validate, entity store, compile (snapshot + hash), msgpackr pack/unpack (the IPC
 *    payload), router build, consumer index, whole worker Runtime build. Wall and CPU ms.
 * 2. The real gateway (2 workers) started on that file: time until every worker acknowledged the
 *    config, and until a request to the last route was served by each worker.
 * 3. A reload (SIGHUP, the file changed) under constant load (autocannon, BENCH_CONNECTIONS
 *    connections on a route present in both versions): time until every worker runs the new
 *    version, and the non-2xx answers and errors the load saw (goal: none).
 *
 * Knobs: BENCH_ROUTES, BENCH_CONSUMERS, BENCH_DURATION (s of load around the reload, 10),
 * BENCH_CONNECTIONS (32), BENCH_PROFILE=1 (gateway under node --cpu-prof; the primary's and the
 * workers' top functions are printed), BENCH_RECORD=1 (bench/results/<date>-<machine>-config-scale.md).
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { planCpus } from './lib/cpu-plan';
import { summarize, type CpuProfile } from './lib/cpu-profile';
import { PHASES, PHASE_LABEL, timePhases } from './lib/config-phases';
import { numberEnv } from './lib/knobs';
import { runAutocannon } from './lib/load-autocannon';
import { describeMachine, machineTag } from './lib/machine';
import { freePort, httpGet, spawnCaptured, stopProcess, type Spawned } from './lib/processes';
import { markdownTable } from './lib/report';
import { REPO_ROOT } from './lib/target';
import { hyperwayEntry } from './lib/target-hyperway';
import { startUpstream } from './lib/upstream-process';
import { scaleConfig, scaleConsumerKey, scaleRouteRequest } from './lib/scale-config';

interface Status {
  workers?: Array<{ id: number; pid: number; config_version: number; requests: number }>;
}

function get(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function status(adminPort: number): Promise<Status | null> {
  try {
    const r = await httpGet(`http://127.0.0.1:${adminPort}/status`);
    return JSON.parse(r.body) as Status;
  } catch {
    return null;
  }
}

async function poll<T>(what: string, proc: Spawned, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${what}: gateway exited\n${proc.output()}`);
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    // Not tighter: each GET /status costs the primary a read of /proc/net/tcp (admin/connections.ts),
    // which at 5 ms took a second of its main thread during a load.
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: timed out\n${proc.output()}`);
}

/** Fresh connections until each worker's request counter grew: every worker served `send()` with a 2xx. */
async function servedByEveryWorker(adminPort: number, proc: Spawned, send: () => Promise<number>): Promise<void> {
  const before = await status(adminPort);
  const base = new Map((before?.workers ?? []).map((w) => [w.id, w.requests]));
  await poll('a request on every worker', proc, async () => {
    const code = await send();
    if (code < 200 || code > 299) throw new Error(`status ${code}`);
    const s = await status(adminPort);
    return s?.workers?.every((w) => w.requests > (base.get(w.id) ?? 0)) ? true : undefined;
  });
}

function fmt(ms: number): string {
  return ms.toFixed(0);
}

async function main(): Promise<number> {
  const routes = numberEnv('BENCH_ROUTES', 10_000, 20);
  const consumers = numberEnv('BENCH_CONSUMERS', 100_000, 10);
  const durationS = numberEnv('BENCH_DURATION', 10, 3);
  const connections = numberEnv('BENCH_CONNECTIONS', 32, 1);
  const profile = process.env.BENCH_PROFILE === '1';
  const entry = hyperwayEntry();
  if (entry === null) throw new Error('Hyperway is not built (npm run build)');
  const plan = planCpus('all');
  const scratch = mkdtempSync(join(tmpdir(), 'hyperway-config-scale-'));
  const upstream = await startUpstream(plan.upstream);
  const rows: string[][] = [];
  const notes: string[] = [];
  let gateway: Spawned | null = null;
  try {
    const file = join(scratch, 'kong.yml');
    const text = scaleConfig({ routes, consumers, upstreamPort: upstream.port });
    writeFileSync(file, text);
    console.log(`config: ${routes} routes, ${consumers} consumers, ${(text.length / 1e6).toFixed(1)} MB of YAML (${file})`);

    // 1. phases in this process
    const phases = timePhases(text);
    for (const p of PHASES) rows.push([PHASE_LABEL[p], fmt(phases.wall[p]), fmt(phases.cpu[p])]);
    const primarySum = phases.wall.parse + phases.wall.validate + phases.wall.entities + phases.wall.compile + phases.wall.handoffPack + phases.wall.handoffUnpack + phases.wall.pack;
    rows.push(['sum: primary on reload (parse … pack; a start has no hand-off)', fmt(primarySum), '']);
    rows.push(['sum: worker (unpack + Runtime)', fmt(phases.wall.unpack + phases.wall.runtime), '']);
    notes.push(`IPC payload (msgpackr): ${(phases.payloadBytes / 1e6).toFixed(1)} MB per worker`);

    // 2. the gateway, started on the file
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    const profDir = join(scratch, 'prof');
    mkdirSync(profDir);
    const env = { ...process.env, HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`, HYPERWAY_WORKERS: '2', HYPERWAY_LOG_LEVEL: 'warn' };
    const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    const t0 = performance.now();
    gateway = spawnCaptured(process.execPath, [...nodeArgs, entry, 'start', '--config', file], env);
    const gw = gateway;
    await poll('every worker acknowledged', gw, async () => {
      const s = await status(adminPort);
      return s?.workers?.length === 2 && s.workers.every((w) => w.config_version >= 1) ? true : undefined;
    });
    const acked = performance.now() - t0;
    const last = routes - 1;
    const lastReq = scaleRouteRequest(last);
    const lastKey = scaleConsumerKey(consumers - (consumers % 10 === 0 ? 10 : consumers % 10));
    await servedByEveryWorker(adminPort, gw, () => get(proxyPort, lastReq.path, { host: lastReq.host, apikey: lastKey }, lastReq.method));
    const served = performance.now() - t0;
    rows.push(['gateway start → every worker acked (process start included)', fmt(acked), '']);
    rows.push(['gateway start → last route + last acl consumer served by both workers', fmt(served), '']);

    // 3. reload under load
    const loadRoute = scaleRouteRequest(routes - 15);
    const loadUrl = `http://127.0.0.1:${proxyPort}${loadRoute.path}`;
    // A plain prefix route (no host, GET) of a service the reload does not change.
    const load = runAutocannon({ url: loadUrl, connections, durationS, pipelining: 1 }, plan.loadgen);
    await new Promise((r) => setTimeout(r, Math.min(2000, (durationS * 1000) / 4)));
    const version = (await status(adminPort))?.workers?.[0]?.config_version ?? 1;
    writeFileSync(file, scaleConfig({ routes, consumers, upstreamPort: upstream.port, tag: '-v2' }));
    const r0 = performance.now();
    gw.child.kill('SIGHUP');
    await poll('every worker on the reloaded config', gw, async () => {
      const s = await status(adminPort);
      return s?.workers?.every((w) => w.config_version > version) ? true : undefined;
    });
    const reloaded = performance.now() - r0;
    const outcome = await load;
    rows.push(['reload (SIGHUP) → every worker acked the new version', fmt(reloaded), '']);
    rows.push([`load during the reload: ${outcome.requests} requests, non-2xx / errors`, `${outcome.non2xx} / ${outcome.errors}`, '']);
  } finally {
    if (gateway !== null) await stopProcess(gateway.child, 15000);
    await upstream.stop();
  }

  const table = markdownTable(['phase', 'wall ms', 'cpu ms'], rows);
  console.log(`\n${table}\n`);
  for (const n of notes) console.log(n);
  const profiles: string[] = [];
  if (profile) {
    const dir = join(scratch, 'prof');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
      const s = summarize(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, 12);
      profiles.push(`\n${f} (${(s.totalUs / 1000).toFixed(0)} ms sampled):\n${s.top.map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`).join('\n')}`);
    }
    console.log(profiles.join('\n'));
  }
  if (process.env.BENCH_RECORD === '1') {
    const m = describeMachine();
    const out = join(REPO_ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-${machineTag(m)}-config-scale.md`);
    mkdirSync(join(out, '..'), { recursive: true });
    appendFileSync(
      out,
      [
        `# Config at scale, ${new Date().toISOString()}`,
        '',
        `\`BENCH_RECORD=1 npm run bench:config-scale\`: ${routes} routes, ${consumers} consumers, 2 workers, reload under ${connections} connections for ${durationS} s.`,
        `Machine: ${m.nproc} cores, ${m.cpuModel}, node ${m.node}, load average at start ${m.loadAvg1.toFixed(2)}.`,
        '',
        table,
        '',
        ...notes.map((n) => `- ${n}`),
        ...(profiles.length > 0 ? ['', '```', ...profiles, '```'] : []),
        '',
      ].join('\n'),
    );
    console.log(`recorded: ${out}`);
  }
  rmSync(scratch, { recursive: true, force: true });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
