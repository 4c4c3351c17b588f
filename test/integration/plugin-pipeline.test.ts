/**
 * The plugin pipeline in the worker, through the real gateway (2 workers): which instance applies
 * (Kong's lookup_cfg, consumer scopes resolved after authentication), PRIORITY order on the wire,
 * an access phase that waits for a slowly arriving body, a client that leaves meanwhile, routes
 * without plugins, and disabled instances.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../helpers/http-client';
import { listenLocal } from '../helpers/ports';
import { parseRawResponse } from '../helpers/raw-http';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { delay, waitFor } from '../helpers/wait';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An upstream that answers 200 JSON with what it received, the body included. */
async function startBodyEcho(): Promise<{ port: number; requests: Seen[]; close(): Promise<void> }> {
  const requests: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      const body = JSON.stringify(seen);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  const port = await listenLocal(server);
  return {
    port,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const addHeader = (value: string): object => ({ name: 'request-transformer', config: { add: { headers: [`x-layer:${value}`] } } });

function config(upPort: number): object {
  const route = (name: string, plugins: object[]): object => ({ name, paths: [`/${name}`], plugins });
  return {
    _format_version: '3.0',
    consumers: [
      // A consumer-only instance (Kong's rank "consumer") beats a route-only one for bob.
      { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }], plugins: [addHeader('consumer-bob')] },
      { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] },
      { username: 'mallory', keyauth_credentials: [{ key: 'mallory-key' }] },
    ],
    services: [
      {
        name: 'main',
        url: `http://127.0.0.1:${upPort}`,
        routes: [
          route('scoped', [{ name: 'key-auth' }, addHeader('route')]),
          route('cors-auth', [{ name: 'cors', config: { origins: ['http://app.test'] } }, { name: 'key-auth' }]),
          route('term-auth', [{ name: 'key-auth' }, { name: 'request-termination', config: { status_code: 418, message: 'terminated after auth' } }]),
          route('body', [{ name: 'key-auth', config: { key_in_body: true } }]),
          route('plain', []),
        ],
      },
      {
        name: 'layered',
        url: `http://127.0.0.1:${upPort}`,
        plugins: [addHeader('service')],
        routes: [
          route('disabled', [
            { name: 'key-auth', enabled: false },
            { name: 'request-termination', enabled: false, config: { status_code: 503 } },
            { ...addHeader('route'), enabled: false },
          ]),
        ],
      },
    ],
    plugins: [
      // route + consumer: the most specific scope there is without a service.
      { name: 'request-termination', route: 'scoped', consumer: 'mallory', config: { status_code: 403, message: 'mallory is not welcome' } },
    ],
  };
}

interface InFlightStatus {
  server: { requests_in_flight: number };
  workers: { pid: number; restarts: number; state: string }[];
}

describe('plugin pipeline through the gateway', () => {
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

  const send = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpResult> =>
    request(gw.proxyUrl + path, { headers, method });

  async function upstreamSaw(path: string, headers: Record<string, string> = {}): Promise<Seen> {
    const res = await send(path, headers);
    assert.equal(res.status, 200, res.text);
    return res.json<Seen>();
  }

  const inFlight = async (): Promise<InFlightStatus> => (await gw.status()) as unknown as InFlightStatus;

  describe('which instance applies (lookup_cfg)', () => {
    it('a consumer-scoped instance applies once key-auth identified that consumer; others get the route one', async () => {
      assert.equal((await upstreamSaw('/scoped/x', { apikey: 'bob-key' })).headers['x-layer'], 'consumer-bob');
      assert.equal((await upstreamSaw('/scoped/x', { apikey: 'alice-key' })).headers['x-layer'], 'route');
    });

    it('a route+consumer request-termination answers for that consumer only, after key-auth', async () => {
      const before = up.requests.length;
      const res = await send('/scoped/x', { apikey: 'mallory-key' });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.json<{ message: string }>().message, 'mallory is not welcome');
      assert.equal(up.requests.length, before, 'nothing went upstream');
      const anonymous = await send('/scoped/x');
      assert.equal(anonymous.status, 401, 'no consumer yet: key-auth answers');
      assert.equal((await upstreamSaw('/scoped/x', { apikey: 'alice-key' })).headers['x-consumer-username'], 'alice');
    });
  });

  describe('PRIORITY order on the wire', () => {
    it('cors (2000) runs before key-auth (1250): its headers are on the key-auth 401', async () => {
      const res = await send('/cors-auth/x', { origin: 'http://app.test' });
      assert.equal(res.status, 401);
      assert.equal(res.json<{ message: string }>().message, 'No API key found in request');
      assert.equal(res.headers['access-control-allow-origin'], 'http://app.test');
      const ok = await send('/cors-auth/x', { origin: 'http://app.test', apikey: 'bob-key' });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['access-control-allow-origin'], 'http://app.test');
    });

    it('request-termination (2) answers only after key-auth (1250) passed', async () => {
      const noKey = await send('/term-auth/x');
      assert.equal(noKey.status, 401);
      assert.equal(noKey.json<{ message: string }>().message, 'No API key found in request');
      const withKey = await send('/term-auth/x', { apikey: 'bob-key' });
      assert.equal(withKey.status, 418);
      assert.equal(withKey.json<{ message: string }>().message, 'terminated after auth');
    });
  });

  describe('an access phase that waits for the body', () => {
    function open(): Promise<Socket> {
      return new Promise((resolve, reject) => {
        const sock = connect({ port: gw.proxyPort, host: '127.0.0.1' });
        sock.once('connect', () => resolve(sock));
        sock.once('error', reject);
      });
    }

    it('a chunked body arriving slowly is collected for key_in_body and forwarded intact', async (t) => {
      const body = 'a=1&apikey=bob-key&' + 'pad=' + 'x'.repeat(20000) + '&z=%26end';
      const parts = [body.slice(0, 5), body.slice(5, 15), body.slice(15, 9000), body.slice(9000)];
      const sock = await open();
      t.after(() => sock.destroy());
      const received: Buffer[] = [];
      sock.on('data', (c: Buffer) => received.push(c));
      sock.write(
        'POST /body/slow HTTP/1.1\r\nHost: gw.test\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
          'Transfer-Encoding: chunked\r\n\r\n',
      );
      for (const p of parts) {
        // Pacing the client, not waiting for the gateway: each chunk is its own read on the worker.
        await delay(30);
        sock.write(`${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`);
      }
      sock.write('0\r\n\r\n');
      const res = await waitFor('the response', () => {
        const r = parseRawResponse(Buffer.concat(received));
        return r.complete ? r : undefined;
      });
      assert.equal(res.status, 200, res.body.toString());
      const seen = JSON.parse(res.body.toString()) as Seen;
      assert.equal(seen.url, '/slow');
      assert.equal(seen.headers['x-consumer-username'], 'bob');
      assert.equal(seen.body, body);
    });

    it('a client that leaves while the body is collected: the worker keeps serving, nothing in flight', async (t) => {
      const before = await inFlight();
      const upstreamBefore = up.requests.length;
      const sock = await open();
      t.after(() => sock.destroy());
      sock.on('error', () => {});
      sock.write(
        'POST /body/abandoned HTTP/1.1\r\nHost: gw.test\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
          'Content-Length: 100000\r\n\r\napikey=bob-key&pad=xxxx',
      );
      await waitFor('the request to be in flight', async () => (await inFlight()).server.requests_in_flight >= 1);
      sock.destroy();
      await waitFor('in-flight requests back to 0', async () => (await inFlight()).server.requests_in_flight === 0);
      // Every worker still answers (several fresh connections reach both), none restarted.
      for (let i = 0; i < 6; i++) assert.equal((await upstreamSaw('/scoped/x', { apikey: 'bob-key' })).headers['x-consumer-username'], 'bob');
      const afterStatus = await inFlight();
      assert.deepEqual(
        afterStatus.workers.map((w) => [w.pid, w.restarts]),
        before.workers.map((w) => [w.pid, w.restarts]),
      );
      assert.ok(!up.requests.slice(upstreamBefore).some((r) => r.url === '/abandoned'), 'the abandoned request never went upstream');
    });
  });

  it('a route without plugins: no consumer headers, no cors headers, nothing changed', async () => {
    const res = await send('/plain/x?a=1', { origin: 'http://app.test', apikey: 'bob-key', 'x-consumer-username': 'root' });
    assert.equal(res.status, 200, res.text);
    for (const name of Object.keys(res.headers)) assert.ok(!name.startsWith('access-control-'), name);
    const seen = res.json<Seen>();
    assert.equal(seen.url, '/x?a=1');
    assert.equal(seen.headers.apikey, 'bob-key');
    assert.equal(seen.headers['x-layer'], undefined);
    for (const name of Object.keys(seen.headers)) assert.ok(!name.startsWith('x-consumer-') && !name.startsWith('x-credential-'), name);
  });

  it('enabled: false instances do nothing, and do not shadow a less specific enabled one', async () => {
    const seen = await upstreamSaw('/disabled/x');
    assert.equal(seen.headers['x-consumer-id'], undefined, 'key-auth did not run');
    assert.equal(seen.headers['x-layer'], 'service', 'the service-level request-transformer applies');
  });
});
