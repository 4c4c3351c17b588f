import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, sameRoundRatio } from '../lib/rounds';

test('median of an odd count is the middle, of an even count the mean of the two middles, NaN for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([7]), 7);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([10, 2]), 6);
  // Sorted as numbers, not as strings, and the input is left as it was.
  const xs = [100, 9, 20, 3];
  assert.equal(median(xs), 14.5);
  assert.deepEqual(xs, [100, 9, 20, 3]);
  assert.ok(Number.isNaN(median([])));
});

test('ratios are taken within a round, then the median over rounds; a round missing a row is skipped', () => {
  const samples = [
    { key: 'a', round: 1, rps: 90 }, { key: 'b', round: 1, rps: 100 },
    { key: 'a', round: 2, rps: 50 }, { key: 'b', round: 2, rps: 40 },
    { key: 'a', round: 3, rps: 70 }, { key: 'b', round: 3, rps: 100 },
    { key: 'a', round: 4, rps: 10 },
  ];
  // Same-round ratios 0.9, 1.25, 0.7 → median 0.9 (not median(a)/median(b) = 70/100).
  assert.equal(sameRoundRatio(samples, 4, 'a', 'b', (s) => s.rps), 0.9);
  assert.ok(Number.isNaN(sameRoundRatio(samples, 4, 'a', 'c', (s) => s.rps)));
});
