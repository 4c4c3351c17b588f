/**
 * Micro-benchmarks of Hyperway's own per-request JS on the worker path (issue 21, "known costs"):
 * no network, no uWS, no undici — fake request/response objects drive the real functions of a
 * build. With BENCH_BASE_DIST=<other checkout>/dist the same rows also run against that build, in
 * the same process, interleaved row by row, and the table gives the same-round ratio new ÷ base
 * (robust on a noisy machine, where absolute ns are not).
 * Knobs: BENCH_MICRO_MS (ms per row per round, 300), BENCH_ROUNDS (7), BENCH_ROWS (1-based list).
 * `npm run build && BENCH_BASE_DIST=/path/to/base/dist node dist/bench/hot-micro.js`
 */
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { numberEnv } from './lib/knobs';
import { median } from './lib/rounds';
import { markdownTable } from './lib/report';

type Any = any;

/** The modules a row drives, from one build's dist/ (this one, or BENCH_BASE_DIST). */
interface Build {
  name: string;
  context: Any;
  request: Any;
  headers: Any;
  response: Any;
  cidr: Any;
  body: Any;
}

function load(name: string, dist: string): Build {
  const m = (p: string): Any => require(join(dist, 'src', p));
  return {
    name, context: m('worker/server/context'), request: m('worker/server/request'), headers: m('worker/proxy/headers'),
    response: m('worker/proxy/stream-response'), cidr: m('lib/cidr'), body: m('worker/proxy/stream-request'),
  };
}

const noop = (): void => undefined;
const ADDRESS = Buffer.from('0000:0000:0000:0000:0000:ffff:7f00:0001', 'latin1');
const fakeRes: Any = {
  pause: noop, resume: noop, writeStatus: () => fakeRes, writeHeader: () => fakeRes, write: () => true, end: () => fakeRes,
  endWithoutBody: () => fakeRes, tryEnd: () => [true, true], close: () => fakeRes, getWriteOffset: () => 0, onWritable: () => fakeRes,
  onAborted: () => fakeRes, onData: () => fakeRes, cork(cb: () => void) { cb(); return fakeRes; },
  // uWS returns a fresh copy each call.
  getRemoteAddressAsText: () => ADDRESS.buffer.slice(ADDRESS.byteOffset, ADDRESS.byteOffset + ADDRESS.length),
};
const slot = { requestStarted: noop, requestFinished: noop };

function runtime(b: Build, trustedIps: string[]): Any {
  return {
    headers: { serverTokens: true, via: true, upstreamLatency: true, proxyLatency: true, responseLatency: true, requestId: false, upstreamStatus: false, upstreamRequestId: false },
    settings: { realIpHeader: 'x-real-ip', realIpRecursive: false },
    listenerPortText: '8000', tlsPortText: '0', trusted: b.cidr.compileIpMatcher(trustedIps),
  };
}

/**
 * uWS hands over fresh strings for every request (no interned constants, no cached hash): each
 * batch of BATCH operations gets its own, made before the batch is timed.
 */
const fresh = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');
const BATCH = 2048;

/** A row: prepare() (untimed) readies BATCH operations, op(i) is operation i of the batch. */
interface Row {
  prepare(): void;
  op(i: number): void;
}

function freshHeaders(headers: Array<[string, string]>): string[][] {
  return Array.from({ length: BATCH }, () => headers.flatMap(([k, v]) => [fresh(k), fresh(v)]));
}

function fakeReq(): Any {
  let current: string[] = [];
  return {
    set(h: string[]) { current = h; },
    getCaseSensitiveMethod: () => 'GET', getMethod: () => 'get', getUrl: () => '/api/items', getQuery: () => undefined,
    getHeader: () => '',
    forEach(cb: (k: string, v: string) => void) {
      const h = current;
      for (let i = 0; i < h.length; i += 2) cb(h[i], h[i + 1]);
    },
  };
}

const WRK: Array<[string, string]> = [['host', '127.0.0.1:8000']];
const BROWSER: Array<[string, string]> = [
  ['host', 'api.example.com'], ['connection', 'keep-alive'], ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'],
  ['accept', 'application/json, text/plain, */*'], ['accept-encoding', 'gzip, deflate, br'], ['accept-language', 'en-US,en;q=0.9'],
  ['origin', 'https://app.example.com'], ['referer', 'https://app.example.com/dashboard'], ['cookie', 'session=abcdef0123456789; theme=dark'],
  ['sec-fetch-mode', 'cors'], ['sec-fetch-site', 'same-site'], ['authorization', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc'],
];
const BEHIND_LB: Array<[string, string]> = [
  ['host', 'api.example.com'], ['x-forwarded-for', '203.0.113.7'], ['x-forwarded-proto', 'https'], ['x-forwarded-port', '443'],
  ['x-real-ip', '203.0.113.7'], ['user-agent', 'curl/8.5.0'], ['accept', '*/*'], ['x-request-id', '5f1c0e2a'],
];

/** copyRequest + upstreamHeaders: the client head from uWS to the list undici gets. */
function clientHead(headers: Array<[string, string]>, trusted: boolean): (b: Build) => Row {
  return (b) => {
    const rt = runtime(b, trusted ? ['10.0.0.0/8'] : []);
    const req = fakeReq();
    let sets: string[][] = [];
    return {
      prepare() { sets = freshHeaders(headers); },
      op(i) {
        req.set(sets[i]);
        const ctx = new b.context.RequestContext(fakeRes, rt, slot);
        b.request.copyRequest(ctx, req);
        ctx.remote = ctx.realIp = '10.0.0.1';
        ctx.trusted = trusted;
        b.headers.upstreamHeaders(ctx, 'upstream.internal:8080');
      },
    };
  };
}

const RESPONSE = ['Content-Type', 'application/json', 'Content-Length', '1234', 'Date', 'Tue, 01 Dec 2026 08:00:00 GMT', 'Server', 'nginx',
  'Connection', 'keep-alive', 'Cache-Control', 'no-cache', 'ETag', '"abc123"', 'Vary', 'Accept-Encoding', 'X-Request-Id', '5f1c0e2a'].map((s) => Buffer.from(s, 'latin1'));

/** startResponse + writeHead: the upstream's head classified and written (HEAD: no microtask). */
function responseHead(b: Build): Row {
  const rt = runtime(b, []);
  return {
    prepare: noop,
    op() {
      const r = new b.response.StreamedResponse(fakeRes, rt, slot);
      r.method = 'HEAD';
      r.startResponse(200, RESPONSE);
    },
  };
}

/** The matcher as the request path calls it: a fresh string each time, `ips` in turn. */
function trustedMatch(ips: string[]): (b: Build) => Row {
  return (b) => {
    const m = b.cidr.compileIpMatcher(['10.0.0.0/8', '192.168.0.0/16', '::1']);
    let texts: string[] = [];
    return {
      prepare() { texts = Array.from({ length: BATCH }, (_, i) => fresh(ips[i % ips.length])); },
      op(i) { if (m(texts[i]) === undefined) throw new Error('unreachable'); },
    };
  };
}

/** ctx.remote as the request handler fills it. */
function addressText(b: Build): Row {
  const convert: (res: Any) => string = b.context.clientAddress ?? ((res: Any) => Buffer.from(res.getRemoteAddressAsText()).toString('latin1'));
  return {
    prepare: noop,
    op() { if (convert(fakeRes).length === 0) throw new Error('unreachable'); },
  };
}

/** A streamed upload (request_buffering off): the per-request reader, its uWS handler, one try's stream, one chunk through. */
function bodySetup(b: Build): Row {
  const rt = runtime(b, []);
  const owned = b.context.clientAddress !== undefined; // the build whose RequestBody takes its owner, not a bound function
  const chunk = new Uint8Array(512).fill(97);
  return {
    prepare: noop,
    op() {
      const ex = new b.context.RequestContext(fakeRes, rt, slot);
      ex.onWriteTimeout = noop;
      const body = new b.body.RequestBody(fakeRes, 60_000, owned ? ex : ex.onWriteTimeout.bind(ex));
      fakeRes.onData(body.onData.bind(body));
      const s = body.stream();
      body.onData(chunk.buffer.slice(0), true);
      s.read();
      body.discard();
    },
  };
}

const ROWS: Array<[string, (b: Build) => Row]> = [
  ['client head → upstream list: wrk (Host only)', clientHead(WRK, false)],
  ['client head → upstream list: browser, 12 headers', clientHead(BROWSER, false)],
  ['client head → upstream list: trusted LB, 8 headers with X-Forwarded-*', clientHead(BEHIND_LB, true)],
  ['response head, 9 headers: classify + write', responseHead],
  ['trusted_ips match: one IPv4 client', trustedMatch(['10.1.2.3'])],
  ['trusted_ips match: uWS IPv6 text, one client', trustedMatch(['0000:0000:0000:0000:0000:ffff:7f00:0001'])],
  ['trusted_ips match: two clients alternating (v4, v6)', trustedMatch(['10.1.2.3', '0000:0000:0000:0000:0000:ffff:c0a8:0001'])],
  ['client address ArrayBuffer → text', addressText],
  ['streamed body: setup + one chunk', bodySetup],
];

/** ns per operation over whole batches, until `ms` of timed work. */
function measure(row: Row, ms: number): number {
  let n = 0;
  let timed = 0;
  while (timed < ms) {
    row.prepare();
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) row.op(i);
    timed += performance.now() - t0;
    n += BATCH;
  }
  return (timed * 1e6) / n;
}

function main(): void {
  const ms = numberEnv('BENCH_MICRO_MS', 300, 10);
  const rounds = numberEnv('BENCH_ROUNDS', 7, 1);
  const only = process.env.BENCH_ROWS?.split(',');
  const builds = [load('this', resolve(__dirname, '..'))];
  if (process.env.BENCH_BASE_DIST) builds.push(load('base', resolve(process.env.BENCH_BASE_DIST)));
  const rows = ROWS.filter((_, i) => only === undefined || only.includes(String(i + 1)))
    .map(([name, make]) => ({ name, fns: builds.map((b) => make(b)), ns: builds.map(() => [] as number[]) }));
  for (const r of rows) for (const fn of r.fns) measure(fn, ms); // warm-up: JIT
  for (let round = 0; round < rounds; round++) {
    for (const r of rows) {
      // Alternate which build goes first, so neither always runs right after the other's GC.
      for (let k = 0; k < r.fns.length; k++) {
        const j = (k + round) % r.fns.length;
        r.ns[j].push(measure(r.fns[j], ms));
      }
    }
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
  }
  const head = ['row', ...builds.map((b) => `${b.name} ns/op (median)`)];
  if (builds.length === 2) head.push('this ÷ base (median of same-round ratios)');
  console.log(markdownTable(head, rows.map((r) => {
    const cells = [r.name, ...r.ns.map((xs) => median(xs).toFixed(0))];
    if (builds.length === 2) cells.push(median(r.ns[0].map((x, i) => x / r.ns[1][i])).toFixed(2));
    return cells;
  })));
}

main();
