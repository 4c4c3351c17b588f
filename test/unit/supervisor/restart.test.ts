import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextBackoff, HeartbeatWatch, BACKOFF_MIN_MS, BACKOFF_MAX_MS, STABLE_AFTER_MS } from '../../../src/primary/supervisor/restart';

test('restart backoff doubles for a crash loop, caps, and resets after a stable run', () => {
  let b = 0;
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    b = nextBackoff(b, 50);
    seen.push(b);
  }
  assert.deepEqual(seen.slice(0, 4), [BACKOFF_MIN_MS, 200, 400, 800]);
  assert.equal(seen.at(-1), BACKOFF_MAX_MS);
  assert.equal(nextBackoff(BACKOFF_MAX_MS, STABLE_AFTER_MS), BACKOFF_MIN_MS);
});

test('a heartbeat that stops moving goes stale after the timeout, not before', () => {
  const w = new HeartbeatWatch();
  w.reset(0);
  assert.equal(w.stale(1, 100, 1000), false);
  assert.equal(w.stale(2, 600, 1000), false);
  assert.equal(w.stale(2, 1500, 1000), false);
  assert.equal(w.stale(2, 1601, 1000), true);
  assert.equal(w.stale(3, 1700, 1000), false);
});
