// The prober on its own, against a local HTTP server: `concurrency` bounds the probes in flight
// per upstream, and first probes are spread over the first interval rather than sent in a burst.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { Prober } from '../../../src/primary/health/prober';
import { initTable, tableWords } from '../../../src/shared/target-table';
import { loadConfigText } from '../../../src/primary/config';
import type { Snapshot } from '../../../src/shared/snapshot';
import { waitFor } from '../../helpers/wait';

function snapshot(port: number, targets: number, concurrency: number, interval: number, timeout: number): Snapshot {
  const yml = `_format_version: "3.0"
upstreams:
  - name: u
    healthchecks:
      active: {http_path: /p, concurrency: ${concurrency}, timeout: ${timeout}, healthy: {interval: ${interval}}, unhealthy: {interval: ${interval}}}
    targets: [{target: "127.0.0.1:${port}"}]
`;
  const s = loadConfigText(yml, 'inline', {}, 1).snapshot;
  // One server stands for every target (the same address in as many slots): the prober probes per slot.
  const one = s.upstreams[0].targets[0];
  s.upstreams[0].targets = Array.from({ length: targets }, (_, i) => ({ ...one, slot: i }));
  return s;
}

test('at most `concurrency` probes in flight per upstream; the rest wait their turn', { timeout: 20000 }, async () => {
  let open = 0;
  let most = 0;
  let seen = 0;
  const hold: ServerResponse[] = [];
  const server = createServer((req, res) => {
    seen++;
    open++;
    most = Math.max(most, open);
    res.on('close', () => open--);
    hold.push(res);
    // Answer after a while, so that several targets' probes overlap.
    setTimeout(() => res.end('ok'), 150);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const table = new Int32Array(tableWords(8));
  initTable(table);
  const prober = new Prober(table);
  try {
    prober.configure(snapshot(port, 6, 2, 0.05, 2));
    await waitFor('12 probes', () => seen >= 12, { timeoutMs: 10000 });
    assert.equal(most, 2);
  } finally {
    prober.stop();
    for (const r of hold) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('first probes are spread over the first interval', { timeout: 20000 }, async () => {
  const arrivals: number[] = [];
  const all = createServer((req, res) => {
    arrivals.push(Date.now());
    res.end('ok');
  });
  all.listen(0, '127.0.0.1');
  await new Promise((r) => all.once('listening', r));
  const port = (all.address() as { port: number }).port;
  const table = new Int32Array(tableWords(16));
  initTable(table);
  const prober = new Prober(table);
  const start = Date.now();
  try {
    prober.configure(snapshot(port, 10, 10, 1, 1));
    await waitFor('10 first probes', () => arrivals.length >= 10, { timeoutMs: 5000 });
    const first = arrivals.slice(0, 10).map((t) => t - start);
    assert.ok(first[9] - first[0] > 100, `first probes at ${first.join(', ')} ms`);
    assert.ok(first[9] <= 1000 + 200, `all first probes within the first interval: ${first.join(', ')} ms`);
  } finally {
    prober.stop();
    all.closeAllConnections();
    await new Promise((r) => all.close(r));
  }
});
