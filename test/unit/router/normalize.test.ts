import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeUpstreamPath, normalizePath } from '../../../src/worker/router';

const NORMALIZE: [string, string | null][] = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/public/../admin', '/admin'],
  ['/a/./b/../c', '/a/c'],
  ['/a//b', '/a/b'],
  ['//a///b//', '/a/b/'],
  ['/a/.', '/a/'],
  ['/a/..', '/'],
  ['/a/b/..', '/a/'],
  
  
  ['/.well-known/x', '/.well-known/x'],
  ['/a/..b/c', '/a/..b/c'],
  ['/a.b/c.d', '/a.b/c.d'],
  ['/%65', '/e'],
  ['/%7Efoo', '/~foo'],
  ['/cat%20dog', '/cat dog'],
  ['/a%2fb', '/a%2Fb'],
  ['/a%2Fb', '/a%2Fb'],
  ['/%3a%40%21', '/%3A%40%21'],
  ['/100%25', '/100%25'],
  ['/a/%2e%2e/admin', '/admin'],
  ['/x/%2E/y', '/x/y'],
  ['/caf%C3%A9', '/café'],
  ['/caf%c3%a9', '/café'],
  ['/bad%FF', '/bad%FF'],
  ['/bad%ff%41', '/bad%FFA'],
  ['/%0a', '/\n'],
  // cannot be normalized safely: the caller answers 400
  ['', null],
  ['a/b', null],
  ['*', null],
  ['/a%', null],
  ['/a%2', null],
  ['/a%zz', null],
  ['/a%00b', null],
  ['/a\u0000b', null],
  ['/a\nb', null],
  ['/a\u007fb', null],
  // nginx answers 400 to a fragment and to dot-segments above the root (Kong's normalize alone
  // would drop such a `..`: these rows encoded that behaviour until issue 19)
  ['/private/x#/public', null],
  ['/#', null],
  ['/..', null],
  ['/../../x', null],
  ['/a/b/../../..', null],
  ['/public/../../private/x', null],
  ['/%2e%2e/admin', null],
  ['/a/%2E%2E/%2e%2e/b', null],
];

for (const [input, expected] of NORMALIZE) {
  test(`normalizePath(${JSON.stringify(input)}) = ${JSON.stringify(expected)}`, () => {
    assert.equal(normalizePath(input), expected);
  });
}

test('normalizePath returns its input for an already normal path', () => {
  const p = ['/svc', '1234/v1/items'].join('');
  assert.equal(normalizePath(p), p);
});

const ESCAPE: [string, string][] = [
  ['/a/b', '/a/b'],
  ['/cat dog', '/cat%20dog'],
  ["/!#$&'()*+,/:;=?@[]-_.~%", "/!#$&'()*+,/:;=?@[]-_.~%"],
  ['/AZaz09', '/AZaz09'],
  ['/a"b<c>d', '/a%22b%3Cc%3Ed'],
  ['/a\\b', '/a%5Cb'],
  ['/{x}|^`', '/%7Bx%7D%7C%5E%60'],
  ['/café', '/caf%C3%A9'],
  ['/\n', '/%0A'],
  ['/😀', '/%F0%9F%98%80'],
];

for (const [input, expected] of ESCAPE) {
  test(`escapeUpstreamPath(${JSON.stringify(input)}) = ${expected}`, () => {
    assert.equal(escapeUpstreamPath(input), expected);
  });
}

test('normalize then escape round-trips encoded bytes', () => {
  assert.equal(escapeUpstreamPath(normalizePath('/cat%20dog')!), '/cat%20dog');
  assert.equal(escapeUpstreamPath(normalizePath('/caf%c3%a9')!), '/caf%C3%A9');
  assert.equal(escapeUpstreamPath(normalizePath('/a%2fb')!), '/a%2Fb');
});
