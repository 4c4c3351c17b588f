// The cors handler against a FakeContext (Kong's spec/03-plugins/13-cors/01-access_spec.lua cases):
// the preflight answer, origin matching, Vary, credentials, and the headers of other responses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler, normalizeOrigin, type CorsConf } from '../../../src/plugins/cors/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { FakeContext, type FakeRequest } from '../fake-context';
import { doc, load } from '../../unit/config/helpers';

const ENV = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });

/** The config as the loader leaves it (Kong's defaults filled in), configured as a worker would. */
function conf(yaml = ''): CorsConf {
  const text = yaml === '' ? 'plugins:\n  - name: cors\n' : `plugins:\n  - name: cors\n    config:\n${yaml}`;
  return handler.configure!(load(doc(text)).snapshot.plugins[0].config, ENV);
}

/** Runs access then, as the pipeline does for upstream answers and exits alike, headerFilter. */
function run(c: CorsConf, req: FakeRequest, upstreamHeaders: Record<string, string> = {}): FakeContext {
  const ctx = new FakeContext(req);
  void handler.access!(ctx, c);
  if (!ctx.exited) for (const [k, v] of Object.entries(upstreamHeaders)) ctx.setResponseHeader(k, v);
  handler.headerFilter!(ctx, c);
  return ctx;
}

const preflight = (origin: string, extra: Record<string, string> = {}): FakeRequest => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'GET', ...extra },
});

const h = (ctx: FakeContext, name: string): string[] | undefined => ctx.responseHeaders.get(name);

test('priority and phases are Kong\'s', () => {
  assert.equal(handler.priority, 2000);
  assert.equal(typeof handler.access, 'function');
  assert.equal(typeof handler.headerFilter, 'function');
});

test('a preflight with no origins configured: 200, ACAO *, every method, requested headers echoed, no Vary', () => {
  const ctx = run(conf(), preflight('http://a.test', { 'access-control-request-headers': 'X-One, X-Two' }));
  assert.equal(ctx.exitRecord?.status, 200);
  assert.equal(ctx.exitRecord?.body, undefined);
  assert.deepEqual(Object.fromEntries(ctx.responseHeaders), {
    'access-control-allow-origin': ['*'],
    'access-control-allow-headers': ['X-One, X-Two'],
    'access-control-allow-methods': ['GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT'],
  });
});

test('a preflight with every option: configured headers, methods, max age, credentials echo the origin', () => {
  const c = conf('      origins: ["*"]\n      headers: [X-One, X-Two]\n      methods: [GET, POST]\n      max_age: 3600\n      credentials: true\n      private_network: true\n');
  const ctx = run(c, preflight('http://a.test', { 'access-control-request-headers': 'X-Other', 'access-control-request-private-network': 'true' }));
  assert.equal(ctx.exitRecord?.status, 200);
  assert.deepEqual(Object.fromEntries(ctx.responseHeaders), {
    'access-control-allow-origin': ['http://a.test'],
    vary: ['Origin'],
    'access-control-allow-credentials': ['true'],
    'access-control-allow-headers': ['X-One,X-Two'],
    'access-control-allow-methods': ['GET,POST'],
    'access-control-max-age': ['3600'],
    'access-control-allow-private-network': ['true'],
  });
  // Private network only when the preflight asks for it.
  assert.equal(h(run(c, preflight('http://a.test')), 'access-control-allow-private-network'), undefined);
});

test('not a preflight: OPTIONS without Access-Control-Request-Method, or without Origin, goes on', () => {
  const c = conf('      exposed_headers: [X-Exp]\n');
  const noMethod = run(c, { method: 'OPTIONS', headers: { origin: 'http://a.test' } });
  assert.equal(noMethod.exited, false);
  assert.deepEqual(h(noMethod, 'access-control-allow-origin'), ['*']);
  assert.deepEqual(h(noMethod, 'access-control-expose-headers'), ['X-Exp']);
  assert.equal(h(noMethod, 'access-control-allow-methods'), undefined);
  const noOrigin = run(c, { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } });
  assert.equal(noOrigin.exited, false);
});

test('preflight_continue: the upstream answers the preflight and no CORS header is added', () => {
  const ctx = run(conf('      preflight_continue: true\n'), preflight('http://a.test'), { 'x-up': '1' });
  assert.equal(ctx.exited, false);
  assert.deepEqual(Object.fromEntries(ctx.responseHeaders), { 'x-up': ['1'] });
});

test('a single flat origin is sent verbatim whatever the request Origin, with Vary added to the upstream\'s', () => {
  const c = conf('      origins: [http://example.com]\n      credentials: true\n');
  const ctx = run(c, { headers: { origin: 'http://other.test' } }, { vary: 'Accept-Encoding' });
  assert.deepEqual(h(ctx, 'access-control-allow-origin'), ['http://example.com']);
  assert.deepEqual(h(ctx, 'vary'), ['Accept-Encoding', 'Origin']);
  assert.deepEqual(h(ctx, 'access-control-allow-credentials'), ['true']);
});

test('several origins: flat ones compare normalized, regexes are anchored, without `:` they see the host only', () => {
  const c = conf('      origins: ["http://example.com", "https://site.test:8443", ".*\\\\.example\\\\.org", "https://(www\\\\.)?foo\\\\.net"]\n');
  const acao = (origin: string): string[] | undefined => h(run(c, { headers: { origin } }), 'access-control-allow-origin');
  assert.deepEqual(acao('http://example.com:80'), ['http://example.com']);
  assert.deepEqual(acao('https://site.test:8443'), ['https://site.test:8443']);
  assert.equal(acao('https://site.test'), undefined);
  assert.deepEqual(acao('https://api.example.org'), ['https://api.example.org']);
  assert.deepEqual(acao('http://api.example.org:8080'), ['http://api.example.org:8080']);
  assert.equal(acao('https://api.example.org.evil.test'), undefined);
  assert.equal(acao('https://evilexample.org'), undefined);
  assert.deepEqual(acao('https://www.foo.net'), ['https://www.foo.net']);
  assert.deepEqual(acao('https://foo.net:443'), ['https://foo.net']);
  assert.equal(acao('http://foo.net'), undefined);
  assert.equal(acao('https://x.foo.net'), undefined);
  // No match: no ACAO, but the answer still varies on Origin.
  const miss = run(c, { headers: { origin: 'http://nope.test' } });
  assert.deepEqual(Object.fromEntries(miss.responseHeaders), { vary: ['Origin'] });
});

test('a regex is anchored at its start too (Kong matches with PCRE_ANCHORED)', () => {
  const c = conf('      origins: ["ok\\\\.test", "http://b.test"]\n');
  assert.deepEqual(h(run(c, { headers: { origin: 'http://ok.test' } }), 'access-control-allow-origin'), ['http://ok.test']);
  assert.equal(h(run(c, { headers: { origin: 'http://notok.test' } }), 'access-control-allow-origin'), undefined);
});

test('a * among several origins allows any Origin', () => {
  const ctx = run(conf('      origins: ["http://a.test", "*"]\n'), { headers: { origin: 'http://z.test' } });
  assert.deepEqual(h(ctx, 'access-control-allow-origin'), ['*']);
  assert.deepEqual(h(ctx, 'vary'), ['Origin']);
});

test('credentials with ACAO * echo the request Origin and vary on it; without an Origin nothing is echoed', () => {
  const c = conf('      credentials: true\n');
  const ctx = run(c, { headers: { origin: 'http://a.test' } });
  assert.deepEqual(Object.fromEntries(ctx.responseHeaders), {
    'access-control-allow-origin': ['http://a.test'],
    vary: ['Origin'],
    'access-control-allow-credentials': ['true'],
  });
  const absent = run(c, {});
  assert.deepEqual(Object.fromEntries(absent.responseHeaders), { 'access-control-allow-origin': ['*'] });
});

test('allow_origin_absent: false adds nothing to a request without Origin', () => {
  assert.deepEqual(Object.fromEntries(run(conf('      allow_origin_absent: false\n'), {}).responseHeaders), {});
  assert.deepEqual(h(run(conf('      allow_origin_absent: false\n'), { headers: { origin: 'http://a.test' } }), 'access-control-allow-origin'), ['*']);
});

test('the headers also go on the gateway\'s own answers (an error from another plugin)', () => {
  const c = conf('      origins: [http://example.com]\n');
  const ctx = new FakeContext({ headers: { origin: 'http://example.com' } });
  handler.access!(ctx, c);
  ctx.error(401, 'Unauthorized');
  handler.headerFilter!(ctx, c);
  assert.deepEqual(h(ctx, 'access-control-allow-origin'), ['http://example.com']);
});

test('origins are normalized as LuaSocket parses them', () => {
  assert.deepEqual(normalizeOrigin('http://example.com:80'), { domain: 'http://example.com', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('https://u@example.com:443/path?q#f'), { domain: 'https://example.com', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('http://example.com:8080'), { domain: 'http://example.com:8080', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('example.com'), { domain: 'example.com', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('null'), { domain: 'null', host: 'null' });
});
