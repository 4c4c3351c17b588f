/**
 * key-auth through the real gateway (2 workers) to a real upstream: what the client and the
 * upstream see. Kong's cases from spec/03-plugins/09-key-auth/02-access_spec.lua.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../../helpers/http-client';
import { listenLocal } from '../../helpers/ports';
import { startGateway, type Gateway } from '../../helpers/start-gateway';

const ALICE_ID = '4b1e2b3c-0a1b-4c2d-8e3f-000000000001';
const ALICE_CRED = '4b1e2b3c-0a1b-4c2d-8e3f-0000000000c1';
const ANON_ID = '4b1e2b3c-0a1b-4c2d-8e3f-000000000002';

/** What the body-echo upstream saw: the body as received and the framing headers. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function startBodyEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const body = JSON.stringify(seen);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
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

function config(upPort: number): object {
  const route = (name: string, plugins: object[]): object => ({ name, paths: [`/${name}`], plugins });
  return {
    _format_version: '3.0',
    consumers: [
      { id: ALICE_ID, username: 'alice', custom_id: 'alice-custom', keyauth_credentials: [{ id: ALICE_CRED, key: 'alice-key' }] },
      { id: ANON_ID, username: 'anon' },
    ],
    services: [
      {
        name: 'up',
        url: `http://127.0.0.1:${upPort}`,
        routes: [
          route('ka', [{ name: 'key-auth' }]),
          route('realm', [{ name: 'key-auth', config: { realm: 'hyper' } }]),
          route('hide', [{ name: 'key-auth', config: { hide_credentials: true, key_in_body: true } }]),
          route('body', [{ name: 'key-auth', config: { key_in_body: true } }]),
          route('anon', [{ name: 'key-auth', config: { anonymous: 'anon' } }]),
          route('preflight', [{ name: 'key-auth', config: { run_on_preflight: false } }]),
          route('open', []),
        ],
      },
    ],
  };
}

describe('key-auth through the gateway', () => {
  let up: Awaited<ReturnType<typeof startBodyEcho>>;
  let gw: Gateway;

  before(async () => {
    up = await startBodyEcho();
    gw = await startGateway({ config: config(up.port) });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  const send = (path: string, opts: Parameters<typeof request>[1] = {}): Promise<HttpResult> => request(gw.proxyUrl + path, opts);

  async function upstreamSaw(path: string, opts: Parameters<typeof request>[1] = {}): Promise<Seen> {
    const res = await send(path, opts);
    assert.equal(res.status, 200, res.text);
    return res.json<Seen>();
  }

  describe('401s', () => {
    it('no key: 401 "No API key found in request" with WWW-Authenticate: Key, nothing sent upstream', async () => {
      const res = await send('/ka');
      assert.equal(res.status, 401);
      assert.equal(res.json<{ message: string }>().message, 'No API key found in request');
      assert.equal(res.headers['www-authenticate'], 'Key');
      assert.match(String(res.headers['content-type']), /application\/json/);
    });

    it('an unknown key: 401 "Unauthorized"', async () => {
      const res = await send('/ka', { headers: { apikey: 'nope' } });
      assert.equal(res.status, 401);
      assert.equal(res.json<{ message: string }>().message, 'Unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Key');
    });

    it('an empty key: 401 "No API key found in request"', async () => {
      const res = await send('/ka?apikey=');
      assert.equal(res.status, 401);
      assert.equal(res.json<{ message: string }>().message, 'No API key found in request');
    });

    it('the key twice in the query: 401 "Duplicate API key found"', async () => {
      const res = await send('/ka?apikey=alice-key&apikey=alice-key');
      assert.equal(res.status, 401);
      assert.equal(res.json<{ message: string }>().message, 'Duplicate API key found');
    });

    it('realm: WWW-Authenticate: Key realm="hyper"', async () => {
      const res = await send('/realm');
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'Key realm="hyper"');
    });
  });

  describe('where the key is', () => {
    it('in a header (any case): the upstream gets the consumer headers and the key header', async () => {
      const seen = await upstreamSaw('/ka/x', { headers: { ApiKey: 'alice-key' } });
      assert.equal(seen.headers['x-consumer-id'], ALICE_ID);
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.equal(seen.headers['x-consumer-custom-id'], 'alice-custom');
      assert.equal(seen.headers['x-credential-identifier'], ALICE_CRED);
      assert.equal(seen.headers['x-anonymous-consumer'], undefined);
      assert.equal(seen.headers.apikey, 'alice-key', 'kept without hide_credentials');
    });

    it('in the query: kept upstream without hide_credentials', async () => {
      const seen = await upstreamSaw('/ka/x?a=1&apikey=alice-key&b=2');
      assert.equal(seen.url, '/x?a=1&apikey=alice-key&b=2');
      assert.equal(seen.headers['x-consumer-username'], 'alice');
    });

    it('in the query with hide_credentials: removed, the other args in their order', async () => {
      const seen = await upstreamSaw('/hide/x?z=1&apikey=alice-key&a=2&m=%20x');
      assert.equal(seen.url, '/x?z=1&a=2&m=%20x');
      assert.equal(seen.headers['x-consumer-username'], 'alice');
    });

    it('in a header with hide_credentials: the header is not sent upstream', async () => {
      const seen = await upstreamSaw('/hide/x', { headers: { apikey: 'alice-key' } });
      assert.equal(seen.headers.apikey, undefined);
      assert.equal(seen.headers['x-consumer-id'], ALICE_ID);
    });

    it('in a form body (key_in_body): authenticated, the body forwarded unchanged', async () => {
      const body = 'a=1&apikey=alice-key&b=two';
      const seen = await upstreamSaw('/body/x', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.equal(seen.body, body);
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
    });

    it('in a form body with hide_credentials: the field is removed and Content-Length matches', async () => {
      const seen = await upstreamSaw('/hide/x', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1&apikey=alice-key&b=two',
      });
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.equal(new URLSearchParams(seen.body).get('apikey'), null);
      assert.deepEqual([...new URLSearchParams(seen.body)], [['a', '1'], ['b', 'two']]);
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
      assert.equal(seen.headers['transfer-encoding'], undefined);
    });

    it('in a JSON body with hide_credentials: the field is removed and Content-Length matches', async () => {
      const seen = await upstreamSaw('/hide/x', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apikey: 'alice-key', keep: { n: 1 }, s: 'é' }),
      });
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.deepEqual(JSON.parse(seen.body), { keep: { n: 1 }, s: 'é' });
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
    });

    it('a wrong key in a JSON body: 401 "Unauthorized"', async () => {
      const res = await send('/body/x', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"apikey":"bad"}' });
      assert.equal(res.status, 401);
      assert.equal(res.json<{ message: string }>().message, 'Unauthorized');
    });

    it('key_in_body off: a key in the body is not looked at', async () => {
      const res = await send('/ka/x', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"apikey":"alice-key"}' });
      assert.equal(res.status, 401);
      assert.equal(res.json<{ message: string }>().message, 'No API key found in request');
    });
  });

  describe('consumer headers from the client', () => {
    const spoof = {
      'x-consumer-username': 'root',
      'x-consumer-id': 'spoofed',
      'x-consumer-custom-id': 'spoofed',
      'x-credential-identifier': 'spoofed',
      'x-anonymous-consumer': 'true',
    };

    it('are never forwarded on a route with key-auth: the upstream sees the real consumer only', async () => {
      const seen = await upstreamSaw('/ka/x', { headers: { ...spoof, apikey: 'alice-key' } });
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.equal(seen.headers['x-consumer-id'], ALICE_ID);
      assert.equal(seen.headers['x-credential-identifier'], ALICE_CRED);
      assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    });

    it('are never forwarded on a route without auth', async () => {
      const seen = await upstreamSaw('/open/x', { headers: spoof });
      for (const name of Object.keys(spoof)) assert.equal(seen.headers[name], undefined, name);
    });
  });

  describe('anonymous', () => {
    it('no key: continues as the anonymous consumer with X-Anonymous-Consumer: true', async () => {
      const seen = await upstreamSaw('/anon/x');
      assert.equal(seen.headers['x-anonymous-consumer'], 'true');
      assert.equal(seen.headers['x-consumer-id'], ANON_ID);
      assert.equal(seen.headers['x-consumer-username'], 'anon');
      assert.equal(seen.headers['x-credential-identifier'], undefined);
    });

    it('a valid key: the real consumer, no X-Anonymous-Consumer', async () => {
      const seen = await upstreamSaw('/anon/x', { headers: { apikey: 'alice-key' } });
      assert.equal(seen.headers['x-consumer-username'], 'alice');
      assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    });
  });

  describe('run_on_preflight', () => {
    it('false: an OPTIONS request passes without a key, other methods still need one', async () => {
      const seen = await upstreamSaw('/preflight/x', { method: 'OPTIONS' });
      assert.equal(seen.method, 'OPTIONS');
      assert.equal(seen.headers['x-consumer-id'], undefined);
      assert.equal((await send('/preflight/x')).status, 401);
    });

    it('true (default): an OPTIONS request without a key is answered 401', async () => {
      const res = await send('/ka/x', { method: 'OPTIONS' });
      assert.equal(res.status, 401);
    });
  });
});
