// send_timeout's sweep (worker/proxy/send-deadline.ts): a stalled response is cut once its client
// took nothing for the timeout, and never once a reload set the timeout to 0.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { setSendTimeout, stall, unstall, type Stallable } from '../../../src/worker/proxy/send-deadline';

class Response implements Stallable {
  stalledSince = 0;
  stallIndex = -1;
  settled = false;
  cuts = 0;
  cut(): void {
    this.cuts++;
  }
}

test('a stalled response is cut after send_timeout; an unstalled one is not', async () => {
  setSendTimeout(100);
  const stuck = new Response();
  const drained = new Response();
  stall(stuck);
  stall(drained);
  unstall(drained);
  await sleep(300);
  assert.equal(stuck.cuts, 1);
  assert.equal(drained.cuts, 0);
  assert.equal(stuck.stallIndex, -1, 'the cut response left the set');
});

test('send_timeout set to 0 while a response is stalled: it is dropped from the watch, never cut', async () => {
  setSendTimeout(100);
  const r = new Response();
  stall(r);
  setSendTimeout(0);
  await sleep(300);
  assert.equal(r.cuts, 0);
  assert.equal(r.stallIndex, -1);
  setSendTimeout(60_000);
});
