/**
 * basic-auth through the real gateway (2 workers) to a real upstream, and several auth plugins on
 * one route: Kong's logical AND (no anonymous) and logical OR (anonymous on each, the anonymous
 * consumer turned away by a consumer-scoped request-termination, as Kong's docs describe).
 * Kong's cases from spec/03-plugins/10-basic-auth/03-access_spec.lua.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoRecord, type EchoServer } from '../../helpers/upstream';

const BOB_ID = '7c0d2a11-5b6e-4f70-9a81-000000000001';
const BOB_CRED = '7c0d2a11-5b6e-4f70-9a81-0000000000c1';
const ALICE_ID = '7c0d2a11-5b6e-4f70-9a81-000000000002';
const ALICE_KEY = '7c0d2a11-5b6e-4f70-9a81-0000000000c2';
const ANON_ID = '7c0d2a11-5b6e-4f70-9a81-000000000003';
const NOBODY_ID = '7c0d2a11-5b6e-4f70-9a81-000000000004';

const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

function config(upPort: number): object {
  const route = (name: string, plugins: object[]): object => ({ name, paths: [`/${name}`], plugins });
  const both = (anonymous?: string): object[] => [
    { name: 'key-auth', config: anonymous === undefined ? {} : { anonymous } },
    { name: 'basic-auth', config: anonymous === undefined ? {} : { anonymous } },
  ];
  return {
    _format_version: '3.0',
    consumers: [
      { id: BOB_ID, username: 'bob', basicauth_credentials: [{ id: BOB_CRED, username: 'bob', password: 'open sesame' }] },
      { id: ALICE_ID, username: 'alice', keyauth_credentials: [{ id: ALICE_KEY, key: 'alice-key' }] },
      { id: ANON_ID, username: 'anon' },
      {
        id: NOBODY_ID,
        username: 'nobody',
        plugins: [{ name: 'request-termination', config: { status_code: 401, message: 'Authentication required' } }],
      },
    ],
    services: [
      {
        name: 'up',
        url: `http://127.0.0.1:${upPort}`,
        routes: [
          route('ba', [{ name: 'basic-auth' }]),
          route('hide', [{ name: 'basic-auth', config: { hide_credentials: true } }]),
          route('realm', [{ name: 'basic-auth', config: { realm: 'hyper' } }]),
          route('and', both()),
          route('or', both('anon')),
          route('strict-or', both('nobody')),
        ],
      },
    ],
  };
}

// One gateway for both groups: a start costs about a second of a small machine.
let up: EchoServer;
let gw: Gateway;

before(async () => {
  up = await startEchoServer('echo-up');
  gw = await startGateway({ config: config(up.port) });
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

describe('basic-auth through the gateway', () => {
  const send = (path: string, headers: Record<string, string> = {}): Promise<HttpResult> => request(gw.proxyUrl + path, { headers });

  async function upstreamSaw(path: string, headers: Record<string, string> = {}): Promise<EchoRecord> {
    const res = await send(path, headers);
    assert.equal(res.status, 200, res.text);
    return res.json<EchoRecord>();
  }

  function assertUnauthorized(res: HttpResult, realm = 'service'): void {
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json<{ message: string }>().message, 'Unauthorized');
    assert.equal(res.headers['www-authenticate'], `Basic realm="${realm}"`);
  }

  it('the right password: 200, the consumer and credential headers upstream, Authorization kept', async () => {
    const seen = await upstreamSaw('/ba/x', { authorization: basic('bob', 'open sesame') });
    assert.equal(seen.headers['x-consumer-id'], BOB_ID);
    assert.equal(seen.headers['x-consumer-username'], 'bob');
    assert.equal(seen.headers['x-credential-identifier'], 'bob', 'Kong: the credential username');
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    assert.equal(seen.headers.authorization, basic('bob', 'open sesame'));
  });

  it('a wrong password, an unknown user, no header, another scheme: 401 Unauthorized with the challenge', async () => {
    assertUnauthorized(await send('/ba/x', { authorization: basic('bob', 'open sesame!') }));
    assertUnauthorized(await send('/ba/x', { authorization: basic('eve', 'open sesame') }));
    assertUnauthorized(await send('/ba/x'));
    assertUnauthorized(await send('/ba/x', { authorization: 'Bearer abc' }));
    assert.equal(up.requests.filter((r) => r.url === '/x' && r.headers['x-consumer-id'] === undefined).length, 0, 'nothing unauthenticated went upstream');
  });

  it('Proxy-Authorization is read too, and before Authorization', async () => {
    const seen = await upstreamSaw('/ba/x', { 'proxy-authorization': basic('bob', 'open sesame') });
    assert.equal(seen.headers['x-consumer-username'], 'bob');
    const res = await send('/ba/x', { 'proxy-authorization': basic('bob', 'wrong'), authorization: basic('bob', 'open sesame') });
    assertUnauthorized(res);
  });

  it('hide_credentials: the header that was read is not sent upstream', async () => {
    const seen = await upstreamSaw('/hide/x', { authorization: basic('bob', 'open sesame') });
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers['x-consumer-username'], 'bob');
    const viaProxy = await upstreamSaw('/hide/x', { 'proxy-authorization': basic('bob', 'open sesame') });
    assert.equal(viaProxy.headers['proxy-authorization'], undefined);
  });

  it('realm: WWW-Authenticate: Basic realm="hyper"', async () => {
    assertUnauthorized(await send('/realm/x'), 'hyper');
  });

  it('the same credentials again on a kept-alive path still authenticate, a wrong one after them still fails (the verified-value cache)', async () => {
    for (let i = 0; i < 3; i++) {
      const seen = await upstreamSaw('/ba/x', { authorization: basic('bob', 'open sesame') });
      assert.equal(seen.headers['x-consumer-username'], 'bob');
    }
    assertUnauthorized(await send('/ba/x', { authorization: basic('bob', 'nope') }));
  });
});

describe('several auth plugins on one route', () => {
  const send = (path: string, headers: Record<string, string> = {}): Promise<HttpResult> => request(gw.proxyUrl + path, { headers });
  const BOB = { authorization: basic('bob', 'open sesame') };
  const ALICE = { apikey: 'alice-key' };

  describe('logical AND (no anonymous): every plugin must pass', () => {
    it('both credentials: 200, the later plugin (basic-auth, priority 1100) sets the consumer last', async () => {
      const res = await send('/and/x', { ...BOB, ...ALICE });
      assert.equal(res.status, 200, res.text);
      const seen = res.json<EchoRecord>();
      assert.equal(seen.headers['x-consumer-username'], 'bob');
      assert.equal(seen.headers['x-credential-identifier'], 'bob', 'Kong: the credential username');
    });

    it('only one credential: 401 from the plugin whose credential is missing', async () => {
      const onlyKey = await send('/and/x', ALICE);
      assert.equal(onlyKey.status, 401);
      assert.equal(onlyKey.headers['www-authenticate'], 'Basic realm="service"');
      const onlyBasic = await send('/and/x', BOB);
      assert.equal(onlyBasic.status, 401);
      assert.equal(onlyBasic.json<{ message: string }>().message, 'No API key found in request');
    });
  });

  describe('logical OR (anonymous on each)', () => {
    it('the first credential only: that consumer, no X-Anonymous-Consumer', async () => {
      const res = await send('/or/x', ALICE);
      assert.equal(res.status, 200, res.text);
      const seen = res.json<EchoRecord>();
      assert.equal(seen.headers['x-consumer-id'], ALICE_ID);
      assert.equal(seen.headers['x-credential-identifier'], ALICE_KEY);
      assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    });

    it('the second credential only: the anonymous fallback of the first is replaced by that consumer', async () => {
      const res = await send('/or/x', BOB);
      assert.equal(res.status, 200, res.text);
      const seen = res.json<EchoRecord>();
      assert.equal(seen.headers['x-consumer-id'], BOB_ID);
      assert.equal(seen.headers['x-credential-identifier'], 'bob', 'Kong: the credential username');
      assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    });

    it('both credentials: the first plugin (key-auth, priority 1250) wins, the second does not run', async () => {
      const res = await send('/or/x', { ...BOB, ...ALICE });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json<EchoRecord>().headers['x-consumer-username'], 'alice');
    });

    it('neither: the anonymous consumer with X-Anonymous-Consumer: true', async () => {
      const res = await send('/or/x', { authorization: basic('bob', 'wrong'), apikey: 'wrong' });
      assert.equal(res.status, 200, res.text);
      const seen = res.json<EchoRecord>();
      assert.equal(seen.headers['x-consumer-id'], ANON_ID);
      assert.equal(seen.headers['x-anonymous-consumer'], 'true');
      assert.equal(seen.headers['x-credential-identifier'], undefined);
    });

    it("neither, the anonymous consumer terminated by its own request-termination: 401 (Kong's documented setup)", async () => {
      const before = up.requests.length;
      const res = await send('/strict-or/x');
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json<{ message: string }>().message, 'Authentication required');
      assert.equal(up.requests.length, before, 'nothing went upstream');
      const ok = await send('/strict-or/x', BOB);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json<EchoRecord>().headers['x-consumer-username'], 'bob');
    });
  });
});
