// A bug inside request handling costs that request a 500, never the worker: the uWS handler is
// driven with fake res/req objects (nothing in the real gateway throws on demand), one of which
// throws at a chosen point; the next request through the same handler is still served.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createProxyApp, type ProxyState } from '../../../src/worker/server/app';
import type { HttpRequest, HttpResponse, UwsModule } from '../../../src/worker/server/uws';
import type { WorkerSlot } from '../../../src/shared/counter-slab';
import { Runtime } from '../../../src/worker/runtime';
import { UpstreamPools } from '../../../src/worker/proxy/upstream-pool';
import { loadConfigText } from '../../../src/primary/config';

type Handler = (res: HttpResponse, req: HttpRequest) => void;

interface Written {
  status: string;
  headers: [string, string][];
  body: string;
  close: boolean | undefined;
  ended: number;
}

/** A uWS response that records what the gateway writes; `throwIn` names a method that throws. */
function fakeRes(throwIn: string | null): { res: HttpResponse; out: Written } {
  const out: Written = { status: '', headers: [], body: '', close: undefined, ended: 0 };
  const fail = (name: string): void => {
    if (name === throwIn) throw new TypeError(`injected failure in ${name}`);
  };
  const res = {
    cork(cb: () => void) { cb(); return res; },
    onAborted() { return res; },
    onData() { return res; },
    onWritable() { return res; },
    pause() {},
    resume() {},
    getRemoteAddressAsText() { fail('getRemoteAddressAsText'); return new TextEncoder().encode('127.0.0.1').buffer; },
    writeStatus(s: string) { out.status = s; return res; },
    writeHeader(k: string, v: string) { out.headers.push([String(k), String(v)]); return res; },
    end(body?: string, close?: boolean) { out.body = body ?? ''; out.close = close; out.ended++; return res; },
    endWithoutBody(_length?: number, close?: boolean) { out.close = close; out.ended++; return res; },
  };
  return { res: res as unknown as HttpResponse, out };
}

function fakeReq(throwIn: string | null): HttpRequest {
  const headers: [string, string][] = [['host', 'example.test'], ['accept', 'application/json']];
  return {
    getCaseSensitiveMethod: () => 'GET',
    getMethod: () => 'get',
    getUrl: () => '/nowhere',
    getQuery: () => undefined as unknown as string,
    getHeader: (k: string) => headers.find(([n]) => n === k)?.[1] ?? '',
    forEach(cb: (k: string, v: string) => void) {
      if (throwIn === 'forEach') throw new TypeError('injected failure in forEach');
      for (const [k, v] of headers) cb(k, v);
    },
  };
}

const pools = new UpstreamPools();
after(() => pools.closeAll());
let started = 0;
let finished = 0;
const slot = { requestStarted() { started++; }, requestFinished() { finished++; } } as unknown as WorkerSlot;
const { snapshot } = loadConfigText('_format_version: "3.0"\n', 'kong.yml', {}, 1);
const state: ProxyState = { runtime: new Runtime(snapshot, pools), slot };
let handler: Handler | null = null;
const uws = { App: () => ({ any(_pattern: string, h: Handler) { handler = h; return this; }, ws() { return this; } }) } as unknown as UwsModule;
createProxyApp(uws, state);

/** Runs one request through the handler with stderr captured (the failure is logged there). */
function serve(res: HttpResponse, req: HttpRequest): string {
  const write = process.stderr.write;
  let logged = '';
  process.stderr.write = ((chunk: string) => { logged += chunk; return true; }) as typeof process.stderr.write;
  try {
    (handler as Handler)(res, req);
  } finally {
    process.stderr.write = write;
  }
  return logged;
}

for (const throwIn of ['forEach', 'getRemoteAddressAsText']) {
  test(`a throw in ${throwIn} answers 500 and closes; the next request is served`, () => {
    const failing = fakeRes(throwIn === 'forEach' ? null : throwIn);
    const logged = serve(failing.res, fakeReq(throwIn === 'forEach' ? throwIn : null));
    assert.equal(failing.out.status, '500 Internal Server Error');
    assert.equal(failing.out.ended, 1, 'exactly one end');
    assert.equal(failing.out.close, true, 'the connection is closed after the 500');
    // Kong's nginx-level 500 body; its type depends on how much of the request was copied (Accept).
    assert.ok(failing.out.headers.some(([k]) => k === 'Content-Type'));
    assert.match(failing.out.body, /An unexpected error occurred/);
    assert.match(logged, /request handler failed.*injected failure/);
    assert.equal(finished, started, 'the failed request is counted finished (drain does not wait on it)');

    const next = fakeRes(null);
    serve(next.res, fakeReq(null));
    assert.equal(next.out.status, '404 Not Found');
    assert.match(next.out.body, /"message":"no Route matched with those values"/);
    assert.equal(finished, started);
  });
}
