/**
 * Many host routes: the router indexes them by host (host-index.ts) and must still answer in
 * Kong's priority order. Explicit priority cases, then every request of a random table checked
 * against a brute-force reference: all routes that accept the request, best priority first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteSnap } from '../../../src/shared/snapshot';
import { Router, comparePriority, getPriority } from '../../../src/worker/router';
import { HOST_INDEX_MIN } from '../../../src/worker/router/host-index';
import { hit, route } from './factory';

/** Kong's host rules, written plainly: exact, `*.x` suffix, `x.*` prefix, optional port. */
function hostAccepts(patterns: readonly string[], rawHost: string, listenerPort: number): boolean {
  const m = /^(.*?)(?::(\d+))?$/.exec(rawHost)!;
  const host = m[1].toLowerCase();
  const port = m[2] !== undefined ? Number(m[2]) : listenerPort;
  return patterns.some((p) => {
    const pm = /^(.*?)(?::(\d+))?$/.exec(p.toLowerCase())!;
    if (pm[2] !== undefined && Number(pm[2]) !== port) return false;
    const text = pm[1];
    if (text.startsWith('*')) return host.endsWith(text.slice(1));
    if (text.endsWith('*')) return host.startsWith(text.slice(0, -1));
    return host === text;
  });
}

/** The reference: every accepting route, ordered by Kong's priority (getPriority/comparePriority). */
function reference(routes: RouteSnap[], method: string, host: string, path: string, port: number): number | null {
  const candidates = routes
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => (r.methods === null || r.methods.includes(method)) && (r.hosts === null || hostAccepts(r.hosts, host, port)) && (r.paths === null || r.paths.some((p) => path.startsWith(p))));
  candidates.sort((a, b) => comparePriority(getPriority(a.r, a.r.paths), getPriority(b.r, b.r.paths)));
  return candidates.length === 0 ? null : candidates[0].i;
}

function manyHostRoutes(n: number): RouteSnap[] {
  const routes: RouteSnap[] = [];
  for (let i = 0; i < n; i++) routes.push(route({ hosts: [`h${i}.example.com`] }));
  return routes;
}

test('host-only routes at scale: an exact host beats a wildcard of the same weight, a wildcard answers the rest', () => {
  const routes = manyHostRoutes(200);
  const wildcard = routes.push(route({ hosts: ['*.example.com'] })) - 1;
  const router = new Router(routes);
  assert.equal(hit(router, { host: 'h42.example.com' }), 42);
  assert.equal(hit(router, { host: 'H199.Example.COM:8000' }), 199);
  assert.equal(hit(router, { host: 'h200.example.com' }), wildcard);
  assert.equal(hit(router, { host: 'a.b.example.com' }), wildcard);
  assert.equal(hit(router, { host: 'example.com' }), null);
  assert.equal(hit(router, { host: '' }), null);
});

test('host-only routes at scale: more fields win over a plainer host; a path `/` beats a wildcard-host-only route', () => {
  const routes = manyHostRoutes(100);
  const withMethod = routes.push(route({ hosts: ['*.example.com'], methods: ['POST'] })) - 1;
  const wildcardOnly = routes.push(route({ hosts: ['*.other.net'] })) - 1;
  const slash = routes.push(route({ paths: ['/'] })) - 1;
  const router = new Router(routes);
  // weight 2 (methods + hosts) beats the exact host-only route (weight 1)
  assert.equal(hit(router, { method: 'POST', host: 'h7.example.com' }), withMethod);
  assert.equal(hit(router, { method: 'GET', host: 'h7.example.com' }), 7);
  // weight 1 each; a plain host beats the path route, the path route (prefix length 1) beats a wildcard host
  assert.equal(hit(router, { host: 'x.other.net' }), slash);
  assert.equal(hit(router, { host: 'nowhere.org' }), slash);
  assert.equal(hit(router, { host: 'h3.example.com', path: '/x' }), 3);
  assert.equal(wildcardOnly, 101);
});

test('host-only routes at scale: equal priorities go to the larger id, ports and several hosts per route count', () => {
  const routes = manyHostRoutes(50);
  const small = routes.push(route({ id: '00000000-0000-4000-8000-aaaaaaaaaaa1', hosts: ['*.tie.io'] })) - 1;
  const large = routes.push(route({ id: '00000000-0000-4000-8000-aaaaaaaaaaa2', hosts: ['api.*'] })) - 1;
  const ported = routes.push(route({ hosts: ['p.example.com:8443'] })) - 1;
  const multi = routes.push(route({ hosts: ['m1.example.com', 'm2.example.com', '*.m.example.com'] })) - 1;
  const router = new Router(routes);
  assert.equal(hit(router, { host: 'api.tie.io' }), large);
  assert.equal(hit(router, { host: 'www.tie.io' }), small);
  assert.equal(hit(router, { host: 'api.anything' }), large);
  assert.equal(hit(router, { host: 'p.example.com', port: 8443 }), ported);
  assert.equal(hit(router, { host: 'p.example.com:8443' }), ported);
  assert.equal(hit(router, { host: 'p.example.com' }), null);
  for (const host of ['m1.example.com', 'm2.example.com', 'x.m.example.com']) assert.equal(hit(router, { host }), multi, host);
});

test('a random table of many host routes answers every request as the brute-force reference does', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const names = ['a', 'b', 'c', 'api', 'www', 'x'];
  const domains = ['example.com', 'example.org', 'b.example.com', 'test'];
  const hostOf = (): string => {
    const k = rand(10);
    const name = `${names[rand(names.length)]}.${domains[rand(domains.length)]}`;
    if (k < 5) return name;
    if (k < 7) return `*.${domains[rand(domains.length)]}`;
    if (k < 9) return `${names[rand(names.length)]}.*`;
    return `${name}:${8000 + rand(2)}`;
  };
  const routes: RouteSnap[] = [];
  for (let i = 0; i < 400; i++) {
    const hosts = Array.from({ length: 1 + rand(2) }, hostOf);
    const k = rand(10);
    routes.push(
      route({
        hosts,
        methods: k < 2 ? ['POST'] : null,
        paths: k === 9 ? ['/p'] : k === 8 ? ['/'] : null,
      }),
    );
  }
  assert.ok(routes.filter((r) => r.paths === null).length >= HOST_INDEX_MIN);
  const router = new Router(routes);
  let checked = 0;
  let matched = 0;
  for (const n of [...names, 'zzz']) {
    for (const d of [...domains, 'nowhere.net', 'EXAMPLE.COM']) {
      for (const suffix of ['', ':8000', ':8001']) {
        for (const method of ['GET', 'POST']) {
          for (const path of ['/', '/p/x']) {
            const host = `${n}.${d}${suffix}`;
            const expected = reference(routes, method, host, path, 8000);
            assert.equal(hit(router, { method, host, path, port: 8000 }), expected, `${method} ${host}${path}`);
            checked++;
            if (expected !== null) matched++;
          }
        }
      }
    }
  }
  assert.equal(checked, 7 * 6 * 3 * 2 * 2);
  assert.ok(matched > checked / 2, `only ${matched} of ${checked} requests matched a route: the table tests too little`);
});
