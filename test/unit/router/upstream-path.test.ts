/**
 * Every v0 row of Kong's spec/fixtures/router_path_handling_tests.lua (Kong/kong @ 34c7dfd), run
 * through the Router (to get the matched prefix) and joinUpstreamPath.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, joinUpstreamPath, sanitizeUriPostfix } from '../../../src/worker/router';
import { route } from './factory';
import { V0_ROWS } from '../../fixtures/kong-path-handling';

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
