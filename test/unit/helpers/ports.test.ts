// The test helpers' ports: a closed port refuses connections and nobody can start listening on
// it; free ports are never handed out twice in one test process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { closedPort, freePort, freePorts, refused } from '../../helpers/ports';

function tryListen(port: number, host: string): Promise<NodeJS.ErrnoException | Server> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (e) => resolve(e));
    srv.listen({ port, host }, () => resolve(srv));
  });
}

test('a closed port refuses connections, and stays refused when someone tries to listen on it', async () => {
  const port = await closedPort();
  for (let i = 0; i < 20; i++) assert.equal(await refused(port), true, `connect #${i} refused`);
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    const r = await tryListen(port, host);
    if (!(r instanceof Error)) r.close();
    assert.ok(r instanceof Error && r.code === 'EADDRINUSE', `listen on ${host}:${port} must fail with EADDRINUSE, got ${r instanceof Error ? r.code : 'a listening server'}`);
  }
  assert.equal(await refused(port), true, 'still refused afterwards');
});

test('closed ports differ from each other and from free ports', async () => {
  const closed = await Promise.all([closedPort(), closedPort(), closedPort()]);
  const free = await freePorts(20);
  assert.equal(new Set([...closed, ...free]).size, closed.length + free.length);
});

test('free ports are never handed out twice, even one at a time', async () => {
  const seen = new Set<number>();
  // 400 draws from ~14k ephemeral ports: without the reservation a repeat is all but certain (~99.7%).
  for (let i = 0; i < 400; i++) {
    const p = await freePort();
    assert.ok(!seen.has(p), `port ${p} handed out twice`);
    seen.add(p);
  }
  for (const p of await freePorts(50)) {
    assert.ok(!seen.has(p), `port ${p} handed out twice`);
    seen.add(p);
  }
});
