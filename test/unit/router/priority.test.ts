/**
 * Kong's traditional_compatible evaluation order (kong-reference.md section b, "Consequences";
 * spec/01-unit/08-router_spec.lua). Each case lists routes and requests with the expected
 * winner (index into the routes) or null for no match. Routes are declared in an order that would
 * give the wrong answer if the router simply took the first match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteSnap } from '../../../src/shared/snapshot';
import { Router, comparePriority, getPriority, splitPathGroups } from '../../../src/worker/router';
import { hit, route, type Req } from './factory';

interface Case {
  name: string;
  routes: RouteSnap[];
  requests: [Req, number | null][];
}

const CASES: Case[] = [
  {
    name: 'longer prefix wins',
    routes: [route({ paths: ['/foo'] }), route({ paths: ['/foo/bar'] }), route({ paths: ['/'] })],
    requests: [
      [{ path: '/foo/bar/baz' }, 1],
      [{ path: '/foo/baz' }, 0],
      [{ path: '/other' }, 2],
    ],
  },
  {
    name: 'prefix is a plain string prefix: /foo matches /foobar',
    routes: [route({ paths: ['/foo'] })],
    requests: [
      [{ path: '/foobar' }, 0],
      [{ path: '/fo' }, null],
      [{ path: '/Foo' }, null],
    ],
  },
  {
    name: 'a regex beats a prefix with the same field count, even a longer one',
    routes: [route({ paths: ['/users/settings/profile'] }), route({ paths: ['~/users/\\w+'] })],
    requests: [
      [{ path: '/users/settings/profile' }, 1],
      [{ path: '/users/' }, null],
    ],
  },
  {
    name: 'higher regex_priority wins among regexes',
    routes: [
      route({ paths: ['~/api/.*'], regexPriority: 1 }),
      route({ paths: ['~/api/v1/.*'], regexPriority: 5 }),
      route({ paths: ['~/api/v1/x'], regexPriority: 0 }),
    ],
    requests: [
      [{ path: '/api/v1/x' }, 1],
      [{ path: '/api/v2/y' }, 0],
    ],
  },
  {
    name: 'regex_priority does not count for prefix routes',
    routes: [route({ paths: ['/ab'], regexPriority: 100 }), route({ paths: ['/abc'] })],
    requests: [[{ path: '/abcd' }, 1]],
  },
  {
    name: 'host+path beats path-only regardless of length',
    routes: [route({ paths: ['/very/long/path/prefix'] }), route({ hosts: ['example.com'], paths: ['/'] })],
    requests: [
      [{ host: 'example.com', path: '/very/long/path/prefix/x' }, 1],
      [{ host: 'other.com', path: '/very/long/path/prefix/x' }, 0],
    ],
  },
  {
    name: 'plain host beats wildcard host',
    routes: [route({ hosts: ['*.example.com'] }), route({ hosts: ['api.example.com'] }), route({ hosts: ['api.*'] })],
    requests: [
      [{ host: 'api.example.com' }, 1],
      [{ host: 'www.example.com' }, 0],
      [{ host: 'api.example.org' }, 2],
    ],
  },
  {
    name: 'more header names beat longer paths',
    routes: [
      route({ paths: ['/a/very/long/path'], headers: { 'x-a': ['1'] } }),
      route({ paths: ['/'], headers: { 'x-a': ['1'], 'x-b': ['2'] } }),
    ],
    requests: [
      [{ path: '/a/very/long/path', headers: ['x-a', '1', 'x-b', '2'] }, 1],
      [{ path: '/a/very/long/path', headers: ['x-a', '1'] }, 0],
    ],
  },
  {
    name: 'more fields beat fewer (method+path over path)',
    routes: [route({ paths: ['/x/y/z'] }), route({ paths: ['/x'], methods: ['POST'] })],
    requests: [
      [{ method: 'POST', path: '/x/y/z' }, 1],
      [{ method: 'GET', path: '/x/y/z' }, 0],
    ],
  },
  {
    name: 'regex paths are anchored at the start only',
    routes: [route({ paths: ['~/users/\\d+'] })],
    requests: [
      [{ path: '/users/1/extra' }, 0],
      [{ path: '/v1/users/1' }, null],
      [{ path: '/users/abc' }, null],
    ],
  },
  {
    name: 'equal priorities: the larger route UUID wins',
    routes: [
      route({ id: 'aaaaaaaa-0000-4000-8000-000000000000', paths: ['/tie'] }),
      route({ id: 'ffffffff-0000-4000-8000-000000000000', paths: ['/tie'] }),
      route({ id: 'bbbbbbbb-0000-4000-8000-000000000000', paths: ['/tie'] }),
    ],
    requests: [[{ path: '/tie' }, 1]],
  },
  {
    name: 'a multi-path route is split: each path length keeps its own priority',
    routes: [route({ paths: ['/a', '/a/b/c/d'] }), route({ paths: ['/a/b'] })],
    requests: [
      [{ path: '/a/b/c/d/e' }, 0],
      [{ path: '/a/b/c' }, 1],
      [{ path: '/a/x' }, 0],
    ],
  },
  {
    name: 'a route mixing regex and prefix paths is split into a regex group and a prefix group',
    routes: [route({ paths: ['/mix', '~/re\\d'] }), route({ paths: ['/mixed/longer'] }), route({ paths: ['/re1/x/y/z'] })],
    requests: [
      [{ path: '/mixed/longer' }, 1],
      [{ path: '/re1/x/y/z' }, 0],
      [{ path: '/mix' }, 0],
    ],
  },
];

for (const c of CASES) {
  test(c.name, () => {
    const router = new Router(c.routes);
    for (const [req, expected] of c.requests) {
      assert.equal(hit(router, req), expected, JSON.stringify(req));
    }
  });
}

test('getPriority fields follow Kong', () => {
  const p = getPriority(route({ methods: ['GET'], hosts: ['a.com'], headers: { x: ['1'], y: ['2'] } }), ['/abcd']);
  assert.deepEqual(
    { ...p, id: undefined },
    { weight: 4, plainHost: 1, headerCount: 2, regex: 0, regexPriority: 0, maxLength: 5, id: undefined, group: 0 },
  );
  const r = getPriority(route({ hosts: ['*.a.com'], regexPriority: 7 }), ['~/x']);
  assert.equal(r.plainHost, 0);
  assert.equal(r.regex, 1);
  assert.equal(r.regexPriority, 7);
  assert.equal(r.maxLength, 0);
  // prefix length is counted in bytes, like Lua's #p
  assert.equal(getPriority(route(), ['/é']).maxLength, 3);
});

test('splitPathGroups groups by byte length and puts all regexes together', () => {
  assert.deepEqual(splitPathGroups(['/ab', '~/x', '/cd', '/abc', '~/y', '/ab']), [['/ab', '/cd'], ['~/x', '~/y'], ['/abc']]);
  assert.deepEqual(splitPathGroups(null), [null]);
  assert.deepEqual(splitPathGroups([]), [null]);
});

test('comparePriority orders negative regex_priority below zero', () => {
  const a = getPriority(route({ regexPriority: -1 }), ['~/a']);
  const b = getPriority(route({ regexPriority: 0 }), ['~/a']);
  assert.ok(comparePriority(b, a) < 0);
});

test('splitPathGroups: a route with many paths drops duplicates as a short one does (through a Set past 16 paths)', () => {
  const paths: string[] = [];
  for (let i = 0; i < 60; i++) paths.push(i % 7 === 0 ? `~/re${i % 3}` : `/p${i % 25}`);
  const groups = splitPathGroups(paths);
  // By hand: regexes in one group, prefixes by byte length, first appearance order, no repeats.
  const expected: string[][] = [];
  const keyOf = (p: string): number => (p.startsWith('~') ? -1 : Buffer.byteLength(p));
  const keys: number[] = [];
  for (const p of paths) {
    const at = keys.indexOf(keyOf(p));
    if (at === -1) {
      keys.push(keyOf(p));
      expected.push([p]);
    } else if (!expected[at].includes(p)) expected[at].push(p);
  }
  assert.deepEqual(groups, expected);
  assert.equal(groups.flat().length, new Set(paths).size);
});
