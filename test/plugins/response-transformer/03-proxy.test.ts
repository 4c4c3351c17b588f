import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { KeepAliveClient } from '../../helpers/keep-alive-client';
import { listenLocal } from '../../helpers/ports';
import { startGateway, type Gateway } from '../../helpers/start-gateway';

/** 5000 items, ~300 KB: many upstream chunks. */
const LARGE_ITEMS = Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `item-${i}`, text: 'x'.repeat(40) }));

/** An upstream whose answer depends on the path: JSON, text, or a large JSON body written in pieces. */
async function startUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const common = { 'x-remove-me': 'gone', 'x-keep': 'kept', 'x-replace': 'old' };
    if (req.url === '/text') {
      const body = '{"secret":"not json to the gateway"}';
      res.writeHead(200, { ...common, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else if (req.url === '/large') {
      res.writeHead(200, { ...common, 'content-type': 'application/json' });
      const text = JSON.stringify({ secret: 's', items: LARGE_ITEMS, count: LARGE_ITEMS.length });
      // Written in 16 KiB pieces, chunked: the plugin must join them all before editing.
      for (let i = 0; i < text.length; i += 16384) res.write(text.slice(i, i + 16384));
      res.end();
    } else {
      const body = JSON.stringify({ secret: 's3cr3t', name: 'alice', old: 1, list: ['a'] });
      res.writeHead(200, { ...common, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }
  });
  const port = await listenLocal(server);
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function config(port: number): object {
  return {
    _format_version: '3.0',
    services: [{ name: 'up', url: `http://127.0.0.1:${port}`, routes: [{ name: 'rt', paths: ['/'] }] }],
    plugins: [
      {
        name: 'response-transformer',
        route: 'rt',
        config: {
          remove: { headers: ['x-remove-me'], json: ['secret'] },
          rename: { json: ['old:new'] },
          replace: { headers: ['x-replace:new'], json: ['name:bob'] },
          add: { headers: ['x-added:yes'], json: ['flag:true', 'count:-1'], json_types: ['boolean', 'number'] },
          append: { headers: ['x-keep:again'], json: ['list:b'] },
        },
      },
    ],
  };
}

describe('response-transformer through the gateway', () => {
  let up: Awaited<ReturnType<typeof startUpstream>>;
  let gw: Gateway;

  before(async () => {
    up = await startUpstream();
    gw = await startGateway({ config: config(up.port) });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  it('removes, replaces, adds and appends response headers', async () => {
    const res = await request(`${gw.proxyUrl}/json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-remove-me'], undefined);
    assert.equal(res.headers['x-replace'], 'new');
    assert.equal(res.headers['x-added'], 'yes');
    assert.equal(res.headers['x-keep'], 'kept, again');
  });

  it('edits a JSON body: valid JSON with the edits, sent chunked without the old Content-Length', async () => {
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      for (let i = 0; i < 2; i++) {
        client.write('GET /json HTTP/1.1\r\nHost: gw.test\r\n\r\n');
        const res = await client.nextResponse(`response ${i}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers['transfer-encoding'], 'chunked');
        assert.equal(res.headers['content-length'], undefined);
        assert.deepEqual(JSON.parse(res.body.toString()), { name: 'bob', new: 1, list: ['a', 'b'], flag: true, count: -1 });
      }
    } finally {
      client.destroy();
    }
  });

  it('leaves a non-JSON body untouched (headers still edited)', async () => {
    const res = await request(`${gw.proxyUrl}/text`);
    assert.equal(res.text, '{"secret":"not json to the gateway"}');
    assert.equal(res.headers['x-remove-me'], undefined);
  });

  it('edits a large JSON body that arrives in many chunks, intact', async () => {
    const res = await request(`${gw.proxyUrl}/large`);
    assert.equal(res.status, 200);
    const body = res.json<{ items: unknown[]; count: number; secret?: string; flag: boolean }>();
    assert.equal(body.secret, undefined);
    assert.equal(body.flag, true);
    assert.equal(body.count, LARGE_ITEMS.length, 'add does not overwrite an existing key');
    assert.deepEqual(body.items, LARGE_ITEMS);
  });
});
