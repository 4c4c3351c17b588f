// The proxied response head (stream-response.ts startResponse → writeHead): its names are now
// classified once, on arrival (raw-headers.ts scanHead). Compared, on listed and generated heads,
// with what the first implementation wrote (every header classified again while writing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamedResponse } from '../../../src/worker/proxy/stream-response';
import { connectionTokens, SERVER_TOKEN, VIA_TOKEN } from '../../../src/worker/proxy/headers';
import { headerKind, parseLength, KIND } from '../../../src/worker/proxy/raw-headers';
import type { HttpResponse } from '../../../src/worker/server/uws';
import type { Runtime } from '../../../src/worker/runtime';
import type { WorkerSlot } from '../../../src/shared/counter-slab';
import type { PipelineHooks } from '../../../src/worker/server/context';

type Written = Array<[string, string]>;
const text = (v: unknown): string => (typeof v === 'string' ? v : Buffer.from(v as Buffer).toString('latin1'));

function recorder(into: Written): HttpResponse {
  const res = {
    writeStatus: () => res, writeHeader(k: unknown, v: unknown) { into.push([text(k), text(v)]); return res; },
    endWithoutBody: () => res, end: () => res, cork(cb: () => void) { cb(); return res; },
  };
  return res as unknown as HttpResponse;
}

const noop = (): void => undefined;
const slot = { requestStarted: noop, requestFinished: noop } as unknown as WorkerSlot;
const runtime = {
  headers: { serverTokens: true, via: true, upstreamLatency: false, proxyLatency: false, requestId: false, upstreamStatus: true },
} as unknown as Runtime;

/** The first implementation's header writes for a HEAD response (then endWithoutBody's Content-Length). */
function reference(raw: Buffer[], drop: Set<string> | null, status: number, length: number): Written {
  const out: Written = [];
  let server: Buffer | null = null;
  let via: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    switch (headerKind(name)) {
      case KIND.PASS:
        if (drop === null || !drop.has(name.toString('latin1').toLowerCase())) out.push([text(name), text(raw[i + 1])]);
        break;
      case KIND.SERVER: server ??= raw[i + 1]; break;
      case KIND.VIA: via = via === null ? raw[i + 1].toString('latin1') : `${via}, ${raw[i + 1].toString('latin1')}`; break;
    }
  }
  out.push(['Server', server !== null ? text(server) : SERVER_TOKEN]);
  out.push(['Via', via === null ? VIA_TOKEN : `${via}, ${VIA_TOKEN}`]);
  out.push(['X-Kong-Upstream-Status', String(status)]);
  if (length >= 0) out.push(['Content-Length', String(length)]);
  return out;
}

function referenceFraming(raw: Buffer[]): { length: number; drop: Set<string> | null } {
  let length = -1;
  let connection: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const kind = headerKind(raw[i]);
    if (kind === KIND.CONTENT_LENGTH) length = parseLength(raw[i + 1]);
    else if (kind === KIND.CONNECTION) connection = connection === null ? raw[i + 1].toString('latin1') : `${connection}, ${raw[i + 1].toString('latin1')}`;
  }
  return { length, drop: connection === null ? null : connectionTokens(connection) };
}

function written(raw: Buffer[], pipeline: PipelineHooks | null): Written {
  const out: Written = [];
  const r = new StreamedResponse(recorder(out), runtime, slot);
  r.method = 'HEAD';
  r.pipeline = pipeline;
  r.startResponse(200, raw);
  return out;
}

const NAMES = ['Content-Type', 'Content-Length', 'content-length', 'Date', 'Server', 'SERVER', 'Via', 'Connection', 'Keep-Alive', 'Transfer-Encoding',
  'TE', 'Trailer', 'Upgrade', 'Proxy-Connection', 'X-Secret', 'x-secret', 'Set-Cookie', 'ETag', 'Vary', 'X-A', 'Trailers', 'Servers'];
const VALUES = ['1', '12', 'x', 'keep-alive', 'close, X-Secret', 'X-Secret', 'Upgrade', 'nginx', '1.0 a', 'abc', ''];

test('a response head is written as before: listed heads, generated heads, heads past 32 headers', () => {
  const b = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
  const heads: Buffer[][] = [
    b('Content-Type', 'text/plain', 'Content-Length', '5', 'Server', 'up', 'Server', 'second', 'Via', '1.0 a', 'Via', '1.1 b'),
    b('Connection', 'close, X-Secret', 'X-Secret', 's', 'Date', 'd', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'a=1'),
  ];
  let seed = 3;
  const random = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  for (let i = 0; i < 2000; i++) {
    const h: string[] = [];
    const n = random(i % 5 === 0 ? 50 : 12);
    for (let k = 0; k < n; k++) h.push(NAMES[random(NAMES.length)], VALUES[random(VALUES.length)]);
    heads.push(b(...h));
  }
  let long = 0;
  for (const raw of heads) {
    const { length, drop } = referenceFraming(raw);
    assert.deepEqual(written(raw, null), reference(raw, drop, 200, length), raw.map(text).join('|'));
    if (raw.length > 64) long++;
  }
  assert.ok(long > 50, `${long} heads past 32 headers`);
});

test('a header filter\'s head is classified again: its Server and Via count, a removed Content-Length unframes', () => {
  const b = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, 'latin1'));
  const raw = b('Content-Length', '5', 'Server', 'up', 'X-A', '1', 'Connection', 'X-B', 'X-B', '2');
  const after = b('Server', 'filtered', 'Via', '1.0 f', 'X-A', '1', 'X-B', '2', 'Date', 'd');
  const pipeline = { filtersHead: true, filtersBody: false, filterUpstreamHead: () => after, afterResponse: noop } as unknown as PipelineHooks;
  // Connection's tokens come from the upstream's head; the Content-Length is gone, so none is reported.
  assert.deepEqual(written(raw, pipeline), reference(after, new Set(['x-b']), 200, -1));
  const keeps = b('Content-Length', '5', 'X-A', '1');
  const keeping = { ...pipeline, filterUpstreamHead: () => keeps } as unknown as PipelineHooks;
  assert.deepEqual(written(raw, keeping), reference(keeps, new Set(['x-b']), 200, 5));
});
