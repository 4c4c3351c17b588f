// A bounded fuzz run (issue 19): randomly mutated request lines, headers and chunk framing sent on
// raw sockets to the real 2-worker gateway for a few seconds. It asserts: no worker dies (pids and
// restarts unchanged), every reply is a valid HTTP response or a close (or, where uWS 20.30 drops
// a request itself, nothing), and the upstream — a strict parser of its own — never receives a
// request whose framing is ambiguous, a request smuggled inside a body, or one client request
// twice. HYPERWAY_FUZZ_MS lengthens the run; HYPERWAY_FUZZ_SEED replays one.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { parseRawResponse } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';

const RUN_MS = Number(process.env.HYPERWAY_FUZZ_MS ?? 3000);
const SEED = Number(process.env.HYPERWAY_FUZZ_SEED ?? Date.now() % 2 ** 31);
const PARALLEL = 8;
/** How long a connection that got nothing back is watched before it counts as left unanswered. */
const SILENCE_MS = 300;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the upstream: a strict HTTP/1.1 request parser -------------------------------------------

interface Seen {
  method: string;
  path: string;
  bodyLength: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** One request from `buf`: the record, null while incomplete, or a string saying what is wrong. */
function parseStrict(buf: Buffer): { seen: Seen; consumed: number } | null | string {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return buf.length > 256 * 1024 ? 'head never ends' : null;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^([^ ]+) (\/[^ ]*) HTTP\/1\.1$/.exec(lines[0]);
  if (m === null || !TOKEN.test(m[1])) return `bad request line ${JSON.stringify(lines[0].slice(0, 100))}`;
  let cl: string | null = null;
  let te: string | null = null;
  let hosts = 0;
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0 || !TOKEN.test(line.slice(0, i))) return `bad header line ${JSON.stringify(line.slice(0, 100))}`;
    const name = line.slice(0, i).toLowerCase();
    const value = line.slice(i + 1).trim();
    if (!FIELD_VALUE.test(value)) return `control bytes in ${name}: ${JSON.stringify(value.slice(0, 100))}`;
    if (name === 'content-length') {
      if (cl !== null || !/^\d+$/.test(value)) return `Content-Length ${JSON.stringify(value)} (again: ${cl !== null})`;
      cl = value;
    } else if (name === 'transfer-encoding') {
      if (te !== null || value.toLowerCase() !== 'chunked') return `Transfer-Encoding ${JSON.stringify(value)}`;
      te = value;
    } else if (name === 'host') hosts++;
  }
  if (hosts !== 1) return `${hosts} Host headers`;
  if (cl !== null && te !== null) return 'Content-Length with Transfer-Encoding';
  const rest = buf.subarray(headEnd + 4);
  const seen = (bodyLength: number): Seen => ({ method: m[1], path: m[2], bodyLength });
  if (te !== null) {
    let off = 0;
    let total = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', off);
      if (eol < 0) return null;
      const size = rest.subarray(off, eol).toString('latin1');
      if (!/^[0-9a-fA-F]{1,8}(;[!#$%&'*+\-.^_`|~0-9A-Za-z=]*)?$/.test(size)) return `chunk size ${JSON.stringify(size)}`;
      const n = parseInt(size, 16);
      if (n === 0) {
        if (rest.length < eol + 4) return null;
        if (rest.subarray(eol + 2, eol + 4).toString('latin1') !== '\r\n') return 'trailers or junk after the last chunk';
        return { seen: seen(total), consumed: headEnd + 4 + eol + 4 };
      }
      if (rest.length < eol + 2 + n + 2) return null;
      if (rest.subarray(eol + 2 + n, eol + 4 + n).toString('latin1') !== '\r\n') return 'chunk not followed by CRLF';
      total += n;
      off = eol + 4 + n;
    }
  }
  const n = cl === null ? 0 : Number(cl);
  if (rest.length < n) return null;
  return { seen: seen(n), consumed: headEnd + 4 + n };
}

interface StrictUpstream {
  port: number;
  requests: Seen[];
  violations: string[];
  close(): Promise<void>;
}

function startStrictUpstream(): Promise<StrictUpstream> {
  const requests: Seen[] = [];
  const violations: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const r = parseStrict(buf);
        if (r === null) return;
        if (typeof r === 'string') {
          violations.push(r);
          sock.destroy();
          return;
        }
        buf = buf.subarray(r.consumed);
        requests.push(r.seen);
        sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        port,
        requests,
        violations,
        close: () => new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
      });
    });
  });
}

/**
 * The requests a strict parser finds in a client payload, in order, up to the first thing it
 * refuses: what a careful proxy in front of the gateway would have forwarded as requests.
 */
function strictRequests(payload: Buffer): Seen[] {
  const out: Seen[] = [];
  let buf = payload;
  for (;;) {
    const r = parseStrict(buf);
    if (r === null || typeof r === 'string') return out;
    out.push(r.seen);
    buf = buf.subarray(r.consumed);
  }
}

// ---- the client: mutated requests -------------------------------------------------------------

/** The request a fuzz case starts from; `/fz/<id>-` tags it, and every body hides a request line. */
/** A check on the tag, so that a mutated digit cannot pass one case's request off as another's. */
function tagOf(id: number): string {
  return `${id}-${(Math.imul(id + 1, 0x2f6b) >>> 0).toString(16).slice(-4)}`;
}

function baseRequest(rand: () => number, id: number): string {
  const tag = tagOf(id);
  const inner = `GET /fz-inner/${tag}- HTTP/1.1\r\nHost: x\r\n\r\n`;
  switch (Math.floor(rand() * 5)) {
    case 4: // two lengths: a proxy reading the second would send `inner` as this request's body
      return `POST /fz/${tag}- HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`;
    case 0:
      return `GET /fz/${tag}-?q=1 HTTP/1.1\r\nHost: a\r\nX-A: b\r\nConnection: keep-alive\r\n\r\n`;
    case 1:
      return `POST /fz/${tag}- HTTP/1.1\r\nHost: a\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`;
    case 2:
      return `POST /fz/${tag}- HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
    default:
      return `PUT /fz/${tag}- HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
  }
}

const SNIPPETS = [
  '\r\n', '\n', '\r', ' ', '\t', ',', ':', '\x00', '\x7f', '\x01', '\xff', '#', '/..', '%00', '%2e%2e/',
  'Content-Length: 5\r\n', 'Content-Length: 0\r\n', 'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: xchunked\r\n',
  'Host: b\r\n', 'Connection: close, X-A\r\n', ' 5', '5 ', '0x5', '-1', 'ffffffffffffffffffff', '0\r\n\r\n', ';ext=1',
  ' chunked', 'chunked, chunked', '\r\n ', 'GET /fz-inner/0- HTTP/1.1\r\nHost: x\r\n\r\n', 'TRACE', 'CONNECT', 'HTTP/1.0',
];

function mutate(rand: () => number, s: string): string {
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rand() * (s.length + 1));
    switch (Math.floor(rand() * 5)) {
      case 0: // one byte replaced
        s = s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 256)) + s.slice(at + 1);
        break;
      case 1: // a snippet inserted
        s = s.slice(0, at) + SNIPPETS[Math.floor(rand() * SNIPPETS.length)] + s.slice(at);
        break;
      case 2: // a range deleted
        s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 8));
        break;
      case 3: { // a line repeated
        const lines = s.split('\r\n');
        const i = Math.floor(rand() * lines.length);
        lines.splice(i, 0, lines[i]);
        s = lines.join('\r\n');
        break;
      }
      default: { // a chunk size or length rewritten
        s = s.replace(/\r\n([0-9a-f]+)\r\n|Content-Length: \d+/, (whole) => (whole.startsWith('Content') ? `Content-Length: ${Math.floor(rand() * 80)}` : `\r\n${SNIPPETS[20 + Math.floor(rand() * 7)]}\r\n`));
      }
    }
  }
  return s;
}

type Outcome = 'response' | 'closed' | 'silent';

/** Sends one payload on a new connection; resolves with what came back, or rejects when the reply is not HTTP. */
function exchange(port: number, payload: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const sock = connect({ port, host: '127.0.0.1' }, () => sock.write(payload));
    const finish = (err: Error | null, outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(outcome);
    };
    /** Every byte received so far is whole HTTP responses; the count, or -1 while one is incomplete. */
    const check = (): number => {
      let data = Buffer.concat(chunks);
      let count = 0;
      while (data.length > 0) {
        if (data.length >= 12 && !/^HTTP\/1\.1 [1-5]\d\d /.test(data.subarray(0, 13).toString('latin1'))) {
          throw new Error(`not an HTTP response: ${JSON.stringify(data.subarray(0, 80).toString('latin1'))}`);
        }
        const r = parseRawResponse(data);
        if (!r.complete || r.status === null) return -1;
        const headEnd = data.indexOf('\r\n\r\n') + 4;
        const te = r.headers['transfer-encoding'];
        if (te !== undefined) return count + 1; // chunked: parseRawResponse checked the framing
        data = data.subarray(headEnd + Number(r.headers['content-length'] ?? 0));
        count++;
      }
      return count;
    };
    let timer = setTimeout(() => finish(null, 'silent'), SILENCE_MS);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      try {
        if (check() > 0) {
          finish(null, 'response');
          return;
        }
      } catch (e) {
        finish(e as Error, 'response');
        return;
      }
      // Part of a response: it must complete (or the connection close) soon.
      timer = setTimeout(() => finish(new Error(`incomplete response: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`), 'response'), 5000);
    });
    sock.on('error', () => finish(null, 'closed'));
    sock.on('close', () => {
      try {
        if (chunks.length > 0 && check() < 0) throw new Error(`connection closed mid-response: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`);
        finish(null, chunks.length > 0 ? 'response' : 'closed');
      } catch (e) {
        finish(e as Error, 'closed');
      }
    });
  });
}

describe(`edge fuzz (${RUN_MS} ms, seed ${SEED})`, () => {
  let upstream: StrictUpstream;
  let gw: Gateway;

  before(async () => {
    upstream = await startStrictUpstream();
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'fz', url: `http://127.0.0.1:${upstream.port}`, retries: 0, routes: [{ name: 'fz', paths: ['/'], strip_path: false }] }],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it('no worker dies, every reply is HTTP or a close, the upstream sees only unambiguous requests', async () => {
    const before = (await gw.status()).workers.map((w) => `${w.pid}:${w.restarts}`).sort();
    const outcomes: Record<Outcome, number> = { response: 0, closed: 0, silent: 0 };
    const failures: string[] = [];
    const payloads: Buffer[] = [];
    const deadline = Date.now() + RUN_MS;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (Date.now() < deadline && failures.length === 0) {
        const id = next++;
        // One generator per case: case <id> of a seed is the same bytes whatever the lanes' timing.
        const rand = prng((SEED + Math.imul(id, 0x9e3779b1)) >>> 0);
        const payload = Buffer.from(mutate(rand, baseRequest(rand, id)), 'latin1');
        payloads[id] = payload;
        try {
          outcomes[await exchange(gw.proxyPort, payload)]++;
        } catch (e) {
          failures.push(`case ${id} ${JSON.stringify(payload.toString('latin1'))}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, lane));
    const context = `seed ${SEED}, ${next} cases, outcomes ${JSON.stringify(outcomes)}`;
    assert.deepEqual(failures, [], context);
    assert.ok(next >= 50, `too few cases to mean anything: ${context}`);

    // The gateway still serves, on both workers, with the same processes.
    assert.equal((await request(`${gw.proxyUrl}/fz/after`)).status, 200);
    const st = await gw.status();
    assert.deepEqual(st.workers.map((w) => `${w.pid}:${w.restarts}`).sort(), before, `a worker died or was replaced (${context})`);
    assert.ok(st.workers.every((w) => w.state === 'listening'), JSON.stringify(st.workers));

    assert.deepEqual(upstream.violations, [], `the upstream received ambiguous framing (${context})`);
    // A request reaches the upstream only where a strict parser of the client's bytes finds one
    // too: the body's hidden request line (`/fz-inner/<id>`) may only arrive when the payload
    // really carried it as a request of its own, and no case yields more requests than that.
    const byCase = new Map<number, Seen[]>();
    for (const r of upstream.requests) {
      const m = /^\/fz(?:-inner)?\/(\d+)-([0-9a-f]+)-/.exec(r.path);
      if (m === null || tagOf(Number(m[1])) !== `${m[1]}-${m[2]}`) continue;
      const id = Number(m[1]);
      byCase.set(id, [...(byCase.get(id) ?? []), r]);
    }
    const unexplained: string[] = [];
    for (const [id, got] of byCase) {
      const payload = payloads[id];
      if (payload === undefined) continue;
      const strict = strictRequests(payload);
      const inner = got.filter((r) => r.path.startsWith('/fz-inner/'));
      const strictInner = strict.filter((r) => r.path.startsWith('/fz-inner/'));
      if (inner.length > strictInner.length || got.length > Math.max(1, strict.length)) {
        unexplained.push(`case ${id} ${JSON.stringify(payload.toString('latin1'))}: upstream saw ${JSON.stringify(got)}, a strict parser ${JSON.stringify(strict)}`);
      }
    }
    assert.deepEqual(unexplained, [], `requests the client's bytes do not hold reached the upstream (${context})`);
  });
});
