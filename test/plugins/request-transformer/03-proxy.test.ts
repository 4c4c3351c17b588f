import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { listenLocal } from '../../helpers/ports';
import { startGateway, type Gateway } from '../../helpers/start-gateway';

/** What the recording upstream saw: the body as text, which the echo upstream does not keep. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

async function startRecorder(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString() };
      seen.push(rec);
      const body = JSON.stringify(rec);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  const port = await listenLocal(server);
  return {
    port,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function config(port: number): object {
  const body = {
    remove: { body: ['secret'] },
    rename: { body: ['old:new'] },
    replace: { body: ['name:bob'] },
    add: { body: ['extra:$(headers.x-source)', 'name:never'] },
    append: { body: ['tag:t2'] },
  };
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'rec',
        url: `http://127.0.0.1:${port}`,
        routes: [
          { name: 'headers', paths: ['/headers'] },
          { name: 'body', paths: ['/body'] },
          { name: 'method', paths: ['/method'] },
          { name: 'uri', paths: ['~/users/(?<id>\\d+)/items/(\\w+)$'] },
          { name: 'host', paths: ['/host'] },
        ],
      },
    ],
    plugins: [
      {
        name: 'request-transformer',
        route: 'headers',
        config: {
          remove: { headers: ['x-remove'], querystring: ['drop'] },
          rename: { headers: ['x-old:x-new'], querystring: ['before:after'] },
          replace: { headers: ['x-replace:replaced', 'x-absent:never'], querystring: ['page:$(query_params.page)0'] },
          add: { headers: ['x-added:from-$(headers.x-source)', 'x-present:never'], querystring: ['added:yes'] },
          append: { headers: ['x-multi:two'], querystring: ['list:b'] },
        },
      },
      { name: 'request-transformer', route: 'body', config: body },
      { name: 'request-transformer', route: 'method', config: { http_method: 'POST' } },
      { name: 'request-transformer', route: 'uri', config: { replace: { uri: '/v2/items/$(uri_captures.id)/$(uri_captures[2])' } } },
      { name: 'request-transformer', route: 'host', config: { replace: { headers: ['host:backend.internal'] } } },
    ],
  };
}

describe('request-transformer through the gateway', () => {
  let up: Awaited<ReturnType<typeof startRecorder>>;
  let gw: Gateway;

  before(async () => {
    up = await startRecorder();
    gw = await startGateway({ config: config(up.port) });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  async function send(path: string, opts: Parameters<typeof request>[1] = {}): Promise<Seen> {
    const res = await request(gw.proxyUrl + path, opts);
    assert.equal(res.status, 200, res.text);
    return res.json<Seen>();
  }

  it('removes, renames, replaces, adds and appends headers and query arguments as the upstream sees them', async () => {
    const seen = await send('/headers/p?drop=1&before=x&page=3&list=a&keep=k', {
      headers: { 'x-remove': '1', 'x-old': 'o', 'x-replace': 'r', 'x-source': 'src', 'x-present': 'mine', 'x-multi': 'one' },
    });
    const h = seen.headers;
    assert.equal(h['x-remove'], undefined);
    assert.equal(h['x-old'], undefined);
    assert.equal(h['x-new'], 'o');
    assert.equal(h['x-replace'], 'replaced');
    assert.equal(h['x-absent'], undefined, 'replace only changes a header that is present');
    assert.equal(h['x-added'], 'from-src');
    assert.equal(h['x-present'], 'mine', 'add never overwrites');
    assert.equal(h['x-multi'], 'one, two');
    const q = new URL(seen.url, 'http://x').searchParams;
    assert.equal(new URL(seen.url, 'http://x').pathname, '/p');
    assert.equal(q.get('drop'), null);
    assert.equal(q.get('before'), null);
    assert.equal(q.get('after'), 'x');
    assert.equal(q.get('page'), '30');
    assert.equal(q.get('added'), 'yes');
    assert.deepEqual(q.getAll('list'), ['a', 'b']);
    assert.equal(q.get('keep'), 'k');
  });

  it('edits a JSON body; the upstream gets valid JSON with a matching Content-Length', async () => {
    const seen = await send('/body', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-source': 'hdr' },
      body: JSON.stringify({ name: 'alice', secret: 's3cr3t', old: 1, tag: 't1', keep: { deep: [1, 2] } }),
    });
    assert.deepEqual(JSON.parse(seen.body), { name: 'bob', new: 1, tag: ['t1', 't2'], keep: { deep: [1, 2] }, extra: 'hdr' });
    assert.equal(Number(seen.headers['content-length']), Buffer.byteLength(seen.body));
    assert.equal(seen.headers['transfer-encoding'], undefined);
  });

  it('edits a url-encoded form body, Content-Length consistent, also from a chunked upload', async () => {
    const form = 'name=alice&secret=x&old=o&tag=t1&keep=a+b';
    const expected = { name: 'bob', new: 'o', tag: ['t1', 't2'], keep: 'a b', extra: '' };
    for (const headers of [{}, { 'transfer-encoding': 'chunked' }]) {
      const seen = await send('/body', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form });
      const params = new URLSearchParams(seen.body);
      const got: Record<string, string | string[]> = {};
      for (const k of new Set(params.keys())) got[k] = params.getAll(k).length > 1 ? params.getAll(k) : params.get(k)!;
      assert.deepEqual(got, expected, seen.body);
      assert.equal(Number(seen.headers['content-length']), Buffer.byteLength(seen.body));
    }
  });

  it('leaves a body of another type untouched', async () => {
    const seen = await send('/body', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'secret=1' });
    assert.equal(seen.body, 'secret=1');
  });

  it('http_method changes the method the upstream sees', async () => {
    const seen = await send('/method/m?a=1');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/m?a=1');
  });

  it("replace.uri fills in a regex route's named and numbered captures, keeping the query", async () => {
    const seen = await send('/users/42/items/books?x=1');
    assert.equal(seen.url, '/v2/items/42/books?x=1');
  });

  it('replaces the Host header sent upstream', async () => {
    const seen = await send('/host/h', { headers: { host: 'client.example' } });
    assert.equal(seen.headers.host, 'backend.internal');
  });
});
