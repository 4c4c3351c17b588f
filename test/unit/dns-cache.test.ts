/**
 * The primary's DNS cache (primary/dns/cache.ts) over a scripted lookup: a failed lookup keeps
 * the last good answer for dns_stale_ttl, then the name is failed, and it heals on the next
 * answer; an unchanged answer is no change; a name no longer tracked is not asked again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameCache, type View } from '../../src/primary/dns/cache';
import type { Lookup, LookupResult } from '../../src/primary/dns/lookup';
import { waitFor } from '../helpers/wait';

function scripted(): { lookup: Lookup; next: LookupResult; asked: number } {
  const s = {
    asked: 0,
    next: { ok: true, type: 'A', ttl: 0, addresses: [{ ip: '10.0.0.1', port: null, weight: null, name: null }] } as LookupResult,
    lookup: null as unknown as Lookup,
  };
  s.lookup = { resolve: async () => (s.asked++, s.next) } as unknown as Lookup;
  return s;
}

const state = (v: View): string => (v.state === 'ok' ? v.addresses.map((a) => a.ip).join(',') : v.state);

test('stale answer, then failed, then healed; equal answers change nothing', { timeout: 20000 }, async () => {
  const s = scripted();
  const changes: string[] = [];
  const cache = new NameCache(s.lookup, { stale: 1.5, notFound: 0.1, error: 0.1 }, (name) => changes.push(state(cache.view(name))));
  try {
    cache.track(new Set(['a.test']));
    assert.equal(cache.view('a.test').state, 'pending');
    await cache.settled();
    assert.deepEqual(changes, ['10.0.0.1']);
    // TTL 0 is asked again after 1 s: the same answer is no change.
    await waitFor('a second lookup', () => s.asked >= 2, { timeoutMs: 5000 });
    assert.deepEqual(changes, ['10.0.0.1']);
    s.next = { ok: false, notFound: false, reason: 'timeout' };
    const asked = s.asked;
    await waitFor('failed lookups', () => s.asked >= asked + 2, { timeoutMs: 5000 });
    assert.equal(state(cache.view('a.test')), '10.0.0.1', 'the last answer serves while stale');
    await waitFor('the name failed', () => cache.view('a.test').state === 'failed', { timeoutMs: 5000 });
    assert.deepEqual(changes, ['10.0.0.1', 'failed']);
    s.next = { ok: true, type: 'A', ttl: 30, addresses: [{ ip: '10.0.0.2', port: null, weight: null, name: null }] };
    await waitFor('healed', () => cache.view('a.test').state === 'ok', { timeoutMs: 5000 });
    assert.deepEqual(changes, ['10.0.0.1', 'failed', '10.0.0.2']);
    cache.track(new Set());
    const after = s.asked;
    assert.equal(cache.view('a.test').state, 'pending', 'an untracked name is forgotten');
    assert.equal(s.asked, after);
  } finally {
    cache.stop();
  }
});

test('a name never resolved fails at once: nothing stale to serve', async () => {
  const s = scripted();
  s.next = { ok: false, notFound: true, reason: 'NXDOMAIN' };
  const cache = new NameCache(s.lookup, { stale: 3600, notFound: 30, error: 1 }, () => undefined);
  try {
    cache.track(new Set(['gone.test']));
    await cache.settled();
    assert.equal(cache.view('gone.test').state, 'failed');
  } finally {
    cache.stop();
  }
});
