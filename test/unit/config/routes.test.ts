import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { normalizePath } from '../../../src/lib/uri-normalize';
import { pcreToJs } from '../../../src/primary/config/entities/routes';
import { doc, lines, load, problems } from './helpers';

const routes = (body: string) => doc(`routes:\n${body}`);

test('route defaults and compiled forms', () => {
  const r = load(routes('  - paths: [/a]\n    hosts: [API.Example.COM, "*.Test:8080"]\n    headers:\n      X-Version: [V1, "~*^v[0-9]$"]\n')).snapshot.routes[0];
  assert.deepEqual(r.protocols, ['http', 'https']);
  assert.equal(r.methods, null);
  assert.deepEqual(r.hosts, ['api.example.com', '*.test:8080']);
  assert.deepEqual(r.headers, { 'x-version': ['v1', '~*^v[0-9]$'] });
  assert.equal(r.snis, null);
  assert.equal(r.stripPath, true);
  assert.equal(r.preserveHost, false);
  assert.equal(r.regexPriority, 0);
  assert.equal(r.pathHandling, 'v0');
  assert.equal(r.httpsRedirectStatusCode, 426);
  assert.equal(r.requestBuffering, true);
  assert.equal(r.responseBuffering, true);
  assert.equal(r.service, -1);
});

test('http routes need a matcher', () => {
  assert.deepEqual(lines(problems(routes('  - name: r\n  - protocols: [https]\n  - methods: []\n'))), [
    "routes[0]: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'",
    "routes[1]: must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'",
    "routes[2]: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'",
  ]);
});

test('protocols: subsets cannot mix, only http/https are served', () => {
  assert.deepEqual(lines(problems(routes('  - paths: [/]\n    protocols: [http, tcp]\n  - paths: [/]\n    protocols: [grpc]\n  - paths: [/]\n    protocols: [ftp]\n'))), [
    "routes[0].protocols: these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp'), ('tls_passthrough'), ('grpc', 'grpcs')",
    "routes[1].protocols: Hyperway supports only 'http' and 'https' routes (got 'grpc')",
    'routes[2].protocols[0]: expected one of: http, https, grpc, grpcs, tcp, tls, tls_passthrough, udp, ws, wss',
  ]);
});

test('methods must be uppercase', () => {
  assert.deepEqual(lines(problems(routes('  - methods: [GET, post]\n'))), ['routes[0].methods[1]: invalid value: post (methods are uppercase, e.g. POST)']);
  assert.deepEqual(load(routes('  - methods: [GET, POST]\n')).snapshot.routes[0].methods, ['GET', 'POST']);
});

test('hosts: one wildcard, leftmost or rightmost label only', () => {
  assert.deepEqual(load(routes('  - hosts: ["*.a.test", "a.*", "a.test:81"]\n')).snapshot.routes[0].hosts, ['*.a.test', 'a.*', 'a.test:81']);
  assert.deepEqual(lines(problems(routes('  - hosts: ["*.*.test", "a.*.test", "a*.test", "bad host"]\n'))), [
    'routes[0].hosts[0]: invalid wildcard: must have at most one wildcard',
    'routes[0].hosts[1]: invalid wildcard: must be placed at leftmost or rightmost label',
    'routes[0].hosts[2]: invalid wildcard: must be placed at leftmost or rightmost label',
    'routes[0].hosts[3]: invalid hostname: bad host',
  ]);
});

test('paths: prefix must be normalized (with hint), regex must compile', () => {
  assert.equal(normalizePath('/a/../b'), '/b');
  assert.equal(normalizePath('/%7Efoo'), '/~foo');
  assert.equal(normalizePath('/a/%2f'), '/a/%2F');
  assert.deepEqual(pcreToJs('(?i)/u/(?P<id>\\d+)'), { source: '/u/(?<id>\\d+)', flags: 'i' });
  assert.deepEqual(load(routes('  - paths: ["/api", "~/users/(?P<id>\\\\d+)$", "/a%2Fb"]\n')).snapshot.routes[0].paths, ['/api', '~/users/(?P<id>\\d+)$', '/a%2Fb']);
  assert.deepEqual(lines(problems(routes('  - paths: [/ok, /a/../b, /%7Efoo, "~/(unclosed", api, /a//b]\n'))), [
    "routes[0].paths[1]: non-normalized path, consider use '/b' instead",
    "routes[0].paths[2]: non-normalized path, consider use '/~foo' instead",
    "routes[0].paths[3]: invalid regex: '/(unclosed' (PCRE returned: Unterminated group)",
    'routes[0].paths[4]: should start with: / (fixed path) or ~/ (regex path)',
    'routes[0].paths[5]: must not have empty segments',
  ]);
});

test('headers: no host key, names checked, regex values compiled', () => {
  assert.deepEqual(lines(problems(routes('  - headers:\n      Host: [a.test]\n  - headers:\n      "bad name": [x]\n  - headers:\n      x-a: ["~*(bad"]\n  - headers:\n      x-a: value\n'))), [
    "routes[0].headers.Host: cannot contain 'host' header, which must be specified in the 'hosts' attribute",
    "routes[1].headers.bad name: bad header name 'bad name', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
    "routes[2].headers.x-a[0]: invalid regex: '(bad' (PCRE returned: Unterminated group)",
    'routes[3].headers.x-a: expected an array',
  ]);
});

test('path_handling v1 loads with a warning; https_redirect_status_code is one of Kong codes', () => {
  const r = load(routes('  - paths: [/]\n    path_handling: v1\n'));
  assert.equal(r.snapshot.routes[0].pathHandling, 'v1');
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0].path, 'routes[0].path_handling');
  assert.match(r.warnings[0].message, /ignored by the traditional_compatible router/);
  assert.deepEqual(lines(problems(routes('  - paths: [/]\n    https_redirect_status_code: 303\n'))), [
    'routes[0].https_redirect_status_code: expected one of: 426, 301, 302, 307, 308',
  ]);
});

test('snis need https; sources need stream protocols; expression is not traditional', () => {
  assert.deepEqual(lines(problems(routes('  - paths: [/]\n    protocols: [http]\n    snis: [a.test]\n  - paths: [/]\n    sources: [{ip: 1.2.3.4}]\n  - expression: http.path == "/"\n'))), [
    "routes[0].snis: 'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
    "routes[1].sources: 'sources' can only be set when 'protocols' is 'grpc', 'grpcs', 'tcp', 'tls', 'tls_passthrough' or 'udp'",
    "routes[2].expression: unknown field: 'expression' needs router_flavor = expressions; Hyperway uses traditional_compatible",
    "routes[2]: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'",
  ]);
});

test('unknown service reference', () => {
  assert.deepEqual(lines(problems(routes('  - paths: [/]\n    service: foo\n'))), ["routes[0].service: invalid reference 'service: foo' (no such entry in 'services')"]);
});

test("Kong 3.x prefix paths: any character once normalized (/users/{id}, /café); a bad %-escape or a non-normalized path is refused", () => {
  const r = load(routes('  - paths: ["/users/{id}", "/café", "/a b"]\n'));
  assert.deepEqual(r.snapshot.routes[0].paths, ['/users/{id}', '/café', '/a b']);
  assert.deepEqual(lines(problems(routes('  - paths: ["/a%zz", "/caf%C3%A9", "/a/./b"]\n'))), [
    "routes[0].paths[0]: invalid url-encoded value: '%zz'",
    "routes[0].paths[1]: non-normalized path, consider use '/café' instead",
    "routes[0].paths[2]: non-normalized path, consider use '/a/b' instead",
  ]);
});

test('hosts: a rightmost wildcard ends the value, so example.*:8080 is refused as Kong refuses it; *.example.com:8080 loads', () => {
  assert.deepEqual(lines(problems(routes('  - hosts: ["example.*:8080"]\n'))), [
    'routes[0].hosts[0]: invalid wildcard: must be placed at leftmost or rightmost label',
  ]);
  assert.equal(load(routes('  - hosts: ["*.example.com:8080", "example.*"]\n')).snapshot.routes[0].hosts?.length, 2);
});
