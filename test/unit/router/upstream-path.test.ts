/**
 * Every v0 row of Kong's spec/fixtures/router_path_handling_tests.lua (Kong/kong @ 34c7dfd), run
 * through the Router (to get the matched prefix) and joinUpstreamPath.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, joinUpstreamPath, sanitizeUriPostfix } from '../../../src/worker/router';
import { route } from './factory';

type Row = [service: string, routePath: string | null, strip: boolean[], request: string, expected: string];
const B = [false, true];
const F = [false];
const T = [true];

const V0_ROWS: Row[] = [
  ['/', '/', B, '/', '/'],
  ['/', '/', B, '/route', '/route'],
  ['/', '/', B, '/route/', '/route/'],
  ['/', '/', B, '/routereq', '/routereq'],
  ['/', '/', B, '/route/req', '/route/req'],
  ['/', '/route', F, '/route', '/route'],
  ['/', '/route', F, '/route/', '/route/'],
  ['/', '/route', F, '/routereq', '/routereq'],
  ['/', '/route', T, '/route', '/'],
  ['/', '/route', T, '/route/', '/'],
  ['/', '/route', T, '/routereq', '/req'],
  ['/', '/route/', F, '/route/', '/route/'],
  ['/', '/route/', F, '/route/req', '/route/req'],
  ['/', '/route/', T, '/route/', '/'],
  ['/', '/route/', T, '/route/req', '/req'],
  ['/srv', '/rou', F, '/roureq', '/srv/roureq'],
  ['/srv', '/rou', T, '/roureq', '/srv/req'],
  ['/srv/', '/rou', F, '/rou', '/srv/rou'],
  ['/srv/', '/rou', T, '/rou', '/srv'],
  ['/service', '/', B, '/', '/service'],
  ['/service', '/', B, '/route', '/service/route'],
  ['/service', '/', B, '/route/', '/service/route/'],
  ['/service', '/', B, '/routereq', '/service/routereq'],
  ['/service', '/', B, '/route/req', '/service/route/req'],
  ['/service', '/route', F, '/route', '/service/route'],
  ['/service', '/route', F, '/route/', '/service/route/'],
  ['/service', '/route', F, '/routereq', '/service/routereq'],
  ['/service', '/route', T, '/route', '/service'],
  ['/service', '/route', T, '/route/', '/service/'],
  ['/service', '/route', T, '/routereq', '/service/req'],
  ['/service', '/route/', F, '/route/', '/service/route/'],
  ['/service', '/route/', F, '/route/req', '/service/route/req'],
  ['/service', '/route/', T, '/route/', '/service/'],
  ['/service', '/route/', T, '/route/req', '/service/req'],
  ['/service/', '/', B, '/route/', '/service/route/'],
  ['/service/', '/', B, '/', '/service/'],
  ['/service/', '/', B, '/route', '/service/route'],
  ['/service/', '/', B, '/routereq', '/service/routereq'],
  ['/service/', '/', B, '/route/req', '/service/route/req'],
  ['/service/', '/route', F, '/route', '/service/route'],
  ['/service/', '/route', F, '/route/', '/service/route/'],
  ['/service/', '/route', F, '/routereq', '/service/routereq'],
  ['/service/', '/route', T, '/route', '/service'],
  ['/service/', '/route', T, '/route/', '/service/'],
  ['/service/', '/route', T, '/routereq', '/service/req'],
  ['/service/', '/route/', F, '/route/', '/service/route/'],
  ['/service/', '/route/', F, '/route/req', '/service/route/req'],
  ['/service/', '/route/', T, '/route/', '/service/'],
  ['/service/', '/route/', T, '/route/req', '/service/req'],
  // routes matched on host, not paths
  ['/', null, B, '/', '/'],
  ['/', null, B, '/route', '/route'],
  ['/', null, B, '/route/', '/route/'],
  ['/service', null, B, '/', '/service'],
  ['/service', null, B, '/route', '/service/route'],
  ['/service', null, B, '/route/', '/service/route/'],
  ['/service/', null, B, '/', '/service/'],
  ['/service/', null, B, '/route', '/service/route'],
  ['/service/', null, B, '/route/', '/service/route/'],
];

for (const [servicePath, routePath, strips, request, expected] of V0_ROWS) {
  for (const strip of strips) {
    const title = `service ${servicePath}, route ${routePath ?? 'host'}, strip ${strip}, req ${request} → ${expected}`;
    test(title, () => {
      const r = routePath === null
        ? route({ hosts: ['localbin.com'], stripPath: strip })
        : route({ paths: [routePath], stripPath: strip });
      const m = new Router([r]).match('GET', 'localbin.com', request, [], 8000);
      assert.ok(m, 'route must match');
      assert.equal(joinUpstreamPath(servicePath, strip, request, m.prefix), expected);
    });
  }
}

test('path_handling v1 is ignored: v0 rules apply', () => {
  const r = route({ paths: ['/'], pathHandling: 'v1' });
  const m = new Router([r]).match('GET', '', '/route', [], 8000)!;
  assert.equal(joinUpstreamPath('/service', r.stripPath, '/route', m.prefix), '/service/route');
});

test('regex strip removes the full regex match', () => {
  const r = route({ paths: ['~/users/\\d+'] });
  const m = new Router([r]).match('GET', '', '/users/42/orders', [], 8000)!;
  assert.equal(m.prefix, '/users/42');
  assert.equal(joinUpstreamPath('/api', true, '/users/42/orders', m.prefix), '/api/orders');
});

test('a null service path means /', () => {
  assert.equal(joinUpstreamPath(null, true, '/route/x', '/route'), '/x');
  assert.equal(joinUpstreamPath(null, false, '/route/x', '/route'), '/route/x');
});

test('sanitizeUriPostfix drops a leading ./ or ../', () => {
  assert.equal(sanitizeUriPostfix('./x'), 'x');
  assert.equal(sanitizeUriPostfix('../x'), 'x');
  assert.equal(sanitizeUriPostfix('.'), '');
  assert.equal(sanitizeUriPostfix('..'), '');
  assert.equal(sanitizeUriPostfix('/x'), '/x');
  assert.equal(joinUpstreamPath('/s', true, '/route.x', '/route'), '/s/.x');
  assert.equal(joinUpstreamPath('/s', true, '/route./x', '/route'), '/s/x');
});
