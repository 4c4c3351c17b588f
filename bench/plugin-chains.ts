/**
 * Per-route plugin chains at scale (worker/pipeline/chain.ts), the work a worker does per snapshot:
 * BENCH_ROUTES routes (10,000) over a tenth as many services, each route with one route-scoped
 * instance (request-termination) and every tenth service with a service-scoped one (cors), one
 * global (correlation-id) and BENCH_CONSUMER_PLUGINS (1,000) instances scoped to a consumer alone
 * (request-termination, one consumer each: what per-consumer rate limits look like). Before
 * ChainIndex each route's chain ranked every instance of the snapshot: quadratic in the count.
 *
 * Rows: "scope index" (one ChainIndex for the snapshot, as runtime.ts does) and "scan every
 * instance" (the same buildChain given a ChainIndex that offers every instance to every route: the
 * ranking work of the code before, without its per-instance filtering), and with
 * BENCH_BASE_DIST=<other build>/dist "base build": that build's buildChain, called as its
 * runtime.ts called it (a build before ChainIndex scans every instance per route). Interleaved
 * rounds, medians, wall ms per snapshot.
 * Knobs: BENCH_ROUTES (10,000), BENCH_CONSUMER_PLUGINS (1,000), BENCH_ROUNDS (5). `npm run build && node dist/bench/plugin-chains.js`
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PluginSnap, WorkerSnapshot } from '../src/shared/snapshot';
import type { PluginEnv } from '../src/plugins/env';
import { buildChain, ChainIndex, configureInstances } from '../src/worker/pipeline/chain';
import { numberEnv } from './lib/knobs';
import { median } from './lib/rounds';
import { markdownTable } from './lib/report';

function instance(id: string, name: string, scope: { route?: number; service?: number; consumer?: number }, config: Record<string, unknown>): PluginSnap {
  return { id, name, instanceName: null, enabled: true, service: scope.service ?? -1, route: scope.route ?? -1, consumer: scope.consumer ?? -1, protocols: ['http', 'https'], config, tags: [] };
}

/** A ChainIndex that offers every instance to every route: the scan the code did before. */
class EveryInstance extends ChainIndex {
  readonly #all: number[];
  constructor(snapshot: Pick<WorkerSnapshot, 'plugins'>, confs: readonly unknown[], env: PluginEnv) {
    super(snapshot, confs, env);
    this.#all = snapshot.plugins.map((_, i) => i);
  }
  override candidates(): readonly number[] {
    return this.#all;
  }
}

function main(): void {
  const routes = Math.floor(numberEnv('BENCH_ROUTES', 10_000, 1));
  const rounds = Math.floor(numberEnv('BENCH_ROUNDS', 5, 1));
  const consumerPlugins = Math.floor(numberEnv('BENCH_CONSUMER_PLUGINS', 1_000, 0));
  const services = Math.max(1, Math.ceil(routes / 10));
  const plugins: PluginSnap[] = [];
  for (let r = 0; r < routes; r++) plugins.push(instance(`rt${r}`, 'request-termination', { route: r }, { status_code: 200, message: `r${r}`, content_type: null, body: null, echo: false, trigger: null }));
  for (let s = 0; s < services; s += 10) plugins.push(instance(`cors${s}`, 'cors', { service: s }, { origins: ['*'], methods: ['GET'], headers: null, exposed_headers: null, credentials: false, max_age: null, preflight_continue: false, private_network: false }));
  plugins.push(instance('cid', 'correlation-id', {}, { header_name: 'x-id', generator: 'uuid', echo_downstream: false }));
  for (let c = 0; c < consumerPlugins; c++) plugins.push(instance(`ct${c}`, 'request-termination', { consumer: c }, { status_code: 429, message: `c${c}`, content_type: null, body: null, echo: false, trigger: null }));
  const snapshot = { plugins, routes: Array.from({ length: routes }, (_, i) => ({ id: `r${i}` })), services: Array.from({ length: services }, (_, i) => ({ id: `s${i}` })) } as unknown as WorkerSnapshot;
  const env = { consumerId: (i: number) => `c${i}` } as unknown as PluginEnv;
  const confs = configureInstances(snapshot, env);
  type Build = typeof buildChain;
  const rows: Array<{ name: string; make: () => ChainIndex | undefined; build: Build }> = [
    { name: 'scope index', make: () => new ChainIndex(snapshot, confs, env), build: buildChain },
    { name: 'scan every instance', make: () => new EveryInstance(snapshot, confs, env), build: buildChain },
  ];
  const baseDist = process.env.BENCH_BASE_DIST;
  if (baseDist) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const base = require(join(baseDist, 'src/worker/pipeline/chain')) as typeof import('../src/worker/pipeline/chain');
    rows.push({ name: 'base build', make: () => (base.ChainIndex ? new base.ChainIndex(snapshot, confs, env) : undefined), build: base.buildChain });
  }
  const ms = new Map<string, number[]>(rows.map((r) => [r.name, []]));
  let chains = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const row of rows) {
      const t0 = performance.now();
      const index = row.make();
      chains = 0;
      for (let r = 0; r < routes; r++) if (row.build(snapshot, env, confs, r, Math.floor(r / 10), undefined, index) !== null) chains++;
      const took = performance.now() - t0;
      ms.get(row.name)!.push(took);
      console.log(`round ${round} ${row.name.padEnd(20)} ${took.toFixed(0)} ms (${chains} chains)`);
    }
  }
  console.log(`\n${routes} routes, ${services} services, ${plugins.length} plugin instances (${consumerPlugins} scoped to a consumer alone); medians of ${rounds} rounds\n`);
  console.log(markdownTable(['row', 'ms per snapshot (median)', 'µs per route'], rows.map((r) => {
    const m = median(ms.get(r.name)!);
    return [r.name, m.toFixed(0), ((m * 1000) / routes).toFixed(1)];
  })));
}

main();
