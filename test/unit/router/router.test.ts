/** Field matching (hosts, ports, methods, headers, snis), route filtering and match results. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../src/worker/router';
import { hit, route, service } from './factory';

test('host matching: exact, wildcards, case, ports', () => {
  const routes = [
    route({ hosts: ['example.com'] }),
    route({ hosts: ['*.example.com'] }),
    route({ hosts: ['api.*'] }),
    route({ hosts: ['port.com:8443'] }),
  ];
  const router = new Router(routes);
  const rows: [string, number, number | null][] = [
    ['example.com', 8000, 0],
    ['EXAMPLE.com', 8000, 0],
    ['example.com:1234', 8000, 0], // route host without port accepts any port
    ['a.example.com', 8000, 1],
    ['x.y.example.com', 8000, 1],
    ['api.other.net', 8000, 2],
    ['port.com:8443', 8000, 3],
    ['port.com', 8443, 3], // no port in Host: the listener port is used
    ['port.com', 8000, null],
    ['port.com:9000', 8443, null],
    ['nope.com', 8000, null],
    ['', 8000, null],
    ['example.com.evil', 8000, null],
  ];
  for (const [host, port, expected] of rows) assert.equal(hit(router, { host, port }), expected, `${host} @${port}`);
});

test('*.example.com does not match example.com', () => {
  const router = new Router([route({ hosts: ['*.example.com'] })]);
  assert.equal(hit(router, { host: 'example.com' }), null);
  assert.equal(hit(router, { host: 'www.example.com' }), 0);
});

test('methods are exact', () => {
  const router = new Router([route({ methods: ['GET', 'POST'] })]);
  assert.equal(hit(router, { method: 'POST' }), 0);
  assert.equal(hit(router, { method: 'PUT' }), null);
  assert.equal(hit(router, { method: 'get' }), null);
});

test('headers: case-insensitive values, regex values, all names required, any value', () => {
  const router = new Router([
    route({ headers: { version: ['v1', 'v2'], 'x-tenant': ['~*^acme-\\d+$'] } }),
    route({ headers: { x_under: ['yes'] } }),
  ]);
  assert.equal(hit(router, { headers: ['version', 'V1', 'x-tenant', 'ACME-12'] }), 0);
  assert.equal(hit(router, { headers: ['version', 'v3', 'x-tenant', 'acme-1'] }), null);
  assert.equal(hit(router, { headers: ['version', 'v2'] }), null);
  assert.equal(hit(router, { headers: ['x-tenant', 'other', 'version', 'v1', 'x-tenant', 'acme-7'] }), 0);
  assert.equal(hit(router, { headers: ['x-under', 'YES'] }), 1);
});

test('paths are matched case-sensitively against the normalized path', () => {
  const router = new Router([route({ paths: ['/Api'] })]);
  assert.equal(hit(router, { path: '/Api/x' }), 0);
  assert.equal(hit(router, { path: '/api/x' }), null);
});

test('all fields are ANDed', () => {
  const router = new Router([route({ methods: ['GET'], hosts: ['a.com'], paths: ['/p'], headers: { h: ['1'] } })]);
  const ok = { method: 'GET', host: 'a.com', path: '/p', headers: ['h', '1'] };
  assert.equal(hit(router, ok), 0);
  assert.equal(hit(router, { ...ok, method: 'PUT' }), null);
  assert.equal(hit(router, { ...ok, host: 'b.com' }), null);
  assert.equal(hit(router, { ...ok, path: '/q' }), null);
  assert.equal(hit(router, { ...ok, headers: [] }), null);
});

test('a rejected candidate falls through to the next one by priority', () => {
  const router = new Router([
    route({ paths: ['/a'] }),
    route({ paths: ['/a/b'], methods: ['POST'] }),
    route({ paths: ['/a/b'], hosts: ['h.com'] }),
    route({ paths: ['~/a/b'], headers: { x: ['1'] } }),
  ]);
  assert.equal(hit(router, { path: '/a/b', headers: ['x', '1'] }), 3);
  assert.equal(hit(router, { path: '/a/b', host: 'h.com' }), 2);
  assert.equal(hit(router, { path: '/a/b', method: 'POST' }), 1);
  assert.equal(hit(router, { path: '/a/b' }), 0);
});

test('snis only constrain requests that carry one', () => {
  const router = new Router([route({ snis: ['secure.com'], paths: ['/'] })]);
  assert.equal(hit(router, {}), 0);
  assert.equal(hit(router, { sni: 'secure.com' }), 0);
  assert.equal(hit(router, { sni: 'other.com' }), null);
});

test('non-http routes and routes of disabled services are left out', () => {
  const services = [service({ enabled: false }), service()];
  const router = new Router(
    [
      route({ paths: ['/x'], protocols: ['grpc', 'grpcs'] }),
      route({ paths: ['/x'], protocols: ['tcp'] }),
      route({ paths: ['/x'], service: 0 }),
      route({ paths: ['/'], service: 1 }),
    ],
    services,
  );
  assert.equal(hit(router, { path: '/x' }), 3);
  // without services the router cannot know, and the disabled one wins (longer prefix)
  assert.equal(hit(new Router([route({ paths: ['/x'], service: 0 }), route({ paths: ['/'] })]), { path: '/x' }), 0);
});

test('https-only routes still match (the caller answers 426)', () => {
  assert.equal(hit(new Router([route({ protocols: ['https'], paths: ['/'] })]), {}), 0);
});

test('regex captures: numbered and named groups, null without groups', () => {
  const router = new Router([
    route({ paths: ['~/users/(?<id>\\d+)/(\\w+)'] }),
    route({ paths: ['~/plain/\\d+'] }),
    route({ paths: ['~/rust/(?P<name>[a-z]+)'] }),
  ]);
  const m = router.match('GET', '', '/users/42/orders/x', [], 80)!;
  assert.equal(m.routeIndex, 0);
  assert.equal(m.prefix, '/users/42/orders');
  assert.equal(m.captures![1], '42');
  assert.equal(m.captures![2], 'orders');
  assert.equal(m.captures!.groups!.id, '42');
  const p = router.match('GET', '', '/plain/7', [], 80)!;
  assert.equal(p.routeIndex, 1);
  assert.equal(p.captures, null);
  assert.equal(router.match('GET', '', '/rust/abc', [], 80)!.captures!.groups!.name, 'abc');
});

test('an invalid regex skips its route only', () => {
  const router = new Router([route({ paths: ['~/bad(('] }), route({ paths: ['/'] })]);
  assert.equal(router.skipped.length, 1);
  assert.equal(router.skipped[0].routeIndex, 0);
  assert.equal(hit(router, { path: '/bad((' }), 1);
});

test('a prefix hit returns the same precomputed object every time', () => {
  const router = new Router([route({ paths: ['/a', '/b'] })]);
  const m1 = router.match('GET', '', '/a/x', [], 80);
  const m2 = router.match('GET', '', '/a/y', [], 80);
  assert.ok(m1 !== null);
  assert.equal(m1, m2);
  assert.deepEqual(m1, { routeIndex: 0, prefix: '/a', captures: null });
  assert.equal(router.match('GET', '', '/b', [], 80)!.prefix, '/b');
});

test('many routes sharing prefixes (tree splits) still resolve correctly', () => {
  const routes = [];
  for (let i = 0; i < 300; i++) routes.push(route({ paths: [`/svc${i}/v1/items`] }));
  routes.push(route({ paths: ['/svc1'] }));
  const router = new Router(routes);
  for (let i = 0; i < 300; i++) assert.equal(hit(router, { path: `/svc${i}/v1/items/42` }), i);
  assert.equal(hit(router, { path: '/svc1/v2' }), 300);
  assert.equal(hit(router, { path: '/svc10/v2' }), 300); // plain string prefix of /svc1
  assert.equal(hit(router, { path: '/svc/v1/items' }), null);
});

test('no routes: nothing matches', () => {
  assert.equal(hit(new Router([]), { path: '/' }), null);
});
