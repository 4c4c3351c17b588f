// The request headers sent upstream (proxy/headers.ts upstreamHeaders) and the client-header
// classification copyRequest does for it: compared, on listed and generated header lists, with
// the list the first implementation built (a Set of hop-by-hop names, every header looked up).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../../src/worker/server/context';
import { copyRequest } from '../../../src/worker/server/request';
import { upstreamHeaders, requestHeaderKind, connectionTokens, REQUEST_HEADER, VIA_TOKEN } from '../../../src/worker/proxy/headers';
import type { HttpRequest, HttpResponse } from '../../../src/worker/server/uws';
import type { Runtime } from '../../../src/worker/runtime';
import type { WorkerSlot } from '../../../src/shared/counter-slab';

const HOP_BY_HOP_REQUEST = new Set([
  'host', 'connection', 'keep-alive', 'proxy', 'proxy-connection', 'upgrade', 'transfer-encoding', 'te', 'expect',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-path',
  'x-forwarded-prefix', 'x-real-ip', 'via', 'trailer',
]);
const isConsumerHeader = (name: string): boolean =>
  name.startsWith('x-consumer-') || name === 'x-credential-identifier' || name === 'x-anonymous-consumer';

/** The first implementation, kept as the reference. */
function referenceUpstreamHeaders(ctx: RequestContext, hostHeader: string): string[] {
  const h = ctx.headers;
  const out: string[] = [];
  const drop = connectionTokens(ctx.connection);
  let xff: string | null = null;
  let via: string | null = null;
  let te = false;
  const trusted = ctx.trusted;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    if (HOP_BY_HOP_REQUEST.has(name)) {
      if (name === 'x-forwarded-for') xff = xff === null ? h[i + 1] : `${xff}, ${h[i + 1]}`;
      else if (name === 'via') via = via === null ? h[i + 1] : `${via}, ${h[i + 1]}`;
      else if (name === 'te') te ||= /(^|[\s,])trailers($|[\s,;])/i.test(h[i + 1]);
      continue;
    }
    if (drop !== null && drop.has(name)) continue;
    out.push(name, h[i + 1]);
  }
  out.push('host', ctx.upstreamHost ?? (ctx.route !== null && ctx.route.snap.preserveHost && ctx.host !== '' ? ctx.host : hostHeader));
  if (te) out.push('te', 'trailers');
  if (ctx.body !== null && ctx.body.heldLength >= 0 && ctx.bodyBuffer === null) out.push('content-length', String(ctx.body.heldLength));
  out.push('x-forwarded-for', xff === null ? ctx.realIp : `${xff}, ${ctx.realIp}`);
  out.push('x-forwarded-proto', (trusted && ctx.header('x-forwarded-proto')) || (ctx.tls ? 'https' : 'http'));
  out.push('x-forwarded-host', (trusted && ctx.header('x-forwarded-host')) || ctx.hostName());
  out.push('x-forwarded-port', (trusted && ctx.header('x-forwarded-port')) || ctx.listenerPortText);
  out.push('x-forwarded-path', (trusted && ctx.header('x-forwarded-path')) || ctx.url);
  const prefix = (trusted && ctx.header('x-forwarded-prefix')) || ctx.forwardedPrefix();
  if (prefix !== null) out.push('x-forwarded-prefix', prefix);
  out.push('x-real-ip', ctx.realIp);
  out.push('via', via === null ? VIA_TOKEN : `${via}, ${VIA_TOKEN}`);
  if (ctx.runtime.headers.upstreamRequestId) out.push('x-kong-request-id', ctx.requestId);
  return out;
}

const noop = (): void => undefined;
const res = { onAborted: noop } as unknown as HttpResponse;
const slot = { requestStarted: noop, requestFinished: noop } as unknown as WorkerSlot;
const runtime = { headers: { upstreamRequestId: true }, listenerPortText: '8000', tlsPortText: '8443' } as unknown as Runtime;

/** A context filled by copyRequest from these headers, as uWS hands them over (fresh strings). */
function copied(headers: string[], trusted: boolean): RequestContext {
  const ctx = new RequestContext(res, runtime, slot);
  const req = {
    getCaseSensitiveMethod: () => 'GET', getUrl: () => '/a/b', getQuery: () => 'x=1',
    forEach(cb: (k: string, v: string) => void) {
      for (let i = 0; i < headers.length; i += 2) cb(Buffer.from(headers[i]).toString(), Buffer.from(headers[i + 1]).toString());
    },
  } as unknown as HttpRequest;
  copyRequest(ctx, req);
  ctx.remote = ctx.realIp = '10.0.0.9';
  ctx.trusted = trusted;
  ctx.requestId = 'rid';
  return ctx;
}

const NAMES = [
  'host', 'connection', 'keep-alive', 'proxy', 'proxy-connection', 'upgrade', 'transfer-encoding', 'te', 'expect', 'x-forwarded-for',
  'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-path', 'x-forwarded-prefix', 'x-real-ip', 'via', 'trailer',
  'content-length', 'x-consumer-id', 'x-consumer-', 'x-credential-identifier', 'x-anonymous-consumer', 'x-consumer', 'x-anonymous',
  'accept', 'user-agent', 'cookie', 'x-secret', 'x-forwarded-fort', 'x-forwarded-pathx', 'tee', 'vias', 'hosts', 'trailers', 'x-real-ipv',
  'content-type', 'authorization', 'x-request-id', 'proxy-authorization', 'x-consumer-custom-id',
];

test('requestHeaderKind: hop-by-hop names as the Set had them, consumer names as the prefix test had them, all else passes', () => {
  for (const name of NAMES) {
    const kind = requestHeaderKind(name);
    assert.equal(kind >= REQUEST_HEADER.HOP, HOP_BY_HOP_REQUEST.has(name), name);
    assert.equal(kind === REQUEST_HEADER.CONSUMER, isConsumerHeader(name), name);
  }
  assert.equal(requestHeaderKind('content-length'), REQUEST_HEADER.CONTENT_LENGTH);
  assert.equal(requestHeaderKind('transfer-encoding'), REQUEST_HEADER.TRANSFER_ENCODING);
  assert.equal(requestHeaderKind('connection'), REQUEST_HEADER.CONNECTION);
  assert.equal(requestHeaderKind('host'), REQUEST_HEADER.HOST);
});

test('upstreamHeaders gives the reference list: listed heads, generated heads, past 32 headers, after a plugin edited the list', () => {
  const values = ['a', 'trailers', 'gzip, trailers', 'keep-alive', 'close', 'x-secret', 'x-secret, accept', 'https', '', '1.2.3.4', 'v'];
  const listed: string[][] = [
    ['host', 'example.com'],
    ['host', 'example.com', 'connection', 'keep-alive, x-secret', 'x-secret', 's', 'accept', '*/*'],
    ['host', 'h', 'x-forwarded-for', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'via', '1.0 a', 'via', '1.1 b', 'te', 'trailers'],
    ['host', 'h', 'x-forwarded-proto', '', 'x-forwarded-proto', 'https', 'x-forwarded-prefix', '/p', 'x-forwarded-host', 'fh'],
  ];
  let seed = 7;
  const random = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const generated: string[][] = [];
  for (let i = 0; i < 3000; i++) {
    const h: string[] = ['host', 'example.com'];
    const n = random(i % 10 === 0 ? 60 : 12);
    for (let k = 0; k < n; k++) h.push(NAMES[random(NAMES.length)], values[random(values.length)]);
    // One Host and at most one Content-Length / Transfer-Encoding: copyRequest refuses more (400).
    for (let k = 2; k < h.length; k += 2) if (h[k] === 'host' || h[k] === 'content-length' || h[k] === 'transfer-encoding') h[k] = 'x-other';
    generated.push(h);
  }
  let longHeads = 0;
  for (const head of [...listed, ...generated]) {
    for (const trusted of [false, true]) {
      const ctx = copied(head, trusted);
      assert.deepEqual(upstreamHeaders(ctx, 'up:80'), referenceUpstreamHeaders(ctx, 'up:80'), JSON.stringify({ head, trusted }));
      // A plugin edits the list (pipeline set): the marks from the copy no longer apply.
      const edited = copied(head, trusted);
      edited.pipeline = {} as RequestContext['pipeline'];
      edited.headers.unshift('x-forwarded-for', '9.9.9.9', 'accept', 'x');
      edited.headers.push('connection', 'close', 'x-consumer-id', 'c1');
      assert.deepEqual(upstreamHeaders(edited, 'up:80'), referenceUpstreamHeaders(edited, 'up:80'), JSON.stringify({ head, trusted, edited: true }));
    }
    if (head.length > 64) longHeads++;
  }
  assert.ok(longHeads > 50, `${longHeads} heads past 32 headers`);
});
