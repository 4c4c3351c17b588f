import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isToken, isHeaderValue, isPathText, hasControlChar } from '../../../src/lib/http-chars';

// The regexes the loops replaced (upstream-h1/request-head.ts, server/request.ts), kept here as the
// specification of the accepted sets.
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE_RE = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_PATH_RE = /[^\u0021-\u00ff]/;
const CONTROL_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
const METHOD_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function check(s: string, where: string): void {
  assert.equal(isToken(s), TOKEN_RE.test(s), `isToken(${JSON.stringify(s)}) ${where}`);
  assert.equal(isHeaderValue(s), !BAD_VALUE_RE.test(s), `isHeaderValue(${JSON.stringify(s)}) ${where}`);
  assert.equal(isPathText(s), !BAD_PATH_RE.test(s), `isPathText(${JSON.stringify(s)}) ${where}`);
  assert.equal(hasControlChar(s), CONTROL_RE.test(s), `hasControlChar(${JSON.stringify(s)}) ${where}`);
  assert.equal(isToken(s), METHOD_RE.test(s), `isToken(${JSON.stringify(s)}) as a method ${where}`);
}

test('HTTP character checks: the charCode loops accept exactly what the regexes did, for every UTF-16 code unit alone', () => {
  check('', 'empty');
  for (let c = 0; c <= 0xffff; c++) check(String.fromCharCode(c), `code ${c}`);
  check('\u{1f600}', 'a surrogate pair');
});

test('HTTP character checks: the charCode loops agree with the regexes on random strings (bytes 0-255, chars above 255)', () => {
  // mulberry32: a fixed seed, so a failure reproduces.
  let seed = 0x21c0de;
  const rand = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const above = [0x100, 0x17f, 0x2028, 0x3000, 0xd800, 0xdc00, 0xfeff, 0xffff];
  const pick = (): number => {
    const r = rand();
    // Mostly characters some check accepts, so accepted strings are common too, not only the first bad char.
    if (r < 0.4) return tchars.charCodeAt(Math.floor(rand() * tchars.length));
    if (r < 0.6) return 0x20 + Math.floor(rand() * 0x5f); // SP to `~`
    if (r < 0.75) return 0x80 + Math.floor(rand() * 0x80); // obs-text
    if (r < 0.95) return Math.floor(rand() * 256); // any byte
    return r < 0.975 ? above[Math.floor(rand() * above.length)] : 0x100 + Math.floor(rand() * 0xff00);
  };
  const accepted = [0, 0, 0, 0];
  for (let n = 0; n < 200_000; n++) {
    const len = Math.floor(rand() * 12);
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(pick());
    check(s, `(string ${n})`);
    if (isToken(s)) accepted[0]++;
    if (isHeaderValue(s)) accepted[1]++;
    if (isPathText(s)) accepted[2]++;
    if (hasControlChar(s)) accepted[3]++;
  }
  // Both outcomes are exercised for each check.
  for (const a of accepted) assert.ok(a > 5_000 && a < 195_000, `accepted counts ${accepted.join(', ')}`);
});
