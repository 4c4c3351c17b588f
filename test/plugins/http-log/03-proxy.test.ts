import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { KeepAliveClient } from '../../helpers/keep-alive-client';
import { listenLocal } from '../../helpers/ports';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';
import { waitFor } from '../../helpers/wait';

interface Entry {
  request: { method: string; uri: string };
  response: { status: number };
  route: { name: string } | null;
  client_ip: string;
}

interface Post {
  path: string;
  contentType: string;
  body: unknown;
}

/**
 * A log collector: records each POST by path. Posts to /slow are held unanswered until
 * `release()`, as a collector that stopped responding.
 */
async function startCollector(): Promise<{ port: number; posts: Post[]; held: ServerResponse[]; release(): void; close(): Promise<void> }> {
  const posts: Post[] = [];
  const held: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
      if (req.url === '/slow') held.push(res);
      else res.end('ok');
    });
  });
  const port = await listenLocal(server);
  return {
    port,
    posts,
    held,
    release: () => {
      for (const r of held.splice(0)) r.end('ok');
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function config(echoPort: number, collectorPort: number): object {
  const endpoint = (p: string): string => `http://127.0.0.1:${collectorPort}${p}`;
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `http://127.0.0.1:${echoPort}`,
        routes: [
          { name: 'single', paths: ['/single'] },
          { name: 'batched', paths: ['/batched'] },
          { name: 'slow', paths: ['/slow'] },
        ],
      },
    ],
    plugins: [
      { name: 'http-log', route: 'single', config: { http_endpoint: endpoint('/single') } },
      { name: 'http-log', route: 'batched', config: { http_endpoint: endpoint('/batched'), queue: { max_batch_size: 5, max_coalescing_delay: 0.2 } } },
      { name: 'http-log', route: 'slow', config: { http_endpoint: endpoint('/slow') } },
    ],
  };
}

describe('http-log through the gateway', () => {
  let echo: EchoServer;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('hl-up');
    collector = await startCollector();
    gw = await startGateway({ config: config(echo.port, collector.port) });
  });
  after(async () => {
    collector?.release();
    await gw?.stop();
    await collector?.close();
    await echo?.close();
  });

  /** Each request on a fresh connection: the kernel spreads them over both workers. */
  async function traffic(prefix: string, n: number): Promise<string[]> {
    const uris = Array.from({ length: n }, (_, i) => `${prefix}/${i}`);
    await Promise.all(uris.map(async (u) => assert.equal((await request(gw.proxyUrl + u)).status, 200)));
    return uris;
  }

  async function workersServing(): Promise<number> {
    return (await gw.status()).workers.filter((w) => w.requests > 0).length;
  }

  it('posts each entry as one JSON object with a batch size of 1, from both workers', async () => {
    const uris: string[] = [];
    // Batches of fresh connections until both workers have served some (the kernel spreads them).
    for (let round = 0; round < 20 && (round < 2 || (await workersServing()) < 2); round++) {
      uris.push(...(await traffic(`/single/r${round}`, 6)));
    }
    assert.equal(await workersServing(), 2, 'both workers served /single requests');
    const posts = await waitFor('a post per request to /single', () => {
      const p = collector.posts.filter((x) => x.path === '/single');
      return p.length >= uris.length ? p : undefined;
    });
    assert.equal(posts.length, uris.length);
    for (const p of posts) {
      assert.equal(p.contentType, 'application/json');
      assert.ok(p.body !== null && typeof p.body === 'object' && !Array.isArray(p.body), JSON.stringify(p.body).slice(0, 100));
    }
    const entries = posts.map((p) => p.body as Entry);
    assert.deepEqual(entries.map((e) => e.request.uri).sort(), [...uris].sort());
    for (const e of entries) {
      assert.equal(e.request.method, 'GET');
      assert.equal(e.response.status, 200);
      assert.equal(e.route?.name, 'single');
      assert.equal(e.client_ip, '127.0.0.1');
    }
  });

  it('posts arrays of at most max_batch_size entries, every entry exactly once', async () => {
    const uris = await traffic('/batched', 23);
    const entries = await waitFor('23 entries posted to /batched', () => {
      const e = collector.posts.filter((x) => x.path === '/batched').flatMap((p) => (Array.isArray(p.body) ? (p.body as Entry[]) : []));
      return e.length >= uris.length ? e : undefined;
    });
    const batches = collector.posts.filter((x) => x.path === '/batched');
    for (const b of batches) {
      assert.ok(Array.isArray(b.body), 'a batch is a JSON array');
      assert.ok(b.body.length >= 1 && b.body.length <= 5, `batch of ${b.body.length}`);
    }
    assert.ok(batches.some((b) => (b.body as unknown[]).length > 1), 'entries were coalesced');
    assert.deepEqual(entries.map((e) => e.request.uri).sort(), [...uris].sort());
  });

  it('never delays the client when the collector does not answer', async () => {
    // One keep-alive connection: one worker, whose queue for /slow is stuck on the first post.
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      client.write('GET /slow/1 HTTP/1.1\r\nHost: gw.test\r\n\r\n');
      assert.equal((await client.nextResponse('response 1')).status, 200);
      await waitFor('the collector to hold the first post', () => collector.held.length === 1);
      for (let i = 2; i <= 4; i++) {
        const t0 = Date.now();
        client.write(`GET /slow/${i} HTTP/1.1\r\nHost: gw.test\r\n\r\n`);
        assert.equal((await client.nextResponse(`response ${i}`, 2000)).status, 200);
        assert.ok(Date.now() - t0 < 1000, `response ${i} took ${Date.now() - t0} ms`);
      }
      assert.equal(collector.held.length, 1, 'the collector still holds the first post');
      collector.release();
      // Once the collector answers, the queued entries follow.
      await waitFor('the other /slow entries', () => {
        collector.release();
        return collector.posts.filter((p) => p.path === '/slow').length >= 4;
      });
      const slowUris = collector.posts.filter((p) => p.path === '/slow').map((p) => (p.body as Entry).request.uri);
      assert.deepEqual(slowUris.sort(), ['/slow/1', '/slow/2', '/slow/3', '/slow/4']);
    } finally {
      client.destroy();
    }
  });
});
