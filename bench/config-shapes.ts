/**
 * Config shapes at two sizes (issue 21 goal 5): each generated kong.yml shape is loaded at N and at
 * 4N in a fresh process, timing the primary's load (parse + validate + compile), the snapshot's
 * encode + decode, and a worker's Runtime build (first, and again as on a reload). A linear cost
 * grows ~4× from N to 4N; a phase growing over 8× (to over 50 ms) is flagged: something is quadratic
 * in that shape.
 * Born from a hunt that found five such costs (upstream targets, certificates, latency reloads,
 * plugin chains, a route's paths; bench/results/2026-12-02-vm-2cpu-config-shapes.md).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/config-shapes.js
 *   BENCH_N (2,000), BENCH_SHAPES=a,b (all), BENCH_DIST=<other build>/dist (time another build).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { numberEnv } from './lib/knobs';
import { markdownTable } from './lib/report';
import { REPO_ROOT } from './lib/target';

type Rec = Record<string, unknown>;
type Doc = Record<string, unknown>;

const svc = (i: number, extra: Rec = {}): Rec => ({ name: `s${i}`, url: `http://h${i}.internal:8080`, ...extra });
const cert = (): { cert: string; key: string } => ({
  cert: readFileSync(join(REPO_ROOT, 'test/fixtures/tls/self-signed.crt'), 'utf8'),
  key: readFileSync(join(REPO_ROOT, 'test/fixtures/tls/self-signed.key'), 'utf8'),
});

const SHAPES: Record<string, (N: number) => Doc> = {
  // many services each with its own upstream & 4 targets
  upstreams(N: number): Doc {
    const services: Rec[] = [], upstreams: Rec[] = [];
    for (let i = 0; i < N; i++) {
      services.push({ name: `s${i}`, host: `u${i}`, routes: [{ name: `r${i}`, paths: [`/p${i}`] }] });
      upstreams.push({ name: `u${i}`, targets: [0, 1, 2, 3].map((k) => ({ target: `10.${(i >> 8) & 255}.${i & 255}.${k + 1}:80` })) });
    }
    return { services, upstreams };
  },
  upstreamsHc(N: number): Doc {
    const services: Rec[] = [], upstreams: Rec[] = [];
    for (let i = 0; i < N; i++) {
      services.push({ name: `s${i}`, host: `u${i}`, routes: [{ name: `r${i}`, paths: [`/p${i}`] }] });
      upstreams.push({ name: `u${i}`, healthchecks: { active: { healthy: { interval: 5 }, unhealthy: { interval: 5, http_failures: 2 } }, passive: { unhealthy: { http_failures: 3 } } }, targets: [0, 1, 2].map((k) => ({ target: `10.${(i >> 8) & 255}.${i & 255}.${k + 1}:80` })) });
    }
    return { services, upstreams };
  },
  oneUpstreamManyTargets(N: number): Doc {
    const targets: Rec[] = [];
    for (let i = 0; i < N; i++) targets.push({ target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80` });
    return { services: [{ name: 's', host: 'u', routes: [{ paths: ['/'] }] }], upstreams: [{ name: 'u', targets }] };
  },
  oneUpstreamManyTargetsCH(N: number): Doc {
    const targets: Rec[] = [];
    for (let i = 0; i < N; i++) targets.push({ target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80` });
    return { services: [{ name: 's', host: 'u', routes: [{ paths: ['/'] }] }], upstreams: [{ name: 'u', algorithm: 'consistent-hashing', hash_on: 'ip', targets }] };
  },
  consumerPlugins(N: number): Doc {
    // 100 routes, N consumers each with a consumer-scoped rate-limiting
    const routes: Rec[] = [];
    for (let i = 0; i < 100; i++) routes.push({ name: `r${i}`, paths: [`/p${i}`] });
    const consumers: Rec[] = [];
    for (let i = 0; i < N; i++) consumers.push({ username: `c${i}`, keyauth_credentials: [{ key: `k${i}` }], plugins: [{ name: 'rate-limiting', config: { minute: 10 + i } }] });
    return { services: [{ name: 's', url: 'http://x:80', routes }], consumers, plugins: [{ name: 'key-auth' }] };
  },
  consumerPluginsR(N: number): Doc {
    // N routes, 1000 consumers with consumer plugins
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, paths: [`/p${i}`] });
    const consumers: Rec[] = [];
    for (let i = 0; i < 1000; i++) consumers.push({ username: `c${i}`, plugins: [{ name: 'rate-limiting', config: { minute: 10 + i } }] });
    return { services: [{ name: 's', url: 'http://x:80', routes }], consumers };
  },
  acls(N: number): Doc {
    const consumers: Rec[] = [];
    for (let i = 0; i < N; i++) consumers.push({ username: `c${i}`, acls: Array.from({ length: 5 }, (_, g) => ({ group: `g${(i + g) % 50}` })) });
    return { services: [{ name: 's', url: 'http://x:80', routes: [{ paths: ['/'], plugins: [{ name: 'acl', config: { allow: ['g1'] } }] }] }], consumers };
  },
  aclsOneConsumer(N: number): Doc {
    return { services: [{ name: 's', url: 'http://x:80', routes: [{ paths: ['/'] }] }], consumers: [{ username: 'c', acls: Array.from({ length: N }, (_, g) => ({ group: `g${g}` })) }] };
  },
  sharedHost(N: number): Doc {
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, hosts: ['api.example.com'], paths: [`/p${i}`] });
    return { services: [{ name: 's', url: 'http://x:80', routes }] };
  },
  distinctHosts(N: number): Doc {
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, hosts: [`h${i}.example.com`] });
    return { services: [{ name: 's', url: 'http://x:80', routes }] };
  },
  samePathHosts(N: number): Doc {
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, hosts: [`h${i}.example.com`], paths: ['/api'] });
    return { services: [{ name: 's', url: 'http://x:80', routes }] };
  },
  regexRoutes(N: number): Doc {
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, paths: [`~/v${i}/users/(?<id>\\d+)$`], regex_priority: i % 7 });
    return { services: [{ name: 's', url: 'http://x:80', routes }] };
  },
  regexRoutesNoPrefix(N: number): Doc {
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, paths: [`~/(a|b)${i}/\\d+$`] });
    return { services: [{ name: 's', url: 'http://x:80', routes }] };
  },
  servicePlugins(N: number): Doc {
    const services: Rec[] = [];
    for (let i = 0; i < N; i++) services.push(svc(i, { routes: [{ name: `r${i}`, paths: [`/p${i}`] }], plugins: [{ name: 'cors' }, { name: 'request-size-limiting' }, { name: 'correlation-id' }] }));
    return { services };
  },
  manyServicesNoUpstream(N: number): Doc {
    const services: Rec[] = [];
    for (let i = 0; i < N; i++) services.push(svc(i, { routes: [{ name: `r${i}`, paths: [`/p${i}`] }] }));
    return { services };
  },
  tags(N: number): Doc {
    const services: Rec[] = [];
    for (let i = 0; i < N; i++) services.push(svc(i, { tags: Array.from({ length: 5 }, (_, k) => `t${(i + k) % 100}`), routes: [{ name: `r${i}`, paths: [`/p${i}`], tags: ['a', `t${i}`] }] }));
    return { services };
  },
  routesManyPaths(N: number): Doc {
    // one route with N paths
    return { services: [{ name: 's', url: 'http://x:80', routes: [{ paths: Array.from({ length: N }, (_, i) => `/p${i}`) }] }] };
  },
  routeManyHosts(N: number): Doc {
    return { services: [{ name: 's', url: 'http://x:80', routes: [{ hosts: Array.from({ length: N }, (_, i) => `h${i}.ex.com`) }] }] };
  },
  globalPlugins(N: number): Doc {
    // N routes, each with its own plugin instances of different names? plugins limited; use route-scoped
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, paths: [`/p${i}`], plugins: [{ name: 'rate-limiting', config: { minute: 5 } }] });
    return { services: [{ name: 's', url: 'http://x:80', routes }], plugins: [{ name: 'cors' }] };
  },
  keyauthCreds(N: number): Doc {
    const consumers: Rec[] = [];
    for (let i = 0; i < N; i++) consumers.push({ username: `c${i}`, keyauth_credentials: [{ key: `key-${i}` }], basicauth_credentials: [{ username: `b${i}`, password: 'x' }], jwt_secrets: [{ key: `j${i}`, secret: 's' }] });
    return { services: [{ name: 's', url: 'http://x:80', routes: [{ paths: ['/'], plugins: [{ name: 'key-auth' }, { name: 'jwt' }] }] }], consumers };
  },
  topLevelRefs(N: number): Doc {
    // entities referencing each other by name at top level (not nested)
    const services: Rec[] = [], routes: Rec[] = [], plugins: Rec[] = [];
    for (let i = 0; i < N; i++) {
      services.push(svc(i));
      routes.push({ name: `r${i}`, service: `s${i}`, paths: [`/p${i}`] });
      plugins.push({ name: 'cors', route: `r${i}` });
    }
    return { services, routes, plugins };
  },
  unusedUpstreams(N: number): Doc {
    const upstreams: Rec[] = [];
    for (let i = 0; i < N; i++) upstreams.push({ name: `u${i}` });
    return { upstreams };
  },

  consumerPluginsNN(N: number): Doc {
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, paths: [`/p${i}`] });
    const consumers: Rec[] = [];
    for (let i = 0; i < N; i++) consumers.push({ username: `c${i}`, plugins: [{ name: 'rate-limiting', config: { minute: 10 + i } }] });
    return { services: [{ name: 's', url: 'http://x:80', routes }], consumers };
  },
  latencyTargets(N: number): Doc {
    const targets: Rec[] = [];
    for (let i = 0; i < N; i++) targets.push({ target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80` });
    return { services: [{ name: 's', host: 'u', routes: [{ paths: ['/'] }] }], upstreams: [{ name: 'u', algorithm: 'latency', targets }] };
  },
  clientCerts(N: number): Doc {
    const c = cert();
    const certificates: Rec[] = [], services: Rec[] = [];
    for (let i = 0; i < N; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      certificates.push({ id, ...c });
      services.push({ name: `s${i}`, url: `https://h${i}.internal:443`, client_certificate: id, routes: [{ name: `r${i}`, paths: [`/p${i}`] }] });
    }
    return { certificates, services };
  },
  caCerts(N: number): Doc {
    const c = cert();
    const ca_certificates: Rec[] = [], services: Rec[] = [];
    for (let i = 0; i < N; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      ca_certificates.push({ id, cert: c.cert });
      services.push({ name: `s${i}`, url: `https://h${i}.internal:443`, tls_verify: true, ca_certificates: [id], routes: [{ name: `r${i}`, paths: [`/p${i}`] }] });
    }
    return { ca_certificates, services };
  },
  snisInline(N: number): Doc {
    return { certificates: [{ ...cert(), snis: Array.from({ length: N }, (_, i) => `h${i}.example.com`) }] };
  },
  snisEntities(N: number): Doc {
    const id = '00000000-0000-4000-8000-000000000001';
    return { certificates: [{ id, ...cert() }], snis: Array.from({ length: N }, (_, i) => ({ name: `h${i}.example.com`, certificate: id })) };
  },
  routeHeaders(N: number): Doc {
    const routes: Rec[] = [];
    for (let i = 0; i < N; i++) routes.push({ name: `r${i}`, headers: { 'x-tenant': [`t${i}`] } });
    return { services: [{ name: 's', url: 'http://x:80', routes }] };
  },
  consumerRoutePlugins(N: number): Doc {
    // N routes, each with a route+consumer plugin for a distinct consumer
    const routes: Rec[] = [], consumers: Rec[] = [], plugins: Rec[] = [];
    for (let i = 0; i < N; i++) {
      routes.push({ name: `r${i}`, paths: [`/p${i}`] });
      consumers.push({ username: `c${i}` });
      plugins.push({ name: 'rate-limiting', route: `r${i}`, consumer: `c${i}`, config: { minute: 5 } });
    }
    return { services: [{ name: 's', url: 'http://x:80', routes }], consumers, plugins };
  },
};

interface Timing {
  load: number;
  ipc: number;
  runtime: number;
  runtime2: number;
}

/** In a child: load `shape` at `n` with the build under `dist`, print the timings as JSON. */
function measure(dist: string, shape: string, n: number): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { loadConfigText } = require(join(dist, 'src/primary/config/load-config')) as typeof import('../src/primary/config/load-config');
  const { encodeApply, decodeMessage } = require(join(dist, 'src/shared/protocol')) as typeof import('../src/shared/protocol');
  const { Runtime } = require(join(dist, 'src/worker/runtime')) as typeof import('../src/worker/runtime');
  const { UpstreamPools } = require(join(dist, 'src/worker/proxy/upstream-pool')) as typeof import('../src/worker/proxy/upstream-pool');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const text = stringify({ _format_version: '3.0', ...SHAPES[shape](n) }, { lineWidth: 0 });
  const t = (): number => performance.now();
  let at = t();
  const loaded = loadConfigText(text, 'shape.yml', {}, 1);
  const load = t() - at;
  at = t();
  const msg = decodeMessage<{ kind: 'config:apply'; snapshot: import('../src/shared/snapshot').WorkerSnapshot }>(encodeApply(loaded.snapshot));
  const ipc = t() - at;
  if (msg === null) throw new Error('the snapshot did not decode');
  const pools = new UpstreamPools();
  at = t();
  new Runtime(msg.snapshot, pools);
  const runtime = t() - at;
  at = t();
  new Runtime(msg.snapshot, pools);
  const runtime2 = t() - at;
  process.stdout.write(JSON.stringify({ load, ipc, runtime, runtime2 } satisfies Timing));
  void pools.closeAll();
}

function main(): void {
  const n = Math.floor(numberEnv('BENCH_N', 2_000, 1));
  const dist = process.env.BENCH_DIST ?? join(REPO_ROOT, 'dist');
  const only = process.env.BENCH_SHAPES ? process.env.BENCH_SHAPES.split(',') : Object.keys(SHAPES);
  const rows: string[][] = [];
  const flagged: string[] = [];
  for (const shape of only) {
    if (SHAPES[shape] === undefined) throw new Error(`no shape ${shape}: ${Object.keys(SHAPES).join(', ')}`);
    const run = (size: number): Timing => JSON.parse(execFileSync(process.execPath, [__filename, 'measure', dist, shape, String(size)], { encoding: 'utf8', maxBuffer: 1 << 20 })) as Timing;
    const small = run(n);
    const large = run(4 * n);
    const growth = (k: keyof Timing): number => large[k] / Math.max(small[k], 1);
    // Below 50 ms at 4N a ratio is mostly JIT warm-up and noise.
    if ((['load', 'runtime', 'runtime2'] as const).some((k) => growth(k) > 8 && large[k] > 50)) flagged.push(shape);
    const cell = (k: keyof Timing): string => `${small[k].toFixed(0)} → ${large[k].toFixed(0)} (${growth(k).toFixed(1)}×)`;
    rows.push([shape, cell('load'), cell('ipc'), cell('runtime'), cell('runtime2')]);
    console.log(`${shape.padEnd(24)} load ${cell('load')}  runtime ${cell('runtime')}  reload runtime ${cell('runtime2')}`);
  }
  console.log(`\nN = ${n} and 4N = ${4 * n}; ms, fresh process per size; build ${dist}\n`);
  console.log(markdownTable(['shape', 'load (primary)', 'encode + decode', 'Runtime (worker)', 'Runtime again (reload)'], rows));
  console.log(flagged.length === 0 ? '\nno shape grew more than 8× from N to 4N' : `\ngrew more than 8× from N to 4N (quadratic?): ${flagged.join(', ')}`);
}

if (process.argv[2] === 'measure') measure(process.argv[3], process.argv[4], Number(process.argv[5]));
else main();
