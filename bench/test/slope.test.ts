import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leastSquares, memorySlope, type MemSample } from '../lib/slope';

const MIB = 1024 * 1024;

test('least squares recovers a line exactly, and the best line through scattered points', () => {
  const exact = leastSquares([0, 1, 2, 3], [5, 7, 9, 11]);
  assert.equal(exact.slope, 2);
  assert.equal(exact.intercept, 5);
  assert.equal(exact.r2, 1);
  // y = 1, 3, 2, 4 over x = 0..3: slope = Σdxdy/Σdx² = 4/5, intercept = 2.5 − 0.8·1.5 = 1.3.
  const scattered = leastSquares([0, 1, 2, 3], [1, 3, 2, 4]);
  assert.ok(Math.abs(scattered.slope - 0.8) < 1e-12);
  assert.ok(Math.abs(scattered.intercept - 1.3) < 1e-12);
  assert.ok(scattered.r2 > 0 && scattered.r2 < 1);
});

test('least squares: a flat series has slope 0, one x value has none', () => {
  assert.equal(leastSquares([0, 1, 2], [4, 4, 4]).slope, 0);
  assert.ok(Number.isNaN(leastSquares([1, 1], [2, 3]).slope));
  assert.ok(Number.isNaN(leastSquares([], []).slope));
});

test('memory slope is MiB per hour over the samples after warm-up only', () => {
  // Warm-up: RSS climbs 50 MiB in the first 10 minutes (JIT, pools); afterwards +6 MiB per hour.
  const samples: MemSample[] = [];
  for (let t = 0; t <= 3600; t += 60) {
    const mib = t < 600 ? 50 + (t / 600) * 50 : 100 + ((t - 600) / 3600) * 6;
    samples.push({ t, rssBytes: mib * MIB, heapUsedBytes: t % 120 === 0 ? 20 * MIB : null });
  }
  const r = memorySlope(samples, 600);
  assert.equal(r.n, 51);
  assert.ok(Math.abs(r.rssMiBPerHour - 6) < 1e-9, String(r.rssMiBPerHour));
  assert.equal(r.heapMiBPerHour, 0);
  assert.equal(r.rssFirstMiB, 100);
  assert.ok(Math.abs(r.rssLastMiB - 105) < 1e-9);
  assert.ok(Math.abs(r.rssMaxMiB - 105) < 1e-9);
  // Without the warm-up cut the early climb dominates the fit.
  assert.ok(memorySlope(samples, 0).rssMiBPerHour > 20);
});
