/**
 * Router micro-benchmark: Hyperway's Router against find-my-way, same process, same route table.
 *
 *   node dist/bench/router-match.js
 *
 * Knobs (environment): ROUTES (default 10000), HOST_ONLY (host-only routes added, default 1000),
 * BENCH_SECONDS per case (default 2), WARMUP_SECONDS per case (default 0.5).
 *
 * The table: mostly plain prefix routes `/svc<i>/v1/items`, every 10th with a host, every 10th
 * with methods, every 200th a regex `~/r<i>/(?<id>\d+)/detail`. find-my-way gets the equivalent
 * `/svc<i>/v1/items` + `/svc<i>/v1/items/*` (host routes with a host constraint, regexes as a
 * `:id(^\d+)` parameter). Besides, HOST_ONLY routes with only a host `ho<i>.example.com` (Kong
 * ranks them before path-only routes, so they are candidates for every request; find-my-way takes
 * at most 31 host constraints per path, so it has no row there). Cases: hits on plain prefix routes, hits on regex routes, misses,
 * hits on host-only routes.
 */
import { performance, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import FindMyWay from 'find-my-way';
import type { RouteSnap } from '../src/shared/snapshot';
import { Router, normalizePath } from '../src/worker/router';
import { route } from '../test/unit/router/factory';

const ROUTES = Number(process.env.ROUTES ?? 10_000);
const HOST_ONLY = Number(process.env.HOST_ONLY ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 0.5);
const SAMPLES = 4096;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The unit tests' route (Kong's defaults) with an id from `i`, so ids follow the table's order. */
function routeSnap(i: number, over: Partial<RouteSnap>): RouteSnap {
  return route({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, ...over });
}

const isRegex = (i: number) => i % 200 === 0;
const hasHost = (i: number) => i % 10 === 1;
const hasMethods = (i: number) => i % 10 === 2;

// ---- build both routers ---------------------------------------------------------------------
const snaps: RouteSnap[] = [];
for (let i = 0; i < ROUTES; i++) {
  if (isRegex(i)) snaps.push(routeSnap(i, { paths: [`~/r${i}/(?<id>\\d+)/detail`] }));
  else if (hasHost(i)) snaps.push(routeSnap(i, { paths: [`/svc${i}/v1/items`], hosts: [`h${i}.example.com`] }));
  else if (hasMethods(i)) snaps.push(routeSnap(i, { paths: [`/svc${i}/v1/items`], methods: ['GET', 'POST'] }));
  else snaps.push(routeSnap(i, { paths: [`/svc${i}/v1/items`] }));
}

for (let h = 0; h < HOST_ONLY; h++) snaps.push(routeSnap(ROUTES + h, { hosts: [`ho${h}.example.com`] }));

let t0 = performance.now();
const hyperway = new Router(snaps);
const hyperwayBuildMs = performance.now() - t0;

const handler = () => undefined;
t0 = performance.now();
const fmw = FindMyWay();
for (let i = 0; i < ROUTES; i++) {
  const methods: FindMyWay.HTTPMethod[] = hasMethods(i) ? ['GET', 'POST'] : ['GET'];
  if (isRegex(i)) {
    fmw.on(methods, `/r${i}/:id(^\\d+)/detail`, handler);
    fmw.on(methods, `/r${i}/:id(^\\d+)/detail/*`, handler);
  } else if (hasHost(i)) {
    const options = { constraints: { host: `h${i}.example.com` } };
    fmw.on(methods, `/svc${i}/v1/items`, options, handler);
    fmw.on(methods, `/svc${i}/v1/items/*`, options, handler);
  } else {
    fmw.on(methods, `/svc${i}/v1/items`, handler);
    fmw.on(methods, `/svc${i}/v1/items/*`, handler);
  }
}
const fmwBuildMs = performance.now() - t0;

// ---- request samples (fresh strings, as a server would hand them over) ------------------------
function samples(make: (n: number) => string): string[] {
  const out: string[] = [];
  for (let s = 0; s < SAMPLES; s++) out.push(make(s).split('').join(''));
  return out;
}
const plainIds: number[] = [];
for (let i = 0; i < ROUTES; i++) if (!isRegex(i) && !hasHost(i)) plainIds.push(i);
const regexIds: number[] = [];
for (let i = 0; i < ROUTES; i++) if (isRegex(i)) regexIds.push(i);

const prefixPaths = samples((s) => {
  const i = plainIds[(s * 7919) % plainIds.length];
  return s % 2 === 0 ? `/svc${i}/v1/items` : `/svc${i}/v1/items/${s}`;
});
const regexPaths = samples((s) => `/r${regexIds[(s * 31) % regexIds.length]}/${s}/detail`);
const missPaths = samples((s) => (s % 2 === 0 ? `/nosuch/${s}/items` : `/svc${s}/v2/other`));
// For the host-only case the samples are Host header values (path `/`).
const hostOnlyHosts = HOST_ONLY > 0 ? samples((s) => `ho${(s * 7919) % HOST_ONLY}.example.com`) : [];

// Sanity: both routers agree on what is a hit.
for (let s = 0; s < 64; s++) {
  if (hyperway.match('GET', 'bench.local', prefixPaths[s], [], 8000) === null) throw new Error('prefix miss ' + prefixPaths[s]);
  if (hyperway.match('GET', 'bench.local', regexPaths[s], [], 8000) === null) throw new Error('regex miss ' + regexPaths[s]);
  if (hyperway.match('GET', 'bench.local', missPaths[s], [], 8000) !== null) throw new Error('unexpected hit ' + missPaths[s]);
  if (HOST_ONLY > 0 && hyperway.match('GET', hostOnlyHosts[s], '/', [], 8000)?.routeIndex !== ROUTES + ((s * 7919) % HOST_ONLY)) throw new Error('host-only miss ' + hostOnlyHosts[s]);
  if (fmw.find('GET', prefixPaths[s]) === null) throw new Error('fmw prefix miss ' + prefixPaths[s]);
  if (fmw.find('GET', regexPaths[s]) === null) throw new Error('fmw regex miss ' + regexPaths[s]);
  if (fmw.find('GET', missPaths[s]) !== null) throw new Error('fmw unexpected hit ' + missPaths[s]);
}

// ---- measurement ---------------------------------------------------------------------------
const MASK = SAMPLES - 1;
let sink = 0;
const NO_HEADERS: string[] = [];

type Lookup = (path: string) => unknown;

function run(lookup: Lookup, paths: string[], seconds: number): { ops: number; ns: number } {
  let ops = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  let now = start;
  while (now < until) {
    for (let k = 0; k < 20_000; k++) {
      if (lookup(paths[k & MASK]) !== null) sink++;
    }
    ops += 20_000;
    now = performance.now();
  }
  const ms = now - start;
  return { ops: (ops / ms) * 1000, ns: (ms * 1e6) / ops };
}

function bench(lookup: Lookup, paths: string[]): { ops: number; ns: number } {
  run(lookup, paths, WARMUP_SECONDS);
  return run(lookup, paths, SECONDS);
}

let gcEvents = 0;
const observer = new PerformanceObserver((list) => {
  gcEvents += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });

/** Heap bytes per lookup over a loop short enough to finish without a scavenge. */
async function allocPerOp(lookup: Lookup, paths: string[], n = 50_000): Promise<{ bytes: number; gcs: number }> {
  for (let k = 0; k < 50_000; k++) lookup(paths[k & MASK]);
  gc();
  // GC entries are delivered asynchronously: let the earlier ones arrive before counting.
  await new Promise((r) => setTimeout(r, 50));
  const gcsBefore = gcEvents;
  const before = process.memoryUsage().heapUsed;
  for (let k = 0; k < n; k++) {
    if (lookup(paths[k & MASK]) !== null) sink++;
  }
  const after = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, 50));
  return { bytes: (after - before) / n, gcs: gcEvents - gcsBefore };
}

const hw: Lookup = (p) => hyperway.match('GET', 'bench.local', p, NO_HEADERS, 8000);
const hwNormalized: Lookup = (p) => {
  const n = normalizePath(p);
  return n === null ? null : hyperway.match('GET', 'bench.local', n, NO_HEADERS, 8000);
};
const fm: Lookup = (p) => fmw.find('GET', p);
const hwHost: Lookup = (h) => hyperway.match('GET', h, '/', NO_HEADERS, 8000);

async function main(): Promise<void> {
  console.log(`routes: ${ROUTES} + ${HOST_ONLY} host-only   build: hyperway ${hyperwayBuildMs.toFixed(0)} ms, find-my-way ${fmwBuildMs.toFixed(0)} ms`);
  console.log(`node ${process.version}, ${SECONDS}s per case after ${WARMUP_SECONDS}s warm-up\n`);

  const rows: [string, Lookup, Lookup | null, string[]][] = [
    ['prefix hit', hw, fm, prefixPaths],
    ['prefix hit + normalizePath', hwNormalized, fm, prefixPaths],
    ['regex hit', hw, fm, regexPaths],
    ['miss', hw, fm, missPaths],
    ...(HOST_ONLY > 0 ? ([['host-only hit', hwHost, null, hostOnlyHosts]] as [string, Lookup, null, string[]][]) : []),
  ];
  const header = ['case', 'hyperway ops/s', 'ns/op', 'find-my-way ops/s', 'ns/op', 'hyperway/fmw'];
  const lines: string[][] = [];
  for (const [name, a, b, paths] of rows) {
    const x = bench(a, paths);
    const y = b === null ? null : bench(b, paths);
    lines.push([
      name,
      Math.round(x.ops).toLocaleString('en-US'),
      x.ns.toFixed(1),
      y === null ? '—' : Math.round(y.ops).toLocaleString('en-US'),
      y === null ? '—' : y.ns.toFixed(1),
      y === null ? '—' : (x.ops / y.ops).toFixed(2) + 'x',
    ]);
  }
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));

  console.log('\nheap bytes allocated per lookup (50k lookups after gc; gcs = collections during the loop):');
  for (const [name, lookup, paths] of [
    ['baseline (no lookup)', (p: string) => (p.length > 0 ? null : p), prefixPaths],
    ['hyperway prefix hit', hw, prefixPaths],
    ['hyperway miss', hw, missPaths],
    ['hyperway regex hit', hw, regexPaths],
    ...(HOST_ONLY > 0 ? ([['hyperway host-only hit', hwHost, hostOnlyHosts]] as [string, Lookup, string[]][]) : []),
    ['find-my-way prefix hit', fm, prefixPaths],
  ] as [string, Lookup, string[]][]) {
    const { bytes, gcs } = await allocPerOp(lookup, paths);
    console.log(`  ${name.padEnd(24)} ${bytes.toFixed(2).padStart(8)} B/op   gcs ${gcs}`);
  }
  observer.disconnect();
  if (sink === -1) console.log(sink);
}

void main();
