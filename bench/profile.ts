/**
 * Where a request's CPU goes (issue 21's "profile first"): one Hyperway worker pinned to cpu 0,
 * started with `node --cpu-prof` (forked workers inherit it and write their profile on a clean
 * exit), loaded with wrk from the other cpu for BENCH_DURATION seconds on one route, then stopped
 * gracefully. The worker's profile is split into categories (bench/lib/cpu-profile.ts) and shown
 * as µs per request and share of the busy time, with the functions that cost the most.
 * Knobs: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (64), BENCH_PROFILE_ROUTE (`bare` or `chain`:
 * key-auth + acl + cors + correlation-id), BENCH_PROFILE_PAYLOAD (`small`: 64 B answer, `1k`,
 * `64k`: responses of that size, `upload`: a 64 KiB POST streamed to the upstream, 64 B answer;
 * the stack bench's payloads), BENCH_RECORD=1 (appends to bench/results/<date>-<machine>-profile.md).
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCpus, upstreamCpu, cpuCount } from './lib/cpu-plan';
import { summarize, type Category, type CpuProfile } from './lib/cpu-profile';
import { numberEnv } from './lib/knobs';
import { runWrkScripted, uploadScript, wrkPath } from './lib/load-wrk';
import { describeMachine, machineTag } from './lib/machine';
import { runMain } from './lib/processes';
import { markdownTable } from './lib/report';
import { REPO_ROOT } from './lib/target';
import { startHyperway } from './lib/target-hyperway';
import { BODY } from './upstream';
import { startPayloadUpstream } from './lib/payload-upstream';

function config(upstreamPort: number): string {
  return `_format_version: "3.0"
services:
  - name: up
    url: http://127.0.0.1:${upstreamPort}
    routes:
      - { name: bare, paths: [/] }
      - { name: chain, paths: [/chain] }
consumers:
  - username: bench
    keyauth_credentials: [{ key: bench-key }]
    acls: [{ group: bench }]
plugins:
  - { name: key-auth, route: chain }
  - { name: acl, route: chain, config: { allow: [bench] } }
  - { name: cors, route: chain, config: { origins: ["https://app.example.com"] } }
  - { name: correlation-id, route: chain }
`;
}

const ROUTES: Record<string, { path: string; headers: Record<string, string> }> = {
  bare: { path: '/', headers: {} },
  chain: { path: '/chain', headers: { apikey: 'bench-key', Origin: 'https://app.example.com' } },
};

/** The stack bench's payloads (bench/lib/payload-upstream.ts serves them): the path under the route, or a POST. */
const PAYLOADS: Record<string, { sub: string; upload: boolean }> = {
  small: { sub: '', upload: false },
  '1k': { sub: '1k', upload: false },
  '64k': { sub: '64k', upload: false },
  upload: { sub: '', upload: true },
};
const UPLOAD_BYTES = 64 * 1024;

const ORDER: Category[] = ['hyperway worker', 'hyperway plugins', 'hyperway other', 'undici', 'node core', 'other JS', 'native (uWS, V8)', 'GC'];

async function main(): Promise<number> {
  if (!wrkPath()) {
    console.error('wrk is not installed (apt-get install wrk)');
    return 1;
  }
  const durationS = numberEnv('BENCH_DURATION', 10, 1);
  const connections = numberEnv('BENCH_CONNECTIONS', 64, 1);
  const routeName = process.env.BENCH_PROFILE_ROUTE ?? 'bare';
  const route = ROUTES[routeName];
  if (route === undefined) {
    console.error(`BENCH_PROFILE_ROUTE: one of ${Object.keys(ROUTES).join(', ')}`);
    return 1;
  }
  const payloadName = process.env.BENCH_PROFILE_PAYLOAD ?? 'small';
  const payload = PAYLOADS[payloadName];
  if (payload === undefined) {
    console.error(`BENCH_PROFILE_PAYLOAD: one of ${Object.keys(PAYLOADS).join(', ')}`);
    return 1;
  }
  const label = payloadName === 'small' ? routeName : `${routeName} route, ${payloadName}`;
  const machine = describeMachine();
  const n = cpuCount();
  const plan = planCpus('one', n);
  const scratchDir = mkdtempSync(join(tmpdir(), 'hyperway-profile-'));
  const profDir = join(scratchDir, 'prof');
  const upstream = await startPayloadUpstream(String(upstreamCpu(n)));
  let requests = 0;
  let workerPids: number[] = [];
  try {
    const target = await startHyperway({
      key: 'profiled', name: 'hyperway (profiled)', upstreamPort: upstream.port, workers: 1, plan, scratchDir, expectBody: BODY,
      config: config(upstream.port), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
    });
    workerPids = target.pids().filter((p) => p !== target.rootPid);
    const path = payload.sub === '' ? route.path : `${route.path.replace(/\/$/, '')}/${payload.sub}`;
    const url = new URL(path, target.url).toString();
    const script = payload.upload ? uploadScript(scratchDir, UPLOAD_BYTES) : undefined;
    await runWrkScripted({ url, connections, durationS: 2, headers: route.headers, script }, plan.loadgen);
    const load = await runWrkScripted({ url, connections, durationS, headers: route.headers, script }, plan.loadgen);
    if (load.errors + load.non2xx > 0) console.log(`${load.errors} socket errors, ${load.non2xx} non-2xx responses`);
    // The warm-up's requests are in the profile too.
    requests = load.requests + Math.round((load.requests / load.durationS) * 2);
    console.log(`${label}: ${(load.requests / load.durationS).toFixed(0)} req/s over ${durationS}s (+2s warm-up), profiling…`);
    await target.stop();
  } finally {
    await upstream.stop();
  }
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  const worker = files.find((f) => workerPids.some((p) => f.includes(`.${p}.`)));
  if (worker === undefined) {
    console.error(`no worker profile among ${files.join(', ') || 'nothing'} (worker pids ${workerPids.join(', ')})`);
    rmSync(scratchDir, { recursive: true, force: true });
    return 1;
  }
  const summary = summarize(JSON.parse(readFileSync(join(profDir, worker), 'utf8')) as CpuProfile);
  rmSync(scratchDir, { recursive: true, force: true });
  const busy = summary.totalUs - (summary.byCategory.get('idle') ?? 0);
  const perReq = (us: number): string => (us / Math.max(requests, 1)).toFixed(2);
  const categories = markdownTable(
    ['category', 'µs per request', 'share of busy time'],
    [
      ...ORDER.map((c) => [c, perReq(summary.byCategory.get(c) ?? 0), `${(((summary.byCategory.get(c) ?? 0) / busy) * 100).toFixed(1)} %`]),
      ['busy, all', perReq(busy), '100 %'],
    ],
  );
  const top = markdownTable(['function (self time)', 'µs per request', 'share of busy time'], summary.top.filter(([k]) => k !== '(idle)').map(([k, us]) => [k, perReq(us), `${((us / busy) * 100).toFixed(1)} %`]));
  console.log(`\n${categories}\n\n${top}`);
  if (process.env.BENCH_RECORD === '1') {
    const file = join(REPO_ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-${machineTag(machine)}-profile.md`);
    appendFileSync(file, `\n## ${payloadName === 'small' ? `${routeName} route` : label}, ${new Date().toISOString()}\n\n` +
      `${machine.nproc} cpu ${machine.cpuModel}, node ${machine.node}, uWS ${machine.uws}. One worker on cpu ${plan.target}, upstream and wrk (${connections} connections) on cpu ${plan.loadgen}; ` +
      `${durationS}s measured after 2s of warm-up, ${requests} requests in the profile (the worker's self time only: the primary and the kernel's share are not in it). \`npm run bench:profile\`.\n\n` +
      `${categories}\n\n${top}\n`);
    console.log(`\nrecorded ${file}`);
  }
  return 0;
}

runMain(main);
