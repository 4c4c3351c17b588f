import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseServiceUrl } from '../../../src/primary/config/entities/services';
import { doc, lines, load, problems } from './helpers';

const svc = (body: string) => load(doc(`services:\n  - ${body.replace(/\n/g, '\n    ')}\n`)).snapshot.services[0];

test('service defaults are Kong defaults', () => {
  const s = svc('host: a.test');
  assert.deepEqual(s, {
    id: s.id,
    name: null,
    protocol: 'http',
    host: 'a.test',
    port: 80,
    path: null,
    retries: 5,
    connectTimeout: 60000,
    writeTimeout: 60000,
    readTimeout: 60000,
    enabled: true,
    tags: [],
    upstream: -1,
  });
});

test('url shorthand: scheme wins, default ports, path null unless written', () => {
  const cases: [string, object][] = [
    ['http://127.0.0.1:9000', { protocol: 'http', host: '127.0.0.1', port: 9000, path: null }],
    ['http://127.0.0.1:9000/', { protocol: 'http', host: '127.0.0.1', port: 9000, path: '/' }],
    ['https://api.test', { protocol: 'https', host: 'api.test', port: 443, path: null }],
    ['http://api.test', { protocol: 'http', host: 'api.test', port: 80, path: null }],
    ['http://api.test:443/base', { protocol: 'http', host: 'api.test', port: 443, path: '/base' }],
    ['api.test:443', { protocol: 'https', host: 'api.test', port: 443, path: null }],
    ['api.test:80/x', { protocol: 'http', host: 'api.test', port: 80, path: '/x' }],
    ['http://[::1]:8080/v6', { protocol: 'http', host: '::1', port: 8080, path: '/v6' }],
  ];
  for (const [url, want] of cases) assert.deepEqual(parseServiceUrl(url), want, url);
  const s = svc('url: https://api.test/base');
  assert.deepEqual([s.protocol, s.host, s.port, s.path], ['https', 'api.test', 443, '/base']);
});

test('url problems are reported against url', () => {
  assert.deepEqual(lines(problems(doc('services:\n  - url: ftp://a.test\n  - url: http://bad host/\n  - url: http://a.test/a//b\n'))), [
    "services[0].url: Hyperway supports only 'http' and 'https' services (got 'ftp')",
    "services[1].url: invalid url host 'bad host': invalid value: bad host",
    'services[2].url: invalid url path: must not have empty segments',
  ]);
});

test('url with explicit fields: url wins, with a warning', () => {
  const r = load(doc('services:\n  - url: http://a.test:81\n    port: 90\n'));
  assert.equal(r.snapshot.services[0].port, 81);
  assert.deepEqual(lines(r.warnings), ["services[0].port: 'port' is overridden by 'url' (Kong applies the url shorthand last)"]);
});

test('ranges, types and required fields', () => {
  assert.deepEqual(
    lines(problems(doc('services:\n  - host: a.test\n    port: 70000\n    retries: -1\n    connect_timeout: 0\n    read_timeout: 1.5\n    enabled: "yes"\n  - port: 80\n'))),
    [
      'services[0].port: value should be between 0 and 65535',
      'services[0].retries: value should be between 0 and 32767',
      'services[0].connect_timeout: value should be between 1 and 2147483646',
      'services[0].read_timeout: expected an integer',
      'services[0].enabled: expected a boolean',
      'services[1].host: required field missing',
    ],
  );
});

test('host must be a hostname or IP without port; path must be a clean absolute path', () => {
  assert.deepEqual(lines(problems(doc('services:\n  - host: a.test:80\n  - host: "bad host"\n  - host: a.test\n    path: x\n  - host: a.test\n    path: "/a b"\n  - host: a.test\n    path: /a%zz\n'))), [
    'services[0].host: must not have a port',
    'services[1].host: invalid value: bad host',
    'services[2].path: should start with: /',
    "services[3].path: invalid path: '/a b' (characters outside of the reserved list of RFC 3986 found)",
    "services[4].path: invalid url-encoded value: '%zz'",
  ]);
});

test('name and tags follow Kong typedefs', () => {
  assert.deepEqual(lines(problems(doc('services:\n  - name: "my service"\n    host: a.test\n    tags: [ok, "a,b"]\n'))), [
    "services[0].name: invalid value 'my service': the only accepted ascii characters are alphanumerics or ., -, _, and ~",
    "services[0].tags[1]: invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences",
  ]);
});

test('non-http protocols and TLS-only fields', () => {
  assert.deepEqual(lines(problems(doc('services:\n  - host: a.test\n    protocol: grpc\n  - host: a.test\n    tls_verify: true\n'))), [
    "services[0].protocol: Hyperway supports only 'http' and 'https' services (got 'grpc')",
    "services[1].tls_verify: 'tls_verify' can only be set when 'protocol' is 'https' or 'tls'",
  ]);
});
