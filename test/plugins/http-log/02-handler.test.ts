// The http-log queue against a real HTTP collector on 127.0.0.1: batching, the JSON shape of a
// batch of one and of many, Basic auth from the URL, retries after collector errors, bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handler } from '../../../src/plugins/http-log/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import type { LogEntry } from '../../../src/plugins/types';
import { waitFor } from '../../helpers/wait';

const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
const entry = (n: number): LogEntry => ({ request: { uri: `/r/${n}` } } as unknown as LogEntry);

interface Received { method: string; headers: IncomingMessage['headers']; body: unknown }

async function collector(status: (n: number) => number = () => 200): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const code = status(n++);
      if (code < 400) got.push({ method: req.method as string, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(code).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

function config(url: string, queue: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    http_endpoint: url, method: 'POST', content_type: 'application/json', timeout: 2000, keepalive: 1000, headers: null,
    queue: { max_batch_size: 1, max_coalescing_delay: 0.05, max_entries: 10000, max_bytes: null, max_retry_time: 5, initial_retry_delay: 0.01, max_retry_delay: 0.1, concurrency_limit: 1, ...queue },
    ...extra,
  };
}

test('a batch of one is sent as a JSON object, with Kong\'s headers and Basic auth from the URL', async (t) => {
  const c = await collector();
  t.after(() => c.server.close());
  const url = c.url.replace('http://', 'http://user:p%40ss@') + '/logs';
  const conf = handler.configure!(config(url, {}, { method: 'PUT', headers: { 'X-Tenant': 'a' } }), env);
  handler.log!(entry(1), conf);
  handler.log!(entry(2), conf);
  await waitFor('two deliveries', () => c.got.length === 2);
  assert.deepEqual(c.got.map((g) => g.body), [{ request: { uri: '/r/1' } }, { request: { uri: '/r/2' } }]);
  assert.equal(c.got[0].method, 'PUT');
  assert.equal(c.got[0].headers['content-type'], 'application/json');
  assert.equal(c.got[0].headers['x-tenant'], 'a');
  assert.equal(c.got[0].headers.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
});

test('entries are batched into JSON arrays of at most max_batch_size; a partial batch leaves after the coalescing delay', async (t) => {
  const c = await collector();
  t.after(() => c.server.close());
  const conf = handler.configure!(config(c.url, { max_batch_size: 10, max_coalescing_delay: 0.2 }), env);
  for (let i = 0; i < 25; i++) handler.log!(entry(i), conf);
  await waitFor('three batches', () => c.got.length === 3);
  const sizes = c.got.map((g) => (g.body as unknown[]).length);
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.deepEqual(c.got.flatMap((g) => (g.body as LogEntry[]).map((e) => e.request.uri)), Array.from({ length: 25 }, (_, i) => `/r/${i}`));
});

test('a collector error is retried with backoff until it succeeds; nothing is lost or sent twice', async (t) => {
  const c = await collector((n) => (n < 3 ? 500 : 200));
  t.after(() => c.server.close());
  const conf = handler.configure!(config(c.url, { max_batch_size: 2 }), env);
  handler.log!(entry(1), conf);
  handler.log!(entry(2), conf);
  await waitFor('one delivered batch', () => c.got.length === 1);
  assert.deepEqual(c.got[0].body, [{ request: { uri: '/r/1' } }, { request: { uri: '/r/2' } }]);
});

test('a full queue drops its oldest entries instead of growing', async (t) => {
  // A collector that never answers holds the single sender; the queue keeps at most max_entries.
  const stuck = createServer(() => undefined);
  await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
  t.after(() => { stuck.closeAllConnections(); stuck.close(); });
  const url = `http://127.0.0.1:${(stuck.address() as AddressInfo).port}`;
  const conf = handler.configure!(config(url, { max_entries: 5, max_retry_time: 0 }, { timeout: 60000 }), env);
  for (let i = 0; i < 20; i++) handler.log!(entry(i), conf);
  assert.equal(conf.queue.length, 5);
  assert.equal(conf.queue.dropped, 14); // one entry is in flight, 5 wait, the rest were dropped
});
